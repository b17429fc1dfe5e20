import Foundation
import Siamese
import Tensors
import Testing
@testable import TextEncoders

/// Unsupervised SimCSE (issue 15): a sentence is its own positive, and the two views differ only
/// by dropout — so the same text twice in one training batch must get two different embeddings,
/// and the same embedding at inference.
@Suite struct SimCSETests {
    @Test func examplesPairEachDistinctSentenceWithItself() throws {
        let d = try TextPairDataset(simCSE: ["a cat sits", "", "  ", "the market fell", "a cat sits", "shares dropped"])
        #expect(d.kind == .triplets)
        #expect(d.examples.map(\.first) == ["a cat sits", "the market fell", "shares dropped"])
        #expect(d.examples.allSatisfy { $0.second == $0.first && $0.negative == nil })
        #expect(throws: TextEncoderError.self) { try TextPairDataset(simCSE: ["only one", "only one", ""]) }
        do {
            _ = try TextPairDataset(simCSE: ["x"])
            Issue.record("one sentence was accepted")
        } catch {
            #expect(error.message.contains("at least two distinct"), "\(error.message)")
        }
    }

    /// The premise of the method: in training mode each row draws its own dropout mask.
    @Test func dropoutMakesTwoViewsOfOneSentence() throws {
        let model = try RobertaFixture(name: "tiny-roberta").model()
        let texts = ["a small model of a sentence", "a small model of a sentence"]
        func cosine(_ e: Tensor) -> Double {
            let a = e.slice(axis: 0, 0..<1).scalars, b = e.slice(axis: 0, 1..<2).scalars
            return zip(a, b).map { Double($0) * Double($1) }.reduce(0, +)
                / (a.map { Double($0 * $0) }.reduce(0, +) * b.map { Double($0 * $0) }.reduce(0, +)).squareRoot()
        }
        model.isTraining = true
        let training = cosine(model.embed(texts))
        model.isTraining = false
        let inference = model.embed(texts)
        #expect(training < 0.9999, "two training-mode views of one sentence are identical (cosine \(training)): dropout is not per row")
        #expect(inference.slice(axis: 0, 0..<1).scalars == inference.slice(axis: 0, 1..<2).scalars)
    }

    /// A SimCSE batch's loss is cross-entropy over 20 × cosine between the first and the second
    /// dropout view of every sentence, the diagonal being the target — recomputed here in Double
    /// from the same two views (the step's dropout seed drawing the same masks again).
    @Test func batchLossIsInBatchCrossEntropyOverTheTwoViews() throws {
        let fixture = RobertaFixture(name: "tiny-roberta")
        let model = try fixture.model()
        let sentences = Array(try fixture.sentences().filter { !$0.allSatisfy(\.isWhitespace) }.prefix(8))
        let task = try TextPairTrainingTask(data: TextPairDataset(simCSE: sentences),
                                            loss: .multipleNegativesRanking(MultipleNegativesRankingLoss(scale: 20)), batchSize: 8)
        let batch = try #require(try task.batches(epoch: 0, seed: 0, model: model).first)
        #expect(batch.items.count == sentences.count)
        model.isTraining = true
        let loss = Double(task.loss(model, batch).value.scalars[0])
        // The task seeds the step's masks from the plan: the same seed draws the same masks here.
        model.bert.dropoutGenerator = SeededGenerator(seed: batch.dropoutSeed)
        let ordered = batch.items.map { sentences[$0] }
        let e = model.embed(ordered + ordered)
        let n = ordered.count, d = e.shape[1], v = e.scalars.map(Double.init)
        func row(_ i: Int) -> ArraySlice<Double> { v[(i * d)..<((i + 1) * d)] }
        func cos(_ a: Int, _ b: Int) -> Double {
            let x = row(a), y = row(b)
            return zip(x, y).map(*).reduce(0, +) / (x.map { $0 * $0 }.reduce(0, +) * y.map { $0 * $0 }.reduce(0, +)).squareRoot()
        }
        var expected = 0.0
        for i in 0..<n {
            let logits = (0..<n).map { 20 * cos(i, n + $0) }
            let m = logits.max()!
            expected += m + log(logits.map { exp($0 - m) }.reduce(0, +)) - logits[i]
        }
        expected /= Double(n)
        #expect(abs(loss - expected) <= 1e-4 * max(1, expected), "task loss \(loss), recomputed \(expected)")
        // The two views differ (dropout), so the positive is not trivially the best match.
        #expect((0..<n).contains { cos($0, n + $0) < 0.9999 })
    }
}
