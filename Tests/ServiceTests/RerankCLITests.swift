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

/// `siamese search --store … --rerank CE --rerank-k N`: the store's hits reordered by the
/// cross-encoder (the same scores as `siamese rerank`), the best `--k` kept.
@Suite("siamese search --rerank", .enabled(if: RealTextModel.folder != nil && SiameseExecutable.url != nil, "all-MiniLM-L6-v2 or the executable not found (skipped, not passed)"))
struct SearchRerankCLITests {
    @Test func rerankedStoreSearch() throws {
        let model = try #require(RealTextModel.folder)
        let dir = try TemporaryFolder()
        let texts = ["lossless data compressor based on the LZMA algorithm", "Python 3 bindings for the IPA library",
                     "PostgreSQL extension for vector similarity search", "command-line tool for transferring data with URL syntax",
                     "GNU C Library: Shared libraries"]
        let lines = try texts.enumerated().map { i, t in
            String(decoding: try JSONSerialization.data(withJSONObject: ["id": "t\(i)", "text": t]), as: UTF8.self)
        }
        try (lines.joined(separator: "\n") + "\n").write(to: dir.file("items.jsonl"), atomically: true, encoding: .utf8)
        let store = dir.file("s.sqlite").path
        #expect(try SiameseExecutable.run(["store", "import", "--store", store, "--model", model.path, "--input", dir.file("items.jsonl").path]).status == 0)
        try (texts.joined(separator: "\n") + "\n").write(to: dir.file("c.txt"), atomically: true, encoding: .utf8)
        let query = "how do I compress files"
        let r = try SiameseExecutable.run(["rerank", "--model", RerankCLITests.fixture.path, "--query", query, "--candidates", dir.file("c.txt").path, "--format", "json"])
        let scores = try #require((try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])?["scores"] as? [Double], "\(r.stdout) \(r.stderr)")
        let s = try SiameseExecutable.run(["search", "--store", store, "--model", model.path, "--query", query, "--k", "3",
                                           "--rerank", RerankCLITests.fixture.path, "--rerank-k", "5", "--format", "json"])
        #expect(s.status == 0, "\(s.stderr)")
        let hits = try #require((try JSONSerialization.jsonObject(with: Data(s.stdout.utf8)) as? [String: Any])?["hits"] as? [[String: Any]], "\(s.stdout)")
        let expected = scores.indices.sorted { scores[$0] > scores[$1] }.prefix(3).map { "t\($0)" }
        #expect(hits.map { $0["id"] as? String ?? "" } == expected)
        for hit in hits {
            let i = Int((hit["id"] as? String ?? "t0").dropFirst())!
            #expect(abs((hit["rerank_score"] as? Double ?? 9) - scores[i]) <= 1e-6)
        }
        let bad = try SiameseExecutable.run(["search", "--store", store, "--model", model.path, "--query", query, "--rerank-k", "5"])
        #expect(bad.status == 2 && bad.stderr.contains("--rerank-k goes with --rerank"), "\(bad.stderr)")
    }
}
