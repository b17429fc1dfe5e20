import NN
import Tensors

/// Hyper-parameters of a training run. Saved in checkpoints, so a resumed run continues with the
/// same settings.
public struct TrainingConfiguration: Codable, Equatable, Sendable {
    /// Which optimiser ``makeOptimizer(_:)`` builds; `lars` is LARS with momentum (SimCLR, Barlow Twins).
    public enum OptimizerKind: String, Codable, Sendable, CaseIterable { case adam, adamw, sgd, lars }

    public var epochs: Int
    public var batchSize: Int
    public var learningRate: Float
    public var optimizer: OptimizerKind
    /// SGD momentum (ignored by Adam).
    public var momentum: Float
    public var nesterov: Bool
    /// L2 penalty (Adam, SGD) or decoupled decay (AdamW).
    public var weightDecay: Float
    /// Linear warm-up steps before the schedule's decay.
    public var warmupSteps: Int
    public var decay: LearningRateSchedule.Decay
    /// Clip the global gradient norm to this value (nil: no clipping).
    public var gradientClipNorm: Float?
    /// Seed for initialisation, sampling and shuffling.
    public var seed: UInt64
    /// Save a checkpoint every this many steps (nil: only at the end of each epoch).
    public var checkpointEverySteps: Int?
    /// How many checkpoints to keep on disk (older ones are deleted after a newer one is complete).
    public var keepCheckpoints: Int
    /// Stop when the validation score has not improved for this many epochs, and keep the best
    /// epoch's weights (nil: run every epoch). Needs a validation set.
    public var earlyStoppingPatience: Int?

    public init(epochs: Int = 10, batchSize: Int = 128, learningRate: Float = 1e-3, optimizer: OptimizerKind = .adam,
                momentum: Float = 0.9, nesterov: Bool = false, weightDecay: Float = 0, warmupSteps: Int = 0,
                decay: LearningRateSchedule.Decay = .constant, gradientClipNorm: Float? = nil, seed: UInt64 = 0,
                checkpointEverySteps: Int? = nil, keepCheckpoints: Int = 2, earlyStoppingPatience: Int? = nil) {
        self.epochs = epochs
        self.batchSize = batchSize
        self.learningRate = learningRate
        self.optimizer = optimizer
        self.momentum = momentum
        self.nesterov = nesterov
        self.weightDecay = weightDecay
        self.warmupSteps = warmupSteps
        self.decay = decay
        self.gradientClipNorm = gradientClipNorm
        self.seed = seed
        self.checkpointEverySteps = checkpointEverySteps
        self.keepCheckpoints = keepCheckpoints
        self.earlyStoppingPatience = earlyStoppingPatience
    }

    /// Checks the values a user can get wrong.
    public func validate() throws {
        func fail(_ m: String) -> SamplingError { SamplingError("training configuration: \(m)") }
        guard epochs >= 1 else { throw fail("epochs must be at least 1, got \(epochs)") }
        guard batchSize >= 2 else { throw fail("batch size must be at least 2, got \(batchSize)") }
        guard learningRate > 0, learningRate.isFinite else { throw fail("learning rate must be positive, got \(learningRate)") }
        guard weightDecay >= 0 else { throw fail("weight decay must be ≥ 0, got \(weightDecay)") }
        guard warmupSteps >= 0 else { throw fail("warm-up steps must be ≥ 0, got \(warmupSteps)") }
        if let c = gradientClipNorm { guard c > 0 else { throw fail("gradient clip norm must be positive, got \(c)") } }
        if let c = checkpointEverySteps { guard c >= 1 else { throw fail("checkpoint interval must be ≥ 1 step, got \(c)") } }
        guard keepCheckpoints >= 1 else { throw fail("must keep at least one checkpoint") }
        if let p = earlyStoppingPatience { guard p >= 1 else { throw fail("early-stopping patience must be ≥ 1 epoch, got \(p)") } }
    }

    /// The optimiser this configuration describes, over `parameters`.
    public func makeOptimizer(_ parameters: [Parameter]) -> any StatefulOptimizer {
        switch optimizer {
        case .adam: Adam(parameters, learningRate: learningRate, weightDecay: weightDecay)
        case .adamw: Adam(parameters, learningRate: learningRate, weightDecay: weightDecay, decoupledWeightDecay: true)
        case .sgd: SGD(parameters, learningRate: learningRate, momentum: momentum, nesterov: nesterov, weightDecay: weightDecay)
        case .lars: LARS(parameters, learningRate: learningRate, momentum: momentum, nesterov: nesterov, weightDecay: weightDecay)
        }
    }
}
