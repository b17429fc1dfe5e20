import ArgumentParser
import Foundation
import VectorIndex

struct IndexCompactCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compact",
        abstract: "Reclaim an HNSW index's tombstones (relinks their neighbours, renumbers nodes).",
        discussion: HelpText.reflow("""
        Example:
          siamese index compact --index x.hnsw --threads 2
        """))

    @Option(help: ArgumentHelp("Index file to compact.", valueName: "index"))
    var index: String

    @OptionGroup var threading: ThreadsOption
    /// `--threads`, or nil for the default.
    var threads: Int? { threading.threads }

    @OptionGroup var formatting: FormatOption

    func validate() throws {
    }

    func run() throws {
        threading.apply()
        try runCatching {
            let info = try IndexFileInfo.read(path: index)
            guard case .hnsw(let graph) = try AnyIndex.load(index) else {
                formatting.emit(.object([("reclaimed", .int(0)), ("kind", .string(info.kind.name)), ("count", .int(info.count)), ("index", .string(index))])) {
                    "\(index) is a\(info.kind == .exact ? "n" : "") \(info.kind) index: removals are already compact"
                }
                return
            }
            let names = try IndexNames.read(path: index)
            let n = graph.compact()
            try graph.save(to: index, fingerprint: info.fingerprint, names: names)
            formatting.emit(.object([("reclaimed", .int(n)), ("kind", .string(info.kind.name)), ("count", .int(graph.count)), ("index", .string(index))])) {
                "reclaimed \(n) tombstones: \(graph.count) nodes in \(index)"
            }
        }
    }
}
