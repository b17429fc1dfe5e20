import Evaluation
import Foundation
import Siamese
import Tensors

/// The demo's trained example: synthetic "handwriting" where each writer has a style vector in a
/// small latent space, seen through a fixed random nonlinear map, plus loud nuisance features.
/// Raw cosine similarity is fooled by the nuisance; a trained twin encoder learns to ignore it.
struct DemoTraining {
    let epochs: Int
    var strategy: TripletMiningStrategy = .batchAll
    let seed: UInt64
    let writers = 24, samplesPerWriter = 40, latent = 6, signal = 24, nuisance = 16

    func makeData() throws -> FeatureDataset {
        var g = SeededGenerator(seed: seed)
        let mixing = Tensor.randomNormal([latent, signal], std: 1 / Float(latent).squareRoot(), generator: &g)
        let styles = Tensor.randomNormal([writers, latent], generator: &g)
        var rows: [Float] = [], labels: [Int] = []
        for w in 0..<writers {
            for _ in 0..<samplesPerWriter {
                let z = Tensor((0..<latent).map { styles[w, $0] + 0.35 * g.nextNormal() }).reshaped([1, latent])
                rows += (z.matmul(mixing) * 2).tanh().scalars
                rows += (0..<nuisance).map { _ in 1.5 * g.nextNormal() }
                labels.append(w)
            }
        }
        return try FeatureDataset(features: Tensor(shape: [labels.count, signal + nuisance], rows), labels: labels)
    }

    func run() throws {
        let data = try makeData()
        let trainWriters = 16
        let train = try data.filter { $0 < trainWriters }, test = try data.filter { $0 >= trainWriters }
        print("data: \(writers) synthetic writers × \(samplesPerWriter) samples, \(signal + nuisance) features (\(nuisance) of them nuisance)")
        print("      train on writers 1–\(trainWriters), evaluate on \(writers - trainWriters) writers never seen in training")

        let config = MLPConfiguration(layers: [signal + nuisance, 64, 64], embeddingDimension: 16)
        let model = SiameseNetwork(encoder: EncoderConfiguration.mlp(config).makeEncoder(seed: seed), distance: .cosine)
        print("model: twin MLP \(config.layers.map(String.init).joined(separator: "→"))→\(config.embeddingDimension), L2-normalised, cosine similarity")
        print("loss:  \(strategy.rawValue) triplet (margin 0.3, cosine), 4 samples per writer per batch, Adam 1e-3, \(epochs) epochs")

        let before = try evaluate(model, test, raw: true)
        let task = try BatchMiningTask(data: train, loss: BatchTripletLoss(strategy: strategy, margin: 0.3, distance: .cosine),
                                       batchSize: 64, itemsPerClass: 4)
        let trainer = try Trainer(model: model, task: task,
                                  configuration: TrainingConfiguration(epochs: epochs, batchSize: 64, learningRate: 1e-3, seed: seed))
        trainer.onEpochEnd = { report in
            if report.epoch == 0 || (report.epoch + 1) % 5 == 0 || report.epoch + 1 == epochs {
                print(String(format: "  epoch %2d/%d  loss %.4f", report.epoch + 1, epochs, report.meanLoss))
            }
            for w in report.warnings { print("  warning: \(w)") }
        }
        let summary = try trainer.fit()
        let after = try evaluate(model, test, raw: false)
        print(String(format: "trained: %d steps in %.2f s (%.0f steps/s)", summary.steps, summary.seconds, summary.stepsPerSecond))
        print("")
        print("on unseen writers           raw features   trained twin")
        print(String(format: "  verification AUC           %6.3f         %6.3f", before.auc, after.auc))
        print(String(format: "  equal-error rate           %6.3f         %6.3f", before.eer, after.eer))
        print(String(format: "  retrieval precision@1      %6.3f         %6.3f", before.p1, after.p1))
        print(String(format: "  MAP@R                      %6.3f         %6.3f", before.mapAtR, after.mapAtR))
        print(String(format: "  5-way 1-shot accuracy      %6.3f         %6.3f", before.oneShot, after.oneShot))
        print("")
        print("calibrated decision rule (trained twin): \(after.threshold)")
    }

    struct Result { var auc, eer, p1, mapAtR, oneShot: Double; var threshold: String }

    func evaluate(_ model: SiameseNetwork, _ data: FeatureDataset, raw: Bool) throws -> Result {
        let embeddings = raw ? data.features : model.embedAll(data.features)
        let sims = Tensor.pairwiseCosineSimilarity(embeddings, embeddings)
        var scores: [Double] = [], same: [Bool] = []
        for i in 0..<data.count {
            for j in (i + 1)..<data.count {
                scores.append(Double(sims[i, j]))
                same.append(data.labels[i] == data.labels[j])
            }
        }
        let report = try VerificationReport.evaluate(try ScoredPairs(scores: scores, labels: same),
                                                     options: .init(direction: .higherIsSame, rule: .targetFAR(0.01)))
        let matrix = try EmbeddingMatrix(rows: data.count, dim: embeddings.shape[1], values: embeddings.scalars)
        let retrieval = try Retrieval.leaveOneOut(matrix, labels: data.labels)
        let fewShot = try FewShot.evaluate(matrix, labels: data.labels, ways: 5, shots: 1, seed: seed)
        let op = report.operatingPoint
        let far = op.counts.far ?? 0, frr = op.counts.frr ?? 0
        let threshold = String(format: "same when cosine ≥ %.3f (FAR %.2f%%, FRR %.1f%%, chosen for FAR ≤ 1%%)", op.threshold, 100 * far, 100 * frr)
        return Result(auc: report.auc, eer: report.eer.rate, p1: retrieval.precisionAt1, mapAtR: retrieval.mapAtR,
                      oneShot: fewShot.accuracy, threshold: threshold)
    }
}
