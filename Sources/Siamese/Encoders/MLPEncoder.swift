import NN
import Tensors

/// Architecture of an ``MLPEncoder``.
public struct MLPConfiguration: Codable, Equatable, Sendable {
    /// Input width followed by the hidden widths, e.g. [64, 128, 64].
    public var layers: [Int]
    /// Embedding length (the last linear layer's output).
    public var embeddingDimension: Int
    /// Drop probability after each hidden activation (0 = none).
    public var dropout: Float
    /// L2-normalise the embeddings (the usual choice with cosine distance).
    public var normalize: Bool

    public init(layers: [Int], embeddingDimension: Int, dropout: Float = 0, normalize: Bool = true) {
        ensure(!layers.isEmpty && layers.allSatisfy { $0 > 0 } && embeddingDimension > 0,
                     "MLPConfiguration: layer widths and embedding dimension must be positive, got \(layers) → \(embeddingDimension)")
        self.layers = layers
        self.embeddingDimension = embeddingDimension
        self.dropout = dropout
        self.normalize = normalize
    }

    public var inputDimension: Int { layers[0] }
}

/// Feature vectors → embeddings: Linear → ReLU (→ Dropout) … → Linear (→ L2 normalise).
///
/// Parameters are named `layers.<i>.weight` / `layers.<i>.bias`, i counting linear layers.
public final class MLPEncoder: EmbeddingEncoder {
    public let configuration: EncoderConfiguration
    let linears: [Linear]
    let dropouts: [Dropout]
    let normalize: Bool
    public var isTraining = true {
        didSet { for d in dropouts { d.isTraining = isTraining } }
    }

    public init(_ config: MLPConfiguration, generator: inout SeededGenerator) {
        configuration = .mlp(config)
        let widths = config.layers + [config.embeddingDimension]
        linears = (0..<(widths.count - 1)).map { Linear(widths[$0], widths[$0 + 1], generator: &generator) }
        dropouts = config.dropout > 0
            ? (0..<(linears.count - 1)).map { i in Dropout(config.dropout, seed: generator.next()) }
            : []
        normalize = config.normalize
    }

    public var embeddingDimension: Int { linears.last!.outFeatures }

    public var namedParameters: [(name: String, parameter: Parameter)] {
        linears.enumerated().flatMap { scoped("layers.\($0.offset)", $0.element.namedParameters) }
    }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        ensure(input.rank == 2 && input.shape[1] == linears[0].inFeatures,
                     "MLPEncoder: expected input [batch, \(linears[0].inFeatures)], got \(input.shape)")
        var h = input
        for (i, layer) in linears.enumerated() {
            h = layer(h)
            if i < linears.count - 1 {
                h = h.relu()
                if !dropouts.isEmpty { h = dropouts[i](h) }
            }
        }
        return normalize ? h.l2Normalized() : h
    }
}
