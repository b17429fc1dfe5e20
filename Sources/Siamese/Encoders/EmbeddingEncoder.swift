import NN
import Tensors

/// The shared tower of a Siamese network: maps a batch of inputs to a batch of embeddings.
///
/// One encoder instance serves every branch (pairs, triplets, N inputs), so the branches share
/// weights by construction: there is nothing to tie.
public protocol EmbeddingEncoder: Layer {
    /// How to rebuild this encoder (saved as `config.json` next to the weights).
    var configuration: EncoderConfiguration { get }
    /// Length of the embeddings it produces.
    var embeddingDimension: Int { get }
}

/// A serialisable description of an encoder architecture.
public enum EncoderConfiguration: Codable, Equatable, Sendable {
    // Codable is written by hand below (flat JSON with a "type" key).
    case mlp(MLPConfiguration)
    case cnn(CNNConfiguration)
    case sequence(SequenceConfiguration)

    /// Builds a freshly initialised encoder, reproducible from `seed`.
    public func makeEncoder(seed: UInt64) -> any EmbeddingEncoder {
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

extension EncoderConfiguration {
    private enum CodingKeys: String, CodingKey { case type }

    /// Flat JSON: `{"type": "mlp", "layers": [...], ...}`, readable and stable across Swift versions.
    public init(from decoder: any Decoder) throws {
        let type = try decoder.container(keyedBy: CodingKeys.self).decode(String.self, forKey: .type)
        switch type {
        case "mlp": self = .mlp(try MLPConfiguration(from: decoder))
        case "cnn": self = .cnn(try CNNConfiguration(from: decoder))
        case "sequence": self = .sequence(try SequenceConfiguration(from: decoder))
        default:
            throw DecodingError.dataCorruptedError(forKey: .type, in: try decoder.container(keyedBy: CodingKeys.self),
                                                   debugDescription: "unknown encoder type \(type) (expected mlp, cnn or sequence)")
        }
    }

    public func encode(to encoder: any Swift.Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .mlp(let c): try container.encode("mlp", forKey: .type); try c.encode(to: encoder)
        case .cnn(let c): try container.encode("cnn", forKey: .type); try c.encode(to: encoder)
        case .sequence(let c): try container.encode("sequence", forKey: .type); try c.encode(to: encoder)
        }
    }
}
