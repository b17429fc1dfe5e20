import Evaluation
import Foundation
import Tensors

/// Signature verification end to end on ``SignatureGenerator`` data: a twin ``SequenceEncoder``
/// trained on one set of writers, its decision threshold calibrated on a second set, and its error
/// rates measured on a third set that neither training nor calibration saw.
///
/// ```swift
/// let demo = try SignatureDemo.trainDefaultModel(seed: 7)
/// print(demo.report.trained.skilled.eer)          // equal-error rate against skilled forgeries
/// try SignatureDemo.save(demo.network, calibration: demo.calibration, to: folder)
/// ```
///
/// Everything is deterministic for a seed (data, initialisation, triplet sampling).
public enum SignatureDemo {
    /// Sizes of the experiment; ``standard`` is the demo's, ``small`` is for quick tests.
    public struct Configuration: Sendable, Equatable {
        public var trainWriters = 60
        public var validationWriters = 20
        public var testWriters = 20
        public var genuinePerWriter = 12
        public var forgeriesPerWriter = 8
        /// Time steps per signature.
        public var steps = 64
        /// Held-out skilled-forgery EER keeps falling long after the training loss is near zero
        /// (seeds 7, 3, 11: 21.1, 22.6, 24.0 % after 10 epochs; 16.5, 17.4, 16.2 % after 40), so the
        /// demo trains for 40 rather than stopping where the loss flattens.
        public var epochs = 40
        public var tripletsPerWriter = 32
        public var batchSize = 64
        public var learningRate: Float = 2e-3
        public var margin: Float = 0.4
        /// Share of triplets whose negative is a skilled forgery of the anchor's writer.
        public var skilledFraction = 0.5
        public var blockChannels = [32, 32, 64]
        public var embeddingDimension = 32
        /// How the threshold is chosen on the validation writers.
        public var rule: ThresholdRule = .equalErrorRate

        public init() {}

        /// The demo's sizes: about 20–30 seconds of training on two cores.
        public static let standard = Configuration()

        /// A reduced experiment for tests (a few seconds).
        public static var small: Configuration {
            var c = Configuration()
            c.trainWriters = 30; c.validationWriters = 10; c.testWriters = 12
            c.genuinePerWriter = 8; c.forgeriesPerWriter = 6
            c.steps = 48; c.epochs = 6; c.tripletsPerWriter = 24
            c.blockChannels = [16, 32]; c.embeddingDimension = 24
            return c
        }

        /// The encoder architecture this configuration trains.
        public var encoder: SequenceConfiguration {
            SequenceConfiguration(channels: SignatureGenerator.channels, length: steps, blockChannels: blockChannels,
                                  kernelSize: 5, embeddingDimension: embeddingDimension)
        }
    }

    /// Error rates against one kind of impostor at the calibrated threshold.
    public struct ImpostorMetrics: Sendable, Equatable {
        /// Equal-error rate (threshold-free).
        public var eer: Double
        public var auc: Double
        /// At the calibrated threshold: impostor pairs accepted / impostor pairs.
        public var far: Double
        /// At the calibrated threshold: genuine pairs rejected / genuine pairs.
        public var frr: Double
        /// At the calibrated threshold, over the genuine pairs and these impostor pairs.
        public var accuracy: Double
        public var genuinePairs: Int
        public var impostorPairs: Int
    }

    /// A model's results on the held-out writers, per kind of forgery.
    public struct Metrics: Sendable, Equatable {
        /// Genuine vs genuine of other writers ("random forgeries").
        public var random: ImpostorMetrics
        /// Genuine vs skilled forgeries of the same writer.
        public var skilled: ImpostorMetrics
        /// The threshold calibrated on the validation writers for this model.
        public var threshold: Double
    }

    /// What a run measured.
    public struct Report: Sendable {
        public var configuration: Configuration
        public var seed: UInt64
        public var trainingSteps: Int
        public var trainingSeconds: Double
        public var stepsPerSecond: Double
        public var epochLosses: [Double]
        /// The trained twin on the held-out writers.
        public var trained: Metrics
        /// The same architecture and initialisation before training.
        public var untrained: Metrics
        /// Cosine similarity of the raw trajectories (no network).
        public var rawFeatures: Metrics
    }

    /// A trained verifier: the network, its calibrated threshold and the report.
    public struct Result {
        public var network: SiameseNetwork
        public var calibration: CalibrationRecord
        public var report: Report
        /// The generator of the data, for feature column names and new samples.
        public var generator: SignatureGenerator
    }

    /// Trains, calibrates and evaluates the standard demo; the network can serve as a default model.
    public static func trainDefaultModel(seed: UInt64 = 7) throws -> Result {
        try run(.standard, seed: seed)
    }

    /// Runs the experiment: generate writers, train on the first group, calibrate on the second
    /// (rule ``Configuration/rule`` over genuine, random-forgery and skilled-forgery pairs), report on
    /// the third. `onEpoch` sees each epoch's mean loss.
    public static func run(_ config: Configuration, seed: UInt64, onEpoch: ((EpochReport) -> Void)? = nil) throws -> Result {
        let generator = SignatureGenerator(steps: config.steps, seed: seed)
        let t = config.trainWriters, v = config.validationWriters, h = config.testWriters
        let train = generator.samples(writers: 0..<t, genuinePerWriter: config.genuinePerWriter, forgeriesPerWriter: config.forgeriesPerWriter)
        let validation = generator.samples(writers: t..<(t + v), genuinePerWriter: config.genuinePerWriter, forgeriesPerWriter: config.forgeriesPerWriter)
        let test = generator.samples(writers: (t + v)..<(t + v + h), genuinePerWriter: config.genuinePerWriter, forgeriesPerWriter: config.forgeriesPerWriter)

        let network = SiameseNetwork(encoder: EncoderConfiguration.sequence(config.encoder).makeEncoder(seed: seed), distance: .cosine)
        let untrained = try measure({ network.embedAll($0) }, validation: validation, test: test, rule: config.rule).metrics
        let rawFeatures = try measure({ $0 }, validation: validation, test: test, rule: config.rule).metrics

        let task = try SignatureTripletTask(set: train, tripletsPerWriter: config.tripletsPerWriter, batchSize: config.batchSize,
                                            skilledFraction: config.skilledFraction,
                                            loss: TripletMarginLoss(margin: config.margin, distance: .cosine))
        let trainer = try Trainer(model: network, task: task, configuration: TrainingConfiguration(
            epochs: config.epochs, batchSize: config.batchSize, learningRate: config.learningRate, decay: .cosine, seed: seed))
        trainer.onEpochEnd = onEpoch
        let summary = try trainer.fit()
        network.isTraining = false
        let (trained, calibration) = try measure({ network.embedAll($0) }, validation: validation, test: test, rule: config.rule)

        let report = Report(configuration: config, seed: seed, trainingSteps: summary.steps, trainingSeconds: summary.seconds,
                            stepsPerSecond: summary.stepsPerSecond, epochLosses: summary.epochLosses,
                            trained: trained, untrained: untrained, rawFeatures: rawFeatures)
        return Result(network: network, calibration: calibration, report: report, generator: generator)
    }

    /// Writes a model folder (`siamese.json`, `model.safetensors`, with the trajectory columns
    /// `x0…, y0…, p0…` as feature columns) and its `calibration.json`.
    public static func save(_ network: SiameseNetwork, calibration: CalibrationRecord, steps: Int, to folder: URL) throws {
        let columns = SignatureGenerator(steps: steps, seed: 0).featureColumns
        // One folder swap: the calibration lands with the weights it was made for, stamped with them.
        try ModelFolder(folder).save(network, featureColumns: columns, calibration: calibration)
    }

    /// Calibrates a threshold on the validation writers' pairs, then measures the test writers'.
    static func measure(_ embed: (Tensor) -> Tensor, validation: SignatureSet, test: SignatureSet,
                        rule: ThresholdRule) throws -> (metrics: Metrics, calibration: CalibrationRecord) {
        let v = VerificationPairs(validation, embeddings: embed(validation.features))
        let pairs = try ScoredPairs(scores: v.genuine + v.random + v.skilled,
                                    labels: v.genuine.map { _ in true } + (v.random + v.skilled).map { _ in false })
        let calibration = try VerificationCurve(pairs, direction: .higherIsSame).calibrate(rule, pairs: pairs)
        let p = VerificationPairs(test, embeddings: embed(test.features))
        func rates(_ impostors: [Double]) throws -> ImpostorMetrics {
            let curve = try VerificationCurve(scores: p.genuine + impostors, labels: p.genuine.map { _ in true } + impostors.map { _ in false },
                                              direction: .higherIsSame)
            let c = curve.counts(at: calibration.threshold)
            return ImpostorMetrics(eer: curve.equalErrorRate().rate, auc: curve.auc(), far: c.far ?? 0, frr: c.frr ?? 0,
                                   accuracy: c.accuracy ?? 0, genuinePairs: p.genuine.count, impostorPairs: impostors.count)
        }
        return (Metrics(random: try rates(p.random), skilled: try rates(p.skilled), threshold: calibration.threshold), calibration)
    }
}

/// The cosine scores of a set's verification pairs: genuine–genuine of one writer (every pair),
/// genuine–skilled forgery of the same writer (every pair), and genuine–genuine of different
/// writers, as many as the skilled pairs (sample `i` of writer `w` against sample `i` of the next
/// writers in turn), so that accuracy means the same thing for both kinds of forgery.
struct VerificationPairs {
    var genuine: [Double] = [], skilled: [Double] = [], random: [Double] = []

    init(_ set: SignatureSet, embeddings: Tensor) {
        let sims = withoutGradients { Tensor.pairwiseCosineSimilarity(embeddings, embeddings) }
        let n = set.count
        var real: [Int: [Int]] = [:], fake: [Int: [Int]] = [:]
        for i in 0..<n {
            if set.isForgery[i] { fake[set.writers[i], default: []].append(i) } else { real[set.writers[i], default: []].append(i) }
        }
        let writers = real.keys.sorted()
        sims.withUnsafeBufferPointer { s in
            for (wi, w) in writers.enumerated() {
                let own = real[w]!, forged = fake[w] ?? []
                for a in own.indices {
                    for b in (a + 1)..<own.count { genuine.append(Double(s[own[a] * n + own[b]])) }
                    for f in forged { skilled.append(Double(s[own[a] * n + f])) }
                }
                // As many random-forgery pairs per writer as skilled ones: sample a against sample a
                // of each of the next `forged.count` writers (wrapping round).
                for a in own.indices {
                    for k in 1...max(1, min(forged.count, writers.count - 1)) {
                        let other = real[writers[(wi + k) % writers.count]]!
                        random.append(Double(s[own[a] * n + other[a % other.count]]))
                    }
                }
            }
        }
    }
}
