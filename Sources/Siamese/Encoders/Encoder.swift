import NN
import Tensors

/// The shared tower of a Siamese network: maps a batch of inputs to a batch of embeddings.
///
/// One encoder instance serves every branch (pairs, triplets, N inputs), so the branches share
/// weights by construction: there is nothing to tie.
public protocol Encoder: Layer {
    /// How to rebuild this encoder (saved as `config.json` next to the weights).
    var configuration: EncoderConfiguration { get }
    /// Length of the embeddings it produces.
    var embeddingDimension: Int { get }
}

/// A serialisable description of an encoder architecture.
public enum EncoderConfiguration: Codable, Equatable, Sendable {
    case mlp(MLPConfiguration)
    case cnn(CNNConfiguration)
    case sequence(SequenceConfiguration)

    /// Builds a freshly initialised encoder, reproducible from `seed`.
    public func makeEncoder(seed: UInt64) -> any Encoder {
        var generator = SeededGenerator(seed: seed)
        switch self {
        case .mlp(let c): return MLPEncoder(c, generator: &generator)
        case .cnn(let c): return CNNEncoder(c, generator: &generator)
        case .sequence(let c): return SequenceEncoder(c, generator: &generator)
        }
    }

    /// Number of input features per item (flattened).
    public var inputFeatures: Int {
        switch self {
        case .mlp(let c): c.inputDimension
        case .cnn(let c): c.channels * c.height * c.width
        case .sequence(let c): c.channels * c.length
        }
    }

    /// Embedding length.
    public var embeddingDimension: Int {
        switch self {
        case .mlp(let c): c.embeddingDimension
        case .cnn(let c): c.embeddingDimension
        case .sequence(let c): c.embeddingDimension
        }
    }
}
