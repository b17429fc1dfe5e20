import Foundation
import Testing

/// `siamese embed --model DIR` on the tiny RoBERTa and XLM-RoBERTa folders of the TextEncoders
/// fixtures (issue 14; Benchmarks/reference/roberta_reference.py): the executable, given a text
/// file, writes the embeddings sentence-transformers computed. The folders are committed, so this
/// runs wherever the executable was built.
@Suite("siamese embed on RoBERTa-family folders",
       .enabled(if: SiameseExecutable.url != nil, "the siamese executable was not found (skipped, not passed)"))
struct RobertaCLITests {
    @Test(arguments: ["tiny-roberta", "tiny-xlm-roberta"])
    func embedMatchesSentenceTransformers(_ name: String) throws {
        let model = RealTextModel.root.appendingPathComponent("Tests/TextEncodersTests/Fixtures/\(name)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: model.appendingPathComponent("reference.json")))
            as? [String: Any])
        let sentences = try #require(json["sentences"] as? [String])
        let embeddings = try #require(json["embeddings"] as? [[NSNumber]]).map { $0.map(\.floatValue) }
        // One text per line: the sentences without line breaks or tabs (the truncated ones included).
        let picked = sentences.indices.filter { i in
            !sentences[i].contains { $0.isNewline || $0 == "\t" } && !sentences[i].trimmingCharacters(in: .whitespaces).isEmpty
        }
        #expect(picked.count >= 20)
        let dir = try TemporaryFolder()
        try (picked.map { sentences[$0] }.joined(separator: "\n") + "\n").write(to: dir.file("texts.txt"), atomically: true, encoding: .utf8)
        let r = try SiameseExecutable.run(["embed", "--model", model.path, "--input", dir.file("texts.txt").path,
                                           "--output", dir.file("e.npy").path, "--threads", "2", "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        let summary = (try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8))) as? [String: Any]
        #expect(summary?["dimension"] as? Int == 32 && summary?["rows"] as? Int == picked.count, "\(r.stdout)")
        // The same .npy reader as the MPNet command-line test.
        let rows = try MPNetCLITests().readMatrix(dir.file("e.npy"))
        #expect(rows.count == picked.count)
        for (row, i) in zip(rows, picked) {
            let ref = embeddings[i]
            let dot = zip(row, ref).map { Double($0) * Double($1) }.reduce(0, +)
            let norms = (row.map { Double($0 * $0) }.reduce(0, +) * ref.map { Double($0 * $0) }.reduce(0, +)).squareRoot()
            let diff = zip(row, ref).map { abs($0 - $1) }.max() ?? 1
            #expect(row.count == 32 && dot / norms >= 0.99999 && diff <= 1e-5, "sentence \(i): cosine \(dot / norms), max abs diff \(diff)")
        }
    }
}
