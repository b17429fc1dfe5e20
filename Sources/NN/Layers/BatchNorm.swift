import Tensors

/// Batch normalisation over axis 1 of [N, C], [N, C, L] or [N, C, H, W].
///
/// In training mode it normalises with batch statistics and updates the running ones; in
/// evaluation mode it uses the running statistics. They are saved as buffers
/// `running_mean` / `running_var` (PyTorch's names).
public final class BatchNorm: Layer {
    public let weight: Parameter
    public let bias: Parameter
    public private(set) var statistics: BatchNormStatistics
    public let epsilon: Float
    public var isTraining = true

    public init(_ channels: Int, momentum: Float = 0.1, epsilon: Float = 1e-5) {
        weight = Parameter(.ones([channels]))
        bias = Parameter(.zeros([channels]))
        statistics = BatchNormStatistics(channels: channels, momentum: momentum)
        self.epsilon = epsilon
    }

    public var namedParameters: [(name: String, parameter: Parameter)] { [("weight", weight), ("bias", bias)] }

    public var namedBuffers: [(name: String, tensor: Tensor)] {
        [("running_mean", statistics.mean), ("running_var", statistics.variance)]
    }

    public func setBuffer(_ name: String, _ value: Tensor) -> Bool {
        guard value.shape == statistics.mean.shape else { return false }
        switch name {
        case "running_mean": statistics.mean = value.detached()
        case "running_var": statistics.variance = value.detached()
        default: return false
        }
        return true
    }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        input.batchNorm(gamma: weight.value, beta: bias.value, statistics: &statistics, training: isTraining, epsilon: epsilon)
    }
}

/// Dropout with its own seeded generator, so that a run is reproducible; identity in evaluation mode.
public final class Dropout: Layer {
    public let probability: Float
    var generator: SeededGenerator
    public var isTraining = true

    public init(_ probability: Float, seed: UInt64) {
        ensure(probability >= 0 && probability < 1, "Dropout: probability must be in [0, 1), got \(probability)")
        self.probability = probability
        generator = SeededGenerator(seed: seed)
    }

    public var namedParameters: [(name: String, parameter: Parameter)] { [] }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        input.dropout(probability: probability, training: isTraining, generator: &generator)
    }
}

/// Max pooling over [N, C, H, W] (or [N, C, L] with ``oneD``).
public final class MaxPool: Layer {
    public let kernelSize: Size2D, stride: Size2D?, padding: Size2D
    public let oneD: Bool
    public var isTraining = true

    public init(kernelSize: Size2D, stride: Size2D? = nil, padding: Size2D = 0, oneD: Bool = false) {
        self.kernelSize = kernelSize; self.stride = stride; self.padding = padding; self.oneD = oneD
    }

    public var namedParameters: [(name: String, parameter: Parameter)] { [] }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        oneD ? input.maxPool1d(kernelSize: kernelSize.width, stride: stride?.width, padding: padding.width)
             : input.maxPool2d(kernelSize: kernelSize, stride: stride, padding: padding)
    }
}

/// x + f(x): a residual block around any shape-preserving layer.
public final class Residual: Layer {
    public let body: any Layer
    public var isTraining: Bool {
        get { body.isTraining }
        set { body.isTraining = newValue }
    }

    public init(_ body: any Layer) { self.body = body }

    public var namedParameters: [(name: String, parameter: Parameter)] { scoped("body", body.namedParameters) }
    public var namedBuffers: [(name: String, tensor: Tensor)] { scoped("body", body.namedBuffers) }
    public func setBuffer(_ name: String, _ value: Tensor) -> Bool {
        name.hasPrefix("body.") && body.setBuffer(String(name.dropFirst(5)), value)
    }

    public func callAsFunction(_ input: Tensor) -> Tensor { input + body(input) }
}
