import Foundation
import Siamese
import Tensors
import Testing
@testable import TextEncoders

/// The sentence-transformers losses of issue 16 in the text fine-tuning task, on the tiny model:
/// CachedMNRL's parameter gradients are MNRL's, every loss trains, and a model saved with a
/// truncation width (Matryoshka) reloads with it.
@Suite struct FineTuneLossTests {
    static let pairs = TrainingTests.pairs

    func triplets() -> TextPairDataset {
        TextPairDataset(kind: .triplets, examples: Self.pairs.map { .init(first: $0.0, second: $0.1) })
    }

    func scored() -> TextPairDataset {
        TextPairDataset(kind: .scored, examples: Self.pairs.enumerated().map { .init(first: $0.element.0, second: $0.element.1, target: Float($0.offset % 3) / 2) })
    }

    /// The parameters' gradients after one loss + backward on `batch`.
    func gradients(_ model: SentenceTransformer, _ task: TextPairTrainingTask, _ batch: TextPairTrainingTask.Batch) throws -> [Tensor] {
        for p in model.parameters { p.zeroGrad() }
        let loss = task.loss(model, batch)
        if let backward = loss.backward { try backward() } else { try loss.value.backward() }
        return model.parameters.map { $0.grad ?? Tensor.zeros($0.shape) }
    }

    /// GradCache: with mini-batches of 3 texts for a batch of 12 (6 anchors + 6 positives), the
    /// parameters get the gradients of plain MNRL on the whole batch (dropout off, so both see the
    /// same embeddings).
    @Test func cachedMNRLGradientsEqualPlainMNRL() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let model = try SentenceTransformer(folder: try TinyModel.write(to: dir.file("m")))
        model.isTraining = false
        let batch = TextPairTrainingTask.Batch(items: Array(0..<6), dropoutSeed: 0)
        let plain = try TextPairTrainingTask(data: triplets(), loss: .multipleNegativesRanking(MultipleNegativesRankingLoss()), batchSize: 6)
        let cached = try TextPairTrainingTask(data: triplets(), loss: .cachedMultipleNegativesRanking(
            CachedMultipleNegativesRankingLoss(MultipleNegativesRankingLoss(), miniBatchSize: 3)), batchSize: 6)
        let expected = try gradients(model, plain, batch)
        let got = try gradients(model, cached, batch)
        #expect(abs(cached.loss(model, batch).value.item - plain.loss(model, batch).value.item) < 1e-5)
        var worst = 0.0
        for (g, e) in zip(got, expected) {
            let scale = Double(max(1e-3, e.scalars.map(abs).max() ?? 0))
            worst = max(worst, Double(largestDifference(g, e)) / scale)
        }
        #expect(worst < 1e-4, "largest gradient difference relative to the tensor's largest entry: \(worst)")
        #expect(expected.contains { $0.scalars.contains { $0 != 0 } })
    }

    static let losses: [String] = ["cached-mnrl", "gist", "angle", "matryoshka-mnrl", "matryoshka-cosent"]

    /// Eight epochs on the tiny model lower each loss by a tenth, measured without dropout (for
    /// scored pairs on the whole data set, for in-batch negatives on two fixed batches of four).
    @Test(arguments: losses)
    func lossTrains(_ name: String) throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        // Without dropout: on this 16-wide model, training with dropout 0.1 does not lower the
        // clean in-batch losses at all (their gradients are checked with dropout in GradientTests);
        // what is tested here is that each loss's gradients drive learning.
        var options = TinyModel.Options()
        options.dropout = 0
        let model = try SentenceTransformer(folder: try TinyModel.write(to: dir.file("m"), options))
        var guide: SentenceTransformer? = nil
        let loss: TextPairTrainingTask.Loss
        switch name {
        case "cached-mnrl": loss = .cachedMultipleNegativesRanking(CachedMultipleNegativesRankingLoss(miniBatchSize: 3))
        case "gist":
            // A guide unlike the model (another seed), as a real guide is another model.
            var o = TinyModel.Options()
            o.seed = 99
            guide = try SentenceTransformer(folder: try TinyModel.write(to: dir.file("guide"), o))
            loss = .gistEmbed(GISTEmbedLoss(temperature: 0.05))
        case "angle": loss = .angle(AnglELoss())
        case "matryoshka-mnrl": loss = .matryoshka(MatryoshkaLoss(dimensions: [16, 8, 4]), inner: .multipleNegativesRanking(MultipleNegativesRankingLoss()))
        default: loss = .matryoshka(MatryoshkaLoss(dimensions: [16, 8]), inner: .coSENT(CoSENTLoss()))
        }
        let data = loss.kind == .triplets ? triplets() : scored()
        let task = try TextPairTrainingTask(data: data, loss: loss, batchSize: 4, guide: guide)
        // Without dropout; in-batch negatives on fixed batches of 4 (what training optimises: the
        // loss over all 8 pairs at once is another loss), scored pairs on the whole data set.
        let groups = loss.kind == .triplets ? [Array(0..<4), Array(4..<8)] : [Array(data.examples.indices)]
        func dataLoss() -> Float {
            model.isTraining = false
            return withoutGradients { groups.map { task.loss(model, .init(items: $0, dropoutSeed: 0)).value.item }.reduce(0, +) } / Float(groups.count)
        }
        let before = dataLoss()
        let summary = try Trainer(model: model, task: task,
                                  configuration: TrainingConfiguration(epochs: 8, batchSize: 4, learningRate: 3e-3, optimizer: .adamw, seed: 1)).fit()
        let after = dataLoss()
        print("\(name): loss on all pairs \(before) -> \(after); epochs \(summary.epochLosses)")
        #expect(summary.epochLosses.allSatisfy { $0.isFinite })
        #expect(after < 0.9 * before, "\(name): \(before) -> \(after); epochs \(summary.epochLosses)")
    }

    @Test func gistNeedsItsGuideAndOnlyIt() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let guide = try SentenceTransformer(folder: try TinyModel.write(to: dir.file("g")))
        #expect(throws: TextEncoderError.self) { try TextPairTrainingTask(data: triplets(), loss: .gistEmbed(GISTEmbedLoss()), batchSize: 4) }
        #expect(throws: TextEncoderError.self) {
            try TextPairTrainingTask(data: triplets(), loss: .multipleNegativesRanking(MultipleNegativesRankingLoss()), batchSize: 4, guide: guide)
        }
        let wrapped = TextPairTrainingTask.Loss.matryoshka(MatryoshkaLoss(dimensions: [16, 8]), inner: .gistEmbed(GISTEmbedLoss()))
        #expect(wrapped.needsGuide && wrapped.kind == .triplets)
        _ = try TextPairTrainingTask(data: triplets(), loss: wrapped, batchSize: 4, guide: guide)
    }

    /// truncate_dim: encode keeps the renormalised prefix, the width is saved in
    /// config_sentence_transformers.json and honoured on load; a bad value names file and field.
    @Test func truncatedModelSavesAndReloads() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let model = try SentenceTransformer(folder: try TinyModel.write(to: dir.file("m")))
        let full = model.encode(TinyModel.sentences)
        model.truncateDimension = 8
        #expect(model.dimension == 8 && model.fullDimension == 16)
        let cut = model.encode(TinyModel.sentences)
        #expect(cut.shape == [TinyModel.sentences.count, 8])
        let expected = full.slice(axis: 1, 0..<8).l2Normalized()
        #expect(largestDifference(cut, expected) < 1e-6)
        try model.save(to: dir.file("cut"))
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.file("cut/config_sentence_transformers.json"))) as? [String: Any]
        #expect(config?["truncate_dim"] as? Int == 8)
        let reloaded = try SentenceTransformer(folder: dir.file("cut"))
        #expect(reloaded.truncateDimension == 8)
        #expect(largestDifference(reloaded.encode(TinyModel.sentences), cut) < 1e-6)
        // Back to full width: the key goes.
        reloaded.truncateDimension = nil
        try reloaded.save(to: dir.file("full"))
        #expect(try SentenceTransformer(folder: dir.file("full")).dimension == 16)

        for value in ["64", "\"8\"", "0"] {
            try Data("{\"truncate_dim\": \(value)}".utf8).write(to: dir.file("cut/config_sentence_transformers.json"))
            do {
                _ = try SentenceTransformer(folder: dir.file("cut"))
                Issue.record("truncate_dim \(value) was accepted")
            } catch {
                #expect(error.description.contains("config_sentence_transformers.json: truncate_dim: must be an integer in 1...16"), "\(error)")
            }
        }
    }
}

/// The largest absolute difference of two tensors of one shape.
private func largestDifference(_ a: Tensor, _ b: Tensor) -> Float {
    guard a.shape == b.shape else { return .infinity }
    return zip(a.scalars, b.scalars).map { abs($0 - $1) }.max() ?? 0
}
