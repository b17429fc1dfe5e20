import Foundation
import Testing
import NN
@testable import Siamese
import Tensors

/// The pytorch-metric-learning losses train an encoder through the ``Trainer``: the pair losses in
/// m-per-class batches (``PairMetricTask``), the class-vector losses with their vectors optimised
/// and checkpointed beside the network (``ClassWeightTask``, ``NetworkWithClassWeights``).
@Suite struct MetricLossTrainingTests {
    static func network(seed: UInt64 = 1) -> SiameseNetwork {
        SiameseNetwork(encoder: EncoderConfiguration.mlp(MLPConfiguration(layers: [10, 32], embeddingDimension: 8)).makeEncoder(seed: seed))
    }

    static func withClassWeights(_ classes: Int, seed: UInt64 = 1) -> NetworkWithClassWeights {
        var g = SeededGenerator(seed: seed &+ 100)
        return NetworkWithClassWeights(network: network(seed: seed),
                                       classWeights: ClassWeights(classes: classes, dimension: 8, initialization: .normal, generator: &g))
    }

    @Test("training improves held-out separation", arguments: ["multi-similarity", "ms-mined", "circle", "supcon", "arcface", "cosface", "proxy-anchor"])
    func trainingImprovesSeparation(_ kind: String) throws {
        let data = try clusteredData(classes: 8, perClass: 24, dimension: 10, noise: 1.0, seed: 11)
        let (train, test) = try data.split(fraction: 0.7, seed: 12)
        // The class-vector losses learn the vectors at the encoder's learning rate (the Proxy-Anchor
        // paper raises it 100-fold for the proxies): they get more epochs.
        let classVectors = ["arcface", "cosface", "proxy-anchor"].contains(kind)
        let config = TrainingConfiguration(epochs: classVectors ? 15 : 6, batchSize: 32, learningRate: 3e-3, seed: 13)
        let net: SiameseNetwork
        let summary: TrainingSummary
        switch kind {
        case "multi-similarity", "ms-mined", "circle", "supcon":
            net = Self.network()
            let loss: PairMetricTask.Loss = switch kind {
            case "multi-similarity": .multiSimilarity(MultiSimilarityLoss())
            case "ms-mined": .multiSimilarity(MultiSimilarityLoss(miner: MultiSimilarityMiner()))
            case "circle": .circle(CircleLoss())
            default: .supCon(SupConLoss())
            }
            summary = try Trainer(model: net, task: PairMetricTask(data: train, loss: loss, batchSize: 32), configuration: config).fit()
        default:
            let model = Self.withClassWeights(8)
            net = model.network
            let loss: ClassWeightTask.Loss = switch kind {
            case "arcface": .arcFace(ArcFaceLoss())
            case "cosface": .cosFace(CosFaceLoss())
            default: .proxyAnchor(ProxyAnchorLoss())
            }
            let before = model.classWeights.weight.value.scalars
            summary = try Trainer(model: model, task: ClassWeightTask(data: train, loss: loss, batchSize: 32), configuration: config).fit()
            #expect(model.classWeights.weight.value.scalars != before, "\(kind): the class vectors were not trained")
        }
        let before = pairAUC(Self.network().embedAll(test.features), labels: test.labels)
        let after = pairAUC(net.embedAll(test.features), labels: test.labels)
        #expect(summary.epochLosses.count == config.epochs && summary.epochLosses.allSatisfy { $0.isFinite })
        #expect(summary.epochLosses.last! < summary.epochLosses.first!, "\(kind): \(summary.epochLosses)")
        #expect(after > before + 0.04, "\(kind): AUC \(before) → \(after)")
    }

    /// The class vectors are part of the checkpoint: a run resumed from its first epoch's
    /// checkpoint ends with exactly the network and class vectors of an uninterrupted run.
    @Test func classVectorsAreCheckpointedAndResumedExactly() throws {
        let data = try clusteredData(classes: 5, perClass: 12, dimension: 10, seed: 16)
        let config = TrainingConfiguration(epochs: 3, batchSize: 16, learningRate: 2e-3, seed: 17, keepCheckpoints: 50)
        let task = try ClassWeightTask(data: data, loss: .arcFace(ArcFaceLoss()), batchSize: 16)
        let straight = Self.withClassWeights(5)
        try Trainer(model: straight, task: task, configuration: config).fit(resume: false)

        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Trainer(model: Self.withClassWeights(5), task: task, configuration: config, checkpointDirectory: dir).fit()
        let all = CheckpointDirectory(dir).checkpoints()
        #expect(all.count == 3)
        for c in all.dropFirst() { try FileManager.default.removeItem(at: c) }
        let resumed = Self.withClassWeights(5, seed: 99)
        let summary = try Trainer(model: resumed, task: task, configuration: config, checkpointDirectory: dir).fit()
        #expect(summary.resumedFrom == all[0])
        #expect(resumed.namedParameters.map(\.name).contains("class_weights.weight"))
        for (a, b) in zip(straight.parameters, resumed.parameters) { #expect(a.value.scalars == b.value.scalars) }
    }

    /// `learningRateScale` on the class vectors (`train --class-learning-rate-scale`): after one
    /// Adam step they have moved 100 times as far, and the encoder exactly as far as without it.
    @Test func classVectorsLearnAtTheirOwnRate() throws {
        let data = try clusteredData(classes: 4, perClass: 8, dimension: 10, seed: 21)
        let config = TrainingConfiguration(epochs: 1, batchSize: 32, learningRate: 1e-3, seed: 22)
        var moved: [Float] = [], encoders: [[[Float]]] = []
        for scale: Float in [1, 100] {
            let model = Self.withClassWeights(4)
            model.classWeights.weight.learningRateScale = scale
            let before = model.classWeights.weight.value.scalars
            let task = try ClassWeightTask(data: data, loss: .proxyAnchor(ProxyAnchorLoss()), batchSize: 32)
            try Trainer(model: model, task: task, configuration: config).fit(resume: false)
            moved.append(zip(model.classWeights.weight.value.scalars, before).map { abs($0 - $1) }.max() ?? 0)
            encoders.append(model.network.parameters.map(\.value.scalars))
        }
        #expect(moved[0] > 0 && abs(moved[1] / moved[0] - 100) < 2, "largest class-vector step \(moved)")
        #expect(encoders[0] == encoders[1], "the encoder's step does not depend on the class vectors' rate")
    }

    @Test func tooFewClassVectorsIsAnError() throws {
        let data = try clusteredData(classes: 4, perClass: 3, dimension: 10, seed: 1)
        let task = try ClassWeightTask(data: data, loss: .cosFace(CosFaceLoss()), batchSize: 4)
        #expect(throws: TrainingError.self) { try task.batches(epoch: 0, seed: 0, model: Self.withClassWeights(3)) }
    }
}
