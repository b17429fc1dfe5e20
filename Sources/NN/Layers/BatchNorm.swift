import Tensors

/// Batch normalisation over axis 1 of [N, C], [N, C, L] or [N, C, H, W].
///
/// In training mode it normalises with batch statistics and updates the running ones; in
/// evaluation mode it uses the running statistics. They are saved as buffers
/// `running_mean` / `running_var` (PyTorch's names).
public final class BatchNorm: Layer {
    /// Per-channel scale γ, shape [C], initialised to ones.
    public let weight: Parameter
    /// Per-channel shift β, shape [C], initialised to zeros.
    public let bias: Parameter
    /// Running mean and variance (shape [C]) used in evaluation mode, updated in training mode.
    public private(set) var statistics: BatchNormStatistics
    /// Added to the variance before the square root, for numerical stability.
    public let epsilon: Float
    /// Training mode uses and updates batch statistics; evaluation mode uses the running ones.
    public var isTraining = true

    /// Creates a batch-norm layer with γ = 1, β = 0, running mean 0 and running variance 1.
    /// - Parameters:
    ///   - channels: Number of channels C (axis 1 of the input).
    ///   - momentum: Weight of the new batch statistic in the running average, PyTorch's convention (default 0.1).
    ///   - epsilon: Added to the variance for stability (default 1e-5).
    public init(_ channels: Int, momentum: Float = 0.1, epsilon: Float = 1e-5) {
        weight = Parameter(.ones([channels]))
        bias = Parameter(.zeros([channels]))
        statistics = BatchNormStatistics(channels: channels, momentum: momentum)
        self.epsilon = epsilon
    }

    /// `weight` (γ) and `bias` (β), PyTorch's names.
    public var namedParameters: [(name: String, parameter: Parameter)] { [("weight", weight), ("bias", bias)] }

    /// `running_mean` and `running_var`, PyTorch's names, so checkpoints map one to one.
    public var namedBuffers: [(name: String, tensor: Tensor)] {
        [("running_mean", statistics.mean), ("running_var", statistics.variance)]
    }

    /// Sets `running_mean` or `running_var` (detached); returns false for another name or a shape other than [C].
    public func setBuffer(_ name: String, _ value: Tensor) -> Bool {
        guard value.shape == statistics.mean.shape else { return false }
        switch name {
        case "running_mean": statistics.mean = value.detached()
        case "running_var": statistics.variance = value.detached()
        default: return false
        }
        return true
    }

    /// Normalises `input` ([N, C], [N, C, L] or [N, C, H, W]) per channel; same shape out.
    public func callAsFunction(_ input: Tensor) -> Tensor {
        input.batchNorm(gamma: weight.value, beta: bias.value, statistics: &statistics, training: isTraining, epsilon: epsilon)
    }
}

/// Dropout with its own seeded generator, so that a run is reproducible; identity in evaluation mode.
public final class Dropout: Layer {
    /// Probability of zeroing each element in training mode, in [0, 1).
    public let probability: Float
    var generator: SeededGenerator
    /// Dropout is applied only in training mode.
    public var isTraining = true

    /// Creates a dropout layer.
    /// - Parameters:
    ///   - probability: Probability of zeroing an element, in [0, 1); kept elements are scaled by 1/(1−p).
    ///     Stops with a message outside that range.
    ///   - seed: Seed of the layer's own generator, so that the masks of a run are reproducible.
    public init(_ probability: Float, seed: UInt64) {
        ensure(probability >= 0 && probability < 1, "Dropout: probability must be in [0, 1), got \(probability)")
        self.probability = probability
        generator = SeededGenerator(seed: seed)
    }

    /// None: dropout has no parameters.
    public var namedParameters: [(name: String, parameter: Parameter)] { [] }

    /// Zeroes elements with ``probability`` and rescales the rest in training mode; identity in evaluation mode.
    public func callAsFunction(_ input: Tensor) -> Tensor {
        input.dropout(probability: probability, training: isTraining, generator: &generator)
    }
}

/// Max pooling over [N, C, H, W] (or [N, C, L] with ``oneD``).
public final class MaxPool: Layer {
    /// Window size, stride (nil = the window size, non-overlapping) and zero padding, as height × width.
    public let kernelSize: Size2D, stride: Size2D?, padding: Size2D
    /// True to pool [N, C, L] along L with the `width` components of the sizes.
    public let oneD: Bool
    /// Unused: pooling behaves the same in training and evaluation.
    public var isTraining = true

    /// Creates a max-pooling layer.
    /// - Parameters:
    ///   - kernelSize: Pooling window (height × width; only `width` is used when `oneD`).
    ///   - stride: Step between windows; nil means the window size (default nil).
    ///   - padding: Padding on each side (default 0).
    ///   - oneD: Pool [N, C, L] inputs instead of [N, C, H, W] (default false).
    public init(kernelSize: Size2D, stride: Size2D? = nil, padding: Size2D = 0, oneD: Bool = false) {
        self.kernelSize = kernelSize; self.stride = stride; self.padding = padding; self.oneD = oneD
    }

    /// None: pooling has no parameters.
    public var namedParameters: [(name: String, parameter: Parameter)] { [] }

    /// The maximum of each window: [N, C, H, W] → [N, C, H', W'] (or [N, C, L] → [N, C, L'] with ``oneD``).
    public func callAsFunction(_ input: Tensor) -> Tensor {
        oneD ? input.maxPool1d(kernelSize: kernelSize.width, stride: stride?.width, padding: padding.width)
             : input.maxPool2d(kernelSize: kernelSize, stride: stride, padding: padding)
    }
}

/// x + f(x): a residual block around any shape-preserving layer.
public final class Residual: Layer {
    /// The wrapped layer f; its output must have the input's shape.
    public let body: any Layer
    /// Forwards to the body's mode.
    public var isTraining: Bool {
        get { body.isTraining }
        set { body.isTraining = newValue }
    }

    /// Wraps a layer as x + f(x).
    /// - Parameters:
    ///   - body: The shape-preserving layer f; its parameters are named under `body.`.
    public init(_ body: any Layer) { self.body = body }

    /// The body's parameters, prefixed `body.`.
    public var namedParameters: [(name: String, parameter: Parameter)] { scoped("body", body.namedParameters) }
    /// The body's buffers, prefixed `body.`.
    public var namedBuffers: [(name: String, tensor: Tensor)] { scoped("body", body.namedBuffers) }
    /// Forwards a `body.`-prefixed buffer name to the body; false for any other name.
    public func setBuffer(_ name: String, _ value: Tensor) -> Bool {
        name.hasPrefix("body.") && body.setBuffer(String(name.dropFirst(5)), value)
    }

    /// Returns `input + body(input)`.
    public func callAsFunction(_ input: Tensor) -> Tensor { input + body(input) }
}
