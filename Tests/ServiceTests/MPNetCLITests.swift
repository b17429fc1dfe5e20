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
    /// Rows of a little-endian float32 `.npy` matrix (what `embed` writes), read here without the
    /// NPY module, which this test target does not depend on.
    func readMatrix(_ url: URL) throws -> [[Float]] {
        let data = try Data(contentsOf: url)
        #expect(data.starts(with: [0x93] + Array("NUMPY".utf8)))
        let headerLength = Int(data[8]) | Int(data[9]) << 8
        let header = String(decoding: data[10..<(10 + headerLength)], as: UTF8.self)
        #expect(header.contains("'<f4'") && header.contains("'fortran_order': False"), "\(header)")
        let shape = try #require(header.split(separator: "(").last?.split(separator: ")").first)
            .split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        try #require(shape.count == 2)
        let body = data.dropFirst(10 + headerLength)
        try #require(body.count == shape[0] * shape[1] * 4)
        let values = body.withUnsafeBytes { raw in
            (0..<(shape[0] * shape[1])).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
        }
        return (0..<shape[0]).map { Array(values[($0 * shape[1])..<(($0 + 1) * shape[1])]) }
    }

    @Test func embedMatchesSentenceTransformers() throws {
        let model = try #require(RealMPNet.folder, "all-mpnet-base-v2 is required here but was not found")
        let url = RealTextModel.root.appendingPathComponent("Tests/TextEncodersTests/Fixtures/mpnet_reference.json")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        let sentences = try #require(json["sentences"] as? [String])
        let embeddings = try #require(json["embeddings"] as? [[NSNumber]]).map { $0.map(\.floatValue) }
        // One text per line: the sentences without line breaks or tabs, long ones (> 384 pieces) included.
        let picked = sentences.indices.filter { i in
            !sentences[i].contains { $0.isNewline || $0 == "\t" } && !sentences[i].trimmingCharacters(in: .whitespaces).isEmpty
        }
        #expect(picked.count >= 20)
        let dir = try TemporaryFolder()
        try (picked.map { sentences[$0] }.joined(separator: "\n") + "\n").write(to: dir.file("texts.txt"), atomically: true, encoding: .utf8)
        let r = try SiameseExecutable.run(["embed", "--model", model.path, "--input", dir.file("texts.txt").path,
                                           "--output", dir.file("e.npy").path, "--threads", "2", "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        let summary = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        #expect(summary?["dimension"] as? Int == 768 && summary?["rows"] as? Int == picked.count, "\(r.stdout)")
        let rows = try readMatrix(dir.file("e.npy"))
        #expect(rows.count == picked.count)
        for (row, i) in zip(rows, picked) {
            let ref = embeddings[i]
            let dot = zip(row, ref).map { Double($0) * Double($1) }.reduce(0, +)
            let norms = (row.map { Double($0 * $0) }.reduce(0, +) * ref.map { Double($0 * $0) }.reduce(0, +)).squareRoot()
            let diff = zip(row, ref).map { abs($0 - $1) }.max() ?? 1
            #expect(row.count == 768 && dot / norms >= 0.99999 && diff <= 1e-5, "sentence \(i): cosine \(dot / norms), max abs diff \(diff)")
        }
    }
}
