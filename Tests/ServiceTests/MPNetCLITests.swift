import Foundation
import Testing

/// Where all-mpnet-base-v2 is for the command-line tests: `$SIAMESE_MPNET_DIR`, else the cache of
/// scripts/fetch_mpnet.sh. Inside the test command (SIAMESE_REQUIRE_MPNET=1 or SIAMESE_MPNET_DIR
/// set) a missing folder fails instead of skipping.
enum RealMPNet {
    static let environment = ProcessInfo.processInfo.environment

    static let folder: URL? = {
        let dir = environment["SIAMESE_MPNET_DIR"].flatMap { $0.isEmpty ? nil : URL(fileURLWithPath: $0) }
            ?? RealTextModel.root.appendingPathComponent("Benchmarks/data/models/all-mpnet-base-v2")
        return FileManager.default.fileExists(atPath: dir.appendingPathComponent("modules.json").path) ? dir : nil
    }()

    static var required: Bool {
        environment["SIAMESE_REQUIRE_MPNET"] == "1" || !(environment["SIAMESE_MPNET_DIR"] ?? "").isEmpty
    }
}

/// `siamese embed --model all-mpnet-base-v2` (issue 14): the executable, given a text file, writes
/// the embeddings sentence-transformers computes (the TextEncoders fixture of
/// Benchmarks/reference/mpnet_reference.py).
@Suite("siamese embed on all-mpnet-base-v2",
       .enabled(if: (RealMPNet.folder != nil || RealMPNet.required) && SiameseExecutable.url != nil,
                "all-mpnet-base-v2 (scripts/fetch_mpnet.sh) or the executable not found (skipped, not passed)"))
struct MPNetCLITests {
    @Test func embedMatchesSentenceTransformers() throws {
        let model = try #require(RealMPNet.folder, "all-mpnet-base-v2 is required here but was not found")
        try expectEmbedMatchesReference(model: model, width: 768,
                                        reference: RealTextModel.root.appendingPathComponent("Tests/TextEncodersTests/Fixtures/mpnet_reference.json"))
    }
}
