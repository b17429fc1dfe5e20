import Foundation
import Testing
@testable import TextEncoders

/// Cross-encoders (issue 14) against sentence-transformers' `CrossEncoder.predict` on the tiny
/// fixtures `Benchmarks/reference/cross_encoder_reference.py` builds (random BERT sequence
/// classifiers with wide weights, so that scores differ between pairs by far more than the
/// tolerance, and a WordPiece tokenizer trained on real text; pairs cut at 48 tokens).
@Suite struct CrossEncoderTests {
    static func fixture(_ name: String) -> URL { Reference.fixtures.appendingPathComponent("cross-encoders/\(name)") }

    static func reference(_ name: String) throws -> (pairs: [(String, String)], ids: [[Int]], scores: [[Float]], labels: Int) {
        let data = try Data(contentsOf: fixture(name).appendingPathComponent("reference.json"))
        let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let pairs = try #require(json["pairs"] as? [[String]]).map { ($0[0], $0[1]) }
        let ids = try #require(json["ids"] as? [[Int]])
        let scores = try #require(json["scores"] as? [[NSNumber]]).map { $0.map(\.floatValue) }
        return (pairs, ids, scores, try #require(json["labels"] as? Int))
    }

    @Test(arguments: ["ce-bert-1", "ce-bert-3"])
    func scoresMatchSentenceTransformers(name: String) throws {
        let ref = try Self.reference(name)
        let model = try CrossEncoder(folder: Self.fixture(name))
        #expect(model.labels == ref.labels && model.maxLength == 48)
        #expect(model.activation == (ref.labels == 1 ? .sigmoid : .identity))
        for ((a, b), ids) in zip(ref.pairs, ref.ids) { #expect(model.tokenize(a, b).ids == ids, "\(a) | \(b)") }
        #expect(ref.ids.contains { $0.count == 48 }, "a pair is cut at max_length")
        for batch in [1, 5, 64] {
            let ours = model.predict(ref.pairs, batchSize: batch)
            var worst: Float = 0
            for (o, r) in zip(ours, ref.scores) {
                #expect(o.count == r.count)
                for (x, y) in zip(o, r) { worst = max(worst, abs(x - y)) }
            }
            print("cross-encoder \(name) (batch \(batch)): max abs difference \(worst)")
            #expect(ours.count == ref.scores.count && worst <= 1e-5)
        }
        // The scores spread far wider than the tolerance (a model ignoring its input would fail).
        let firsts = ref.scores.map { $0[0] }
        #expect((firsts.max() ?? 0) - (firsts.min() ?? 0) > 0.1)
        // int8 stays within 5 % of the scores' spread (the logits of the three-label model span
        // about 5, the one-label probabilities about 0.3).
        let int8 = try CrossEncoder(folder: Self.fixture(name), precision: .int8).predict(ref.pairs)
        let gap = zip(int8, ref.scores).map { zip($0, $1).map { abs($0 - $1) }.max() ?? 1 }.max() ?? 1
        let all = ref.scores.flatMap { $0 }, spread = (all.max() ?? 0) - (all.min() ?? 0)
        print("cross-encoder \(name) int8: max abs difference \(gap) (spread \(spread))")
        #expect(gap <= 0.05 * spread)
    }

    @Test func clearErrors() throws {
        // A cross-encoder is not a sentence encoder, and the reverse.
        do {
            _ = try SentenceTransformer(folder: Self.fixture("ce-bert-1"))
            Issue.record("a cross-encoder loaded as a sentence encoder")
        } catch {
            #expect(error.message.contains("config.json: architectures: BertForSequenceClassification is a cross-encoder"), "\(error.message)")
        }
        // An activation the library names but this does not run names the file and the field.
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("siamese-ce-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.copyItem(at: Self.fixture("ce-bert-1"), to: folder)
        let st = folder.appendingPathComponent("config_sentence_transformers.json")
        var object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: st)) as? [String: Any])
        object["activation_fn"] = "torch.nn.modules.activation.Softsign"
        try JSONSerialization.data(withJSONObject: object).write(to: st)
        do {
            _ = try CrossEncoder(folder: folder)
            Issue.record("an unknown activation was accepted")
        } catch {
            #expect(error.message.contains("config_sentence_transformers.json: activation_fn: \"torch.nn.modules.activation.Softsign\" is not supported"), "\(error.message)")
        }
        // Identity named explicitly: the logits themselves (the sigmoid's inverse of the reference).
        object["activation_fn"] = CrossEncoder.Activation.identity.rawValue
        try JSONSerialization.data(withJSONObject: object).write(to: st)
        let ref = try Self.reference("ce-bert-1")
        let logits = try CrossEncoder(folder: folder).predict(ref.pairs).map { $0[0] }
        for (l, p) in zip(logits, ref.scores.map { $0[0] }) { #expect(abs(1 / (1 + exp(-l)) - p) <= 1e-5) }
        // A head of the wrong shape names the tensor.
        let config = folder.appendingPathComponent("config.json")
        var c = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: config)) as? [String: Any])
        c["id2label"] = ["0": "a", "1": "b"]
        c["label2id"] = ["a": 0, "b": 1]
        try JSONSerialization.data(withJSONObject: c).write(to: config)
        do {
            _ = try CrossEncoder(folder: folder)
            Issue.record("a two-label configuration over a one-label head was accepted")
        } catch {
            #expect(error.message.contains("model.safetensors: tensor classifier.weight has shape [1, 32], the configuration needs [2, 32]"), "\(error.message)")
        }
        // A sentence encoder is not a cross-encoder.
        if let minilm = MiniLM.folder {
            do {
                _ = try CrossEncoder(folder: minilm)
                Issue.record("a sentence encoder loaded as a cross-encoder")
            } catch {
                #expect(error.message.contains("architectures: a cross-encoder is a …ForSequenceClassification model"), "\(error.message)")
            }
        }
    }

    /// The one rerank ordering: scored candidates by descending score, ties in input order, then
    /// the unscored in input order, cut to `keep`.
    @Test func rankingOrdersScoresThenUnscored() {
        let scores: [Float?] = [0.2, nil, 0.9, 0.2, nil, -1, 0.9]
        #expect(CrossEncoder.ranking(scores) == [2, 6, 0, 3, 5, 1, 4])
        #expect(CrossEncoder.ranking(scores, keep: 3) == [2, 6, 0])
        #expect(CrossEncoder.ranking(scores, keep: 0).isEmpty)
        #expect(CrossEncoder.ranking([nil, nil]) == [0, 1])
        #expect(CrossEncoder.ranking([]).isEmpty)
    }
}
