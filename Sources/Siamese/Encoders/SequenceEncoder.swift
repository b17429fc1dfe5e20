import NN
import Tensors

/// Architecture of a ``SequenceEncoder``.
public struct SequenceConfiguration: Codable, Equatable, Sendable {
    /// Values per time step (x, y, pressure → 3).
    public var channels: Int
    /// Time steps per input row (CSV rows hold channels × length values, time-major per channel).
    public var length: Int
    /// Output channels of each convolution; the dilation doubles at each layer (1, 2, 4, …).
    public var blockChannels: [Int]
    /// Kernel size (odd; padding keeps the length).
    public var kernelSize: Int
    public var embeddingDimension: Int
    public var normalize: Bool

    public init(channels: Int, length: Int, blockChannels: [Int] = [32, 64], kernelSize: Int = 5,
                embeddingDimension: Int, normalize: Bool = true) {
        ensure(channels > 0 && length > 0 && embeddingDimension > 0 && kernelSize % 2 == 1 && !blockChannels.isEmpty,
                     "SequenceConfiguration: positive sizes, an odd kernel and at least one block needed")
        self.channels = channels; self.length = length
        self.blockChannels = blockChannels
        self.kernelSize = kernelSize
        self.embeddingDimension = embeddingDimension
        self.normalize = normalize
    }
}

/// Sequences → embeddings with a time-delay network (Bromley et al. 1993, signature verification):
/// dilated 1-D convolutions with ReLU, global average pooling over time, then Linear (→ L2 normalise).
///
/// Accepts [N, C, L] or flat rows [N, C·L].
public final class SequenceEncoder: EmbeddingEncoder {
    public let configuration: EncoderConfiguration
    let config: SequenceConfiguration
    let convolutions: [Conv1d]
    let head: Linear
    public var isTraining = true

    public init(_ config: SequenceConfiguration, generator: inout SeededGenerator) {
        self.config = config
        configuration = .sequence(config)
        var c = config.channels
        var convs: [Conv1d] = []
        for (i, out) in config.blockChannels.enumerated() {
            let dilation = 1 << i
            convs.append(Conv1d(c, out, kernelSize: config.kernelSize, padding: dilation * (config.kernelSize / 2),
                                dilation: dilation, generator: &generator))
            c = out
        }
        convolutions = convs
        head = Linear(c, config.embeddingDimension, generator: &generator)
    }

    public var embeddingDimension: Int { config.embeddingDimension }

    public var namedParameters: [(name: String, parameter: Parameter)] {
        convolutions.enumerated().flatMap { scoped("convolutions.\($0.offset)", $0.element.namedParameters) }
            + scoped("head", head.namedParameters)
    }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        var x: Tensor
        if input.rank == 2 {
            ensure(input.shape[1] == config.channels * config.length,
                         "SequenceEncoder: rows of \(input.shape[1]) values cannot be \(config.channels) channels × \(config.length) steps")
            x = input.reshaped([input.shape[0], config.channels, config.length])
        } else {
            ensure(input.rank == 3 && input.shape[1] == config.channels, "SequenceEncoder: expected [N, \(config.channels), L], got \(input.shape)")
            x = input
        }
        for conv in convolutions { x = conv(x).relu() }
        let y = head(x.globalAvgPool())
        return config.normalize ? y.l2Normalized() : y
    }
}
