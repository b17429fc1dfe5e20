import ArgumentParser
import Foundation
import VectorIndex

/// `siamese index …`: build, change and inspect index files.
struct IndexCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "index",
        abstract: "Build, change and inspect vector index files (exact, HNSW, int8, binary).",
        discussion: HelpText.reflow("""
        Index files hold a header (magic number, format version, kind, metric, dimension), a checksum per section, and are written atomically (temporary file, fsync, rename). Loading checks every size and link first, so a damaged file gives an error, never a crash.

        Example:
          siamese index build --vectors x.npy --output x.hnsw --metric cosine --hnsw --m 16 --ef-construction 200
          siamese index add --index x.hnsw --vectors more.npy
          siamese index remove --index x.hnsw --ids 3,17
          siamese index compact --index x.hnsw
          siamese index info --index x.hnsw
        """),
        subcommands: [IndexBuildCommand.self, IndexAddCommand.self, IndexRemoveCommand.self, IndexCompactCommand.self, IndexInfoCommand.self]
    )
}
