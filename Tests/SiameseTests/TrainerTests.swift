import Foundation
import Testing
import NN
@testable import Siamese
import Tensors

@Suite struct TrainerTests {
    func model(seed: UInt64 = 1) -> SiameseNetwork {
        SiameseNetwork(encoder: EncoderConfiguration.mlp(MLPConfiguration(layers: [10, 32], embeddingDimension: 8)).makeEncoder(seed: seed))
    }

    @Test(arguments: ["contrastive", "online", "triplet", "mined", "batch-hard", "mnrl"])
    func trainingImprovesHeldOutSeparation(_ kind: String) throws {
        let data = try clusteredData(classes: 8, perClass: 24, dimension: 10, noise: 1.0, seed: 11)
        let (train, test) = try data.split(fraction: 0.7, seed: 12)
        let net = model()
        let before = pairAUC(net.embedAll(test.features), labels: test.labels)
        let config = TrainingConfiguration(epochs: 6, batchSize: 32, learningRate: 3e-3, seed: 13)
        let summary: TrainingSummary
        switch kind {
        case "contrastive": summary = try Trainer(model: net, task: PairTrainingTask(data: train, loss: .contrastive(ContrastiveLoss()), batchSize: 32), configuration: config).fit()
        case "online": summary = try Trainer(model: net, task: PairTrainingTask(data: train, loss: .onlineContrastive(OnlineContrastiveLoss()), batchSize: 32), configuration: config).fit()
        case "triplet": summary = try Trainer(model: net, task: TripletTrainingTask(data: train, loss: TripletMarginLoss(margin: 0.3, distance: .cosine), batchSize: 32), configuration: config).fit()
        case "mined": summary = try Trainer(model: net, task: TripletTrainingTask(data: train, loss: TripletMarginLoss(margin: 0.3, distance: .cosine), batchSize: 32, miner: HardNegativeMiner(rankRange: 0..<10, refreshEvery: 2)), configuration: config).fit()
        case "batch-hard": summary = try Trainer(model: net, task: BatchMiningTask(data: train, loss: BatchTripletLoss(strategy: .batchHard, margin: 0.3, distance: .cosine), batchSize: 32), configuration: config).fit()
        default: summary = try Trainer(model: net, task: InBatchNegativesTask(data: train, loss: MultipleNegativesRankingLoss(), batchSize: 16), configuration: config).fit()
        }
        let after = pairAUC(net.embedAll(test.features), labels: test.labels)
        #expect(summary.epochLosses.count == 6)
        #expect(summary.epochLosses.last! < summary.epochLosses.first!, "\(kind): \(summary.epochLosses)")
        #expect(after > before + 0.04, "\(kind): AUC \(before) → \(after)")
    }

    @Test func learnedHeadTrainsWithBinaryCrossEntropy() throws {
        let data = try clusteredData(classes: 6, perClass: 20, dimension: 10, seed: 14)
        var g = SeededGenerator(seed: 15)
        let net = SiameseNetwork(encoder: EncoderConfiguration.mlp(MLPConfiguration(layers: [10, 32], embeddingDimension: 8, normalize: false)).makeEncoder(seed: 3),
                                 head: LearnedHead(dimension: 8, generator: &g))
        let summary = try Trainer(model: net, task: PairTrainingTask(data: data, loss: .binaryCrossEntropy, batchSize: 32),
                                  configuration: TrainingConfiguration(epochs: 15, batchSize: 32, learningRate: 1e-2)).fit()
        #expect(summary.epochLosses.last! < 0.8 * summary.epochLosses.first!, "\(summary.epochLosses)")
        #expect(net.parameters.count == 6)
    }

    /// A run stopped after a checkpoint and resumed ends with exactly the weights of an
    /// uninterrupted run: at an epoch boundary and in the middle of an epoch.
    @Test(arguments: [nil, 3] as [Int?])
    func resumeContinuesExactly(_ everySteps: Int?) throws {
        let data = try clusteredData(classes: 5, perClass: 12, dimension: 10, seed: 16)
        let config = TrainingConfiguration(epochs: 3, batchSize: 16, learningRate: 2e-3, seed: 17, checkpointEverySteps: everySteps, keepCheckpoints: 50)
        let task = try TripletTrainingTask(data: data, loss: TripletMarginLoss(margin: 0.3, distance: .cosine), batchSize: 16,
                                           miner: HardNegativeMiner(rankRange: 0..<8))
        let straight = model()
        try Trainer(model: straight, task: task, configuration: config).fit(resume: false)

        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let first = model()
        try Trainer(model: first, task: task, configuration: config, checkpointDirectory: dir).fit()
        let all = CheckpointDirectory(dir).checkpoints()
        #expect(all.count >= 3)
        // Pretend the run was killed right after an early checkpoint: keep only that one.
        let cut = everySteps == nil ? 0 : 1
        for c in all[(cut + 1)...] { try FileManager.default.removeItem(at: c) }
        // A half-written checkpoint left by the kill is ignored.
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("step-99999999.tmp"), withIntermediateDirectories: true)
        let resumed = model(seed: 99)
        let summary = try Trainer(model: resumed, task: task, configuration: config, checkpointDirectory: dir).fit()
        #expect(summary.resumedFrom == all[cut])
        #expect(summary.stepsThisRun < summary.steps)
        for (a, b) in zip(straight.parameters, resumed.parameters) {
            #expect(a.value.scalars == b.value.scalars)
        }
    }

    @Test func weightsRoundTripAndBadFilesAreRejected() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let cnn = SiameseNetwork(encoder: EncoderConfiguration.cnn(CNNConfiguration(height: 4, width: 4, blockChannels: [3], embeddingDimension: 2)).makeEncoder(seed: 1))
        _ = cnn.embed(Tensor(shape: [3, 16], repeating: 0.5))  // moves the batch-norm running statistics
        let url = dir.appendingPathComponent("m.safetensors")
        try WeightsIO.save(cnn, to: url)
        let copy = SiameseNetwork(encoder: EncoderConfiguration.cnn(CNNConfiguration(height: 4, width: 4, blockChannels: [3], embeddingDimension: 2)).makeEncoder(seed: 2))
        try WeightsIO.load(copy, from: url)
        #expect(zip(cnn.parameters, copy.parameters).allSatisfy { $0.value.scalars == $1.value.scalars })
        #expect(zip(cnn.namedBuffers, copy.namedBuffers).allSatisfy { $0.tensor.scalars == $1.tensor.scalars })
        // A different architecture is refused and leaves the model untouched.
        let other = model()
        let before = other.parameters.map { $0.value.scalars }
        #expect(throws: ModelFormatError.self) { try WeightsIO.load(other, from: url) }
        #expect(other.parameters.map { $0.value.scalars } == before)
        // A truncated file is a clear error.
        let bytes = try Data(contentsOf: url)
        try bytes.prefix(bytes.count / 2).write(to: url)
        #expect(throws: (any Error).self) { try WeightsIO.load(copy, from: url) }
    }

    @Test func badConfigurationsAreRejected() throws {
        let data = try clusteredData(classes: 3, perClass: 4, dimension: 10, seed: 18)
        let task = try PairTrainingTask(data: data, loss: .contrastive(ContrastiveLoss()), batchSize: 4)
        #expect(throws: SamplingError.self) { try Trainer(model: model(), task: task, configuration: TrainingConfiguration(epochs: 0)) }
        #expect(throws: SamplingError.self) { try Trainer(model: model(), task: task, configuration: TrainingConfiguration(learningRate: -1)) }
        #expect(throws: TrainingError.self) {
            try Trainer(model: model(), task: PairTrainingTask(data: data, loss: .binaryCrossEntropy, batchSize: 4), configuration: TrainingConfiguration(epochs: 1)).fit()
        }
        #expect(throws: SamplingError.self) { try FeatureDataset(features: Tensor(shape: [2, 2], [1, .nan, 0, 0]), labels: [0, 1]) }
    }

    @Test func divergingLossStopsWithAClearError() throws {
        let data = try clusteredData(classes: 3, perClass: 8, dimension: 10, seed: 19)
        let net = SiameseNetwork(encoder: EncoderConfiguration.mlp(MLPConfiguration(layers: [10, 32], embeddingDimension: 8, normalize: false)).makeEncoder(seed: 1))
        let task = try PairTrainingTask(data: data, loss: .contrastive(ContrastiveLoss(distance: .squaredEuclidean)), batchSize: 8)
        #expect(throws: TrainingError.self) {
            try Trainer(model: net, task: task, configuration: TrainingConfiguration(epochs: 20, batchSize: 8, learningRate: 1e30, optimizer: .sgd)).fit()
        }
    }
}

@Suite struct ValidationTests {
    func mlp() -> SiameseNetwork {
        SiameseNetwork(encoder: EncoderConfiguration.mlp(MLPConfiguration(layers: [10, 16], embeddingDimension: 4)).makeEncoder(seed: 1))
    }

    @Test(arguments: [false, true])
    func earlyStoppingStopsAndKeepsTheBestEpoch(_ withCheckpoints: Bool) throws {
        let data = try clusteredData(classes: 4, perClass: 10, dimension: 10, seed: 21)
        let model = mlp()
        let task = try PairTrainingTask(data: data, loss: .contrastive(ContrastiveLoss()), batchSize: 8)
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let trainer = try Trainer(model: model, task: task, configuration: TrainingConfiguration(epochs: 20, batchSize: 8, earlyStoppingPatience: 2),
                                  checkpointDirectory: withCheckpoints ? dir : nil)
        // Scripted scores: best at epoch 1 (0-based), then two epochs without improvement.
        let scores = [0.5, 0.9, 0.6, 0.7, 0.95]
        var calls = 0
        trainer.validation = { _ in
            defer { calls += 1 }
            return ValidationResult(score: scores[calls], metrics: ["auc": scores[calls]])
        }
        var weightsAfter: [[Float]] = []
        trainer.onEpochEnd = { _ in weightsAfter.append(model.parameters.flatMap { $0.value.scalars }) }
        let summary = try trainer.fit(resume: false)
        #expect(summary.stoppedEarly)
        #expect(summary.epochLosses.count == 4)
        #expect(summary.bestEpoch == 1)
        #expect(summary.validations.map(\.score) == [0.5, 0.9, 0.6, 0.7])
        #expect(model.parameters.flatMap { $0.value.scalars } == weightsAfter[1])
        #expect(weightsAfter[1] != weightsAfter[3])
    }

    @Test func featureValidationMeasuresSeparation() throws {
        let data = try clusteredData(classes: 5, perClass: 12, dimension: 10, noise: 0.2, seed: 22)
        let identity = SiameseNetwork(encoder: EncoderConfiguration.mlp(MLPConfiguration(layers: [10], embeddingDimension: 10, normalize: false)).makeEncoder(seed: 1))
        // Make the encoder the identity so the metrics are those of the raw, well-separated data.
        let eye: [Float] = (0..<100).map { (i: Int) -> Float in i % 11 == 0 ? 1 : 0 }
        identity.parameters[0].value = Tensor(shape: [10, 10], eye)
        identity.parameters[1].value = Tensor.zeros([10])
        let result = try FeatureValidation(data: data)(identity)
        #expect(result.metrics["auc"]! > 0.99)
        #expect(result.metrics["eer"]! < 0.05)
        #expect(result.metrics["recall_at_1"]! > 0.98)
        #expect(result.score == result.metrics["auc"])
    }

    @Test func collapseIsReported() throws {
        let data = try clusteredData(classes: 4, perClass: 8, dimension: 10, seed: 23)
        let model = mlp()
        // Every embedding the zero vector: distances all equal, the triplet loss sits at its margin.
        for p in model.parameters { p.value = Tensor.zeros(p.shape) }
        let task = try BatchMiningTask(data: data, loss: BatchTripletLoss(strategy: .batchAll, margin: 0.3, distance: .cosine), batchSize: 16, itemsPerClass: 4)
        let trainer = try Trainer(model: model, task: task, configuration: TrainingConfiguration(epochs: 1, batchSize: 16, learningRate: 1e-6))
        var warnings: [String] = []
        trainer.onEpochEnd = { warnings += $0.warnings }
        try trainer.fit()
        #expect(warnings.contains { $0.contains("collapsing") })
        #expect(warnings.contains { $0.contains("margin") })
        // A healthy run warns about nothing.
        let healthy = try Trainer(model: mlp(), task: task, configuration: TrainingConfiguration(epochs: 2, batchSize: 16, learningRate: 3e-3))
        var none: [String] = []
        healthy.onEpochEnd = { none += $0.warnings }
        try healthy.fit()
        #expect(none.isEmpty, "\(none)")
    }
    /// A task whose loss always equals its collapsed value (as batch-hard mining's does on many
    /// healthy epochs) while its embeddings are well spread.
    struct LossAtMarginTask: TrainingTask {
        let data: FeatureDataset
        let margin: Float
        var itemCount: Int { data.count }
        func batches(epoch: Int, seed: UInt64, model: SiameseNetwork) throws -> [Int] { [0, 1] }
        func loss(_ model: SiameseNetwork, _ batch: Int) -> BatchLoss {
            BatchLoss((model.embed(data.features) * 0).sum() + margin)
        }
        func probeEmbeddings(_ model: SiameseNetwork) -> Tensor? { model.embedAll(data.features) }
        var collapsedLoss: Double? { Double(margin) }
    }

    @Test func aLossAtTheMarginWithSpreadEmbeddingsIsNotCalledCollapse() throws {
        let data = try clusteredData(classes: 4, perClass: 8, dimension: 10, seed: 24)
        let trainer = try Trainer(model: mlp(), task: LossAtMarginTask(data: data, margin: 0.3),
                                  configuration: TrainingConfiguration(epochs: 2, batchSize: 16, learningRate: 1e-3))
        var warnings: [String] = []
        trainer.onEpochEnd = { warnings += $0.warnings }
        try trainer.fit()
        #expect(warnings.isEmpty, "\(warnings)")
    }
}
