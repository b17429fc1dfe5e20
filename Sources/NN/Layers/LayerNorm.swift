import Tensors

/// Layer normalisation over the last axis with learned scale (`weight`) and shift (`bias`).
public final class LayerNorm: Layer {
    public let weight: Parameter
    public let bias: Parameter
    public let epsilon: Float
    public var isTraining = true

    public init(_ features: Int, epsilon: Float = 1e-5) {
        weight = Parameter(.ones([features]))
        bias = Parameter(.zeros([features]))
        self.epsilon = epsilon
    }

    public var namedParameters: [(name: String, parameter: Parameter)] { [("weight", weight), ("bias", bias)] }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        input.layerNorm(gamma: weight.value, beta: bias.value, epsilon: epsilon)
    }
}

/// A lookup table of vectors: row i is the embedding of token i.
public final class Embedding: Module {
    public let weight: Parameter
    public var isTraining = true

    public init(_ count: Int, _ dimension: Int, initializer: Initializer = .normal(std: 1), generator: inout SeededGenerator) {
        weight = Parameter(initializer.make([count, dimension], fanIn: dimension, fanOut: count, generator: &generator))
    }

    public var namedParameters: [(name: String, parameter: Parameter)] { [("weight", weight)] }

    /// Rows for `ids`, shape [ids.count, dimension].
    public func callAsFunction(_ ids: [Int]) -> Tensor { weight.value.indexSelect(ids) }
}
