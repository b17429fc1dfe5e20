import Foundation
import Testing

/// `siamese rerank` (issue 14) on the tiny cross-encoder fixture: sentence-transformers'
/// `CrossEncoder.predict` scores (Benchmarks/reference/cross_encoder_reference.py), one per
/// candidate line, in input order; text output best first; clear errors.
@Suite("siamese rerank", .enabled(if: SiameseExecutable.url != nil, "the siamese executable was not built"))
struct RerankCLITests {
    static let fixture = RealTextModel.root.appendingPathComponent("Tests/TextEncodersTests/Fixtures/cross-encoders/ce-bert-1")

    @Test func scoresMatchTheLibraryInInputOrder() throws {
        let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: Self.fixture.appendingPathComponent("reference.json"))) as? [String: Any])
        let pairs = try #require(json["pairs"] as? [[String]])
        let scores = try #require(json["scores"] as? [[NSNumber]]).map { $0[0].doubleValue }
        let query = pairs[0][0]
        let picked = pairs.indices.filter { pairs[$0][0] == query && !pairs[$0][1].isEmpty }
        let dir = try TemporaryFolder()
        try (picked.map { pairs[$0][1] }.joined(separator: "\n") + "\n").write(to: dir.file("c.txt"), atomically: true, encoding: .utf8)
        let r = try SiameseExecutable.run(["rerank", "--model", Self.fixture.path, "--query", query, "--candidates", dir.file("c.txt").path, "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        let out = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let got = try #require(out["scores"] as? [Double])
        #expect(got.count == picked.count)
        for (g, i) in zip(got, picked) { #expect(abs(g - scores[i]) <= 1e-5, "candidate \(i): \(g) vs \(scores[i])") }
        let ranking = try #require(out["ranking"] as? [Int])
        #expect(ranking == got.indices.sorted { got[$0] > got[$1] })
        // Text: best first, one line per candidate.
        let text = try SiameseExecutable.run(["rerank", "--model", Self.fixture.path, "--query", query, "--candidates", dir.file("c.txt").path, "--top", "2"])
        let lines = text.stdout.split(separator: "\n")
        #expect(text.status == 0 && lines.count == 2 && lines[0].hasSuffix(pairs[picked[ranking[0]]][1]), "\(text.stdout)")
        // Errors: a missing file (1), no candidates (1), a sentence encoder given as the model (1).
        let missing = try SiameseExecutable.run(["rerank", "--model", Self.fixture.path, "--query", "q", "--candidates", dir.file("nope.txt").path])
        #expect(missing.status == 1 && missing.stderr.contains("nope.txt"), "\(missing.stderr)")
        try "".write(to: dir.file("empty.txt"), atomically: true, encoding: .utf8)
        let empty = try SiameseExecutable.run(["rerank", "--model", Self.fixture.path, "--query", "q", "--candidates", dir.file("empty.txt").path])
        #expect(empty.status == 1 && empty.stderr.contains("holds no candidates"), "\(empty.stderr)")
        if let minilm = RealTextModel.folder {
            let wrong = try SiameseExecutable.run(["rerank", "--model", minilm.path, "--query", "q", "--candidates", dir.file("c.txt").path])
            #expect(wrong.status == 1 && wrong.stderr.contains("ForSequenceClassification"), "\(wrong.stderr)")
        }
    }
}
