import Foundation
import Testing

/// `siamese store reembed` (issue 16): a store filled with one model moves to another; the
/// vectors are the new model's, its fingerprint is the new one's, and search works with the new
/// model (and refuses the old one).
@Suite("siamese store reembed", .enabled(if: RealTextModel.folder != nil && SiameseExecutable.url != nil, "all-MiniLM-L6-v2 or the executable not found (skipped, not passed)"))
struct StoreReembedTests {
    /// all-MiniLM-L6-v2 without its Normalize module: other vectors (not unit length) and another
    /// fingerprint, from the same weights (linked, not copied).
    static func unnormalizedCopy(of source: URL, into folder: URL) throws {
        let fm = FileManager.default
        try fm.createDirectory(at: folder, withIntermediateDirectories: true)
        for name in try fm.contentsOfDirectory(atPath: source.path) where name != "modules.json" && name != "2_Normalize" {
            try fm.createSymbolicLink(at: folder.appendingPathComponent(name), withDestinationURL: source.appendingPathComponent(name))
        }
        let modules = """
            [{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
             {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}]
            """
        try modules.write(to: folder.appendingPathComponent("modules.json"), atomically: true, encoding: .utf8)
    }

    static func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "not JSON: \(text)")
    }

    @Test func aStoreMovesToAnotherModelAndSearchFollows() throws {
        let dir = try TemporaryFolder()
        let minilm = try #require(RealTextModel.folder)
        let other = dir.file("minilm-raw")
        try Self.unnormalizedCopy(of: minilm, into: other)
        let texts = ["a cat sits on the mat", "the stock market fell today", "a kitten rests on a rug", "shares dropped sharply"]
        var jsonl = ""
        for (i, t) in texts.enumerated() { jsonl += "{\"id\": \"doc-\(i)\", \"text\": \"\(t)\"}\n" }
        try jsonl.write(to: dir.file("items.jsonl"), atomically: true, encoding: .utf8)
        let store = dir.file("items.sqlite").path
        let i = try SiameseExecutable.run(["store", "import", "--store", store, "--model", minilm.path, "--input", dir.file("items.jsonl").path])
        #expect(i.status == 0, "\(i.stderr)")

        let r = try SiameseExecutable.run(["store", "reembed", "--store", store, "--model", other.path, "--batch-size", "3", "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        let summary = try Self.json(r.stdout)
        #expect(summary["reembedded"] as? Int == 4)
        #expect(summary["fingerprint"] as? String != summary["previous_fingerprint"] as? String)

        // The stored vectors are the new model's: export them and compare with `embed`.
        let e = try SiameseExecutable.run(["store", "export", "--store", store, "--output", dir.file("out.jsonl").path])
        #expect(e.status == 0, "\(e.stderr)")
        try texts.joined(separator: "\n").write(to: dir.file("texts.txt"), atomically: true, encoding: .utf8)
        let m = try SiameseExecutable.run(["embed", "--model", other.path, "--input", dir.file("texts.txt").path, "--output", dir.file("e.npy").path])
        #expect(m.status == 0, "\(m.stderr)")
        let exported = try String(contentsOf: dir.file("out.jsonl"), encoding: .utf8).split(separator: "\n").map { try Self.json(String($0)) }
        let byID = Dictionary(uniqueKeysWithValues: exported.map { ($0["id"] as? String ?? "", ($0["vector"] as? [Double]) ?? []) })
        let npy = try Data(contentsOf: dir.file("e.npy"))
        let headerLength = Int(npy[8]) | Int(npy[9]) << 8
        let floats = npy.dropFirst(10 + headerLength).withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        let d = floats.count / texts.count
        for k in texts.indices {
            let stored = try #require(byID["doc-\(k)"])
            let expected = floats[(k * d)..<((k + 1) * d)].map(Double.init)
            #expect(stored.count == d)
            let norm = expected.reduce(0) { $0 + $1 * $1 }.squareRoot()
            #expect(abs(norm - 1) > 0.01, "the new model's vectors are not unit length")
            #expect(zip(stored, expected).allSatisfy { abs($0 - $1) <= 1e-4 * max(1, abs($1)) }, "doc-\(k)")
        }

        // Search follows the new model; the old one is refused, naming the way back.
        let s = try SiameseExecutable.run(["search", "--store", store, "--model", other.path, "--query", "a small cat", "--k", "2", "--format", "jsonl"])
        #expect(s.status == 0, "\(s.stderr)")
        #expect(s.stdout.contains("doc-0") && s.stdout.contains("doc-2"), "\(s.stdout)")
        let old = try SiameseExecutable.run(["search", "--store", store, "--model", minilm.path, "--query", "a small cat"])
        #expect(old.status != 0)
        #expect(old.stderr.contains("re-embed"), "\(old.stderr)")

        // Again with the same model: nothing to do.
        let again = try SiameseExecutable.run(["store", "reembed", "--store", store, "--model", other.path])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stdout.contains("nothing to do"), "\(again.stdout)")
    }
}
