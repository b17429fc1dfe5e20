import NN
import Tensors

/// Architecture of a ``CNNEncoder``.
public struct CNNConfiguration: Codable, Equatable, Sendable {
    /// Input image: channels × height × width (e.g. 1 × 8 × 8 digits).
    public var channels: Int, height: Int, width: Int
    /// Output channels of each convolution block.
    public var blockChannels: [Int]
    /// Square kernel size of every convolution (padding keeps the size: kernel / 2).
    public var kernelSize: Int
    /// Batch normalisation after each convolution.
    public var batchNorm: Bool
    /// Embedding length.
    public var embeddingDimension: Int
    /// L2-normalise the embeddings.
    public var normalize: Bool

    public init(channels: Int = 1, height: Int, width: Int, blockChannels: [Int] = [16, 32], kernelSize: Int = 3,
                batchNorm: Bool = true, embeddingDimension: Int, normalize: Bool = true) {
        ensure(channels > 0 && height > 0 && width > 0 && embeddingDimension > 0 && kernelSize > 0 && kernelSize % 2 == 1,
                     "CNNConfiguration: positive sizes and an odd kernel needed, got \(channels)×\(height)×\(width), kernel \(kernelSize), dim \(embeddingDimension)")
        self.channels = channels; self.height = height; self.width = width
        self.blockChannels = blockChannels
        self.kernelSize = kernelSize
        self.batchNorm = batchNorm
        self.embeddingDimension = embeddingDimension
        self.normalize = normalize
    }
}

/// Images → embeddings: blocks of Conv2d (→ BatchNorm) → ReLU → 2×2 max-pool (while the image is at
/// least 2 pixels on a side), then flatten → Linear (→ L2 normalise).
///
/// Accepts [N, C, H, W] or flat rows [N, C·H·W] (as read from a CSV).
public final class CNNEncoder: EmbeddingEncoder {
    public let configuration: EncoderConfiguration
    let config: CNNConfiguration
    let features: Sequential
    let head: Linear
    public var isTraining = true {
        didSet { features.isTraining = isTraining; head.isTraining = isTraining }
    }

    public init(_ config: CNNConfiguration, generator: inout SeededGenerator) {
        self.config = config
        configuration = .cnn(config)
        var layers: [any Layer] = []
        var c = config.channels, h = config.height, w = config.width
        for out in config.blockChannels {
            layers.append(Conv2d(c, out, kernelSize: Size2D(config.kernelSize), padding: Size2D(config.kernelSize / 2),
                                 bias: !config.batchNorm, generator: &generator))
            if config.batchNorm { layers.append(BatchNorm(out)) }
            layers.append(Lambda.relu)
            if h >= 2 && w >= 2 {
                layers.append(MaxPool(kernelSize: 2))
                h /= 2; w /= 2
            }
            c = out
        }
        layers.append(Lambda.flatten)
        features = Sequential(layers)
        head = Linear(c * h * w, config.embeddingDimension, generator: &generator)
    }

    public var embeddingDimension: Int { config.embeddingDimension }

    public var namedParameters: [(name: String, parameter: Parameter)] {
        scoped("features", features.namedParameters) + scoped("head", head.namedParameters)
    }
    public var namedBuffers: [(name: String, tensor: Tensor)] { scoped("features", features.namedBuffers) }
    public func setBuffer(_ name: String, _ value: Tensor) -> Bool {
        name.hasPrefix("features.") && features.setBuffer(String(name.dropFirst("features.".count)), value)
    }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        let image = [config.channels, config.height, config.width]
        let x: Tensor
        if input.rank == 2 {
            ensure(input.shape[1] == image.reduce(1, *), "CNNEncoder: rows of \(input.shape[1]) features cannot be \(image) images")
            x = input.reshaped([input.shape[0]] + image)
        } else {
            ensure(input.rank == 4 && Array(input.shape[1...]) == image, "CNNEncoder: expected [N, \(image.map(String.init).joined(separator: ", "))], got \(input.shape)")
            x = input
        }
        let y = head(features(x))
        return config.normalize ? y.l2Normalized() : y
    }
}
