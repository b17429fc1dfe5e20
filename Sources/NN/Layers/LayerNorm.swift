import Tensors

/// Layer normalisation over the last axis with learned scale (`weight`) and shift (`bias`).
public final class LayerNorm: Layer {
    /// Per-feature scale γ, shape [features], initialised to ones.
    public let weight: Parameter
    /// Per-feature shift β, shape [features], initialised to zeros.
    public let bias: Parameter
    /// Added to the variance before the square root, for numerical stability.
    public let epsilon: Float
    /// Unused: layer norm behaves the same in training and evaluation.
    public var isTraining = true

    /// Creates a layer norm with γ = 1 and β = 0.
    /// - Parameters:
    ///   - features: Size of the last axis being normalised.
    ///   - epsilon: Added to the variance for stability (default 1e-5; BERT checkpoints use 1e-12).
    public init(_ features: Int, epsilon: Float = 1e-5) {
        weight = Parameter(.ones([features]))
        bias = Parameter(.zeros([features]))
        self.epsilon = epsilon
    }

    /// `weight` (γ) and `bias` (β).
    public var namedParameters: [(name: String, parameter: Parameter)] { [("weight", weight), ("bias", bias)] }

    /// Normalises each vector along the last axis to zero mean and unit variance, then scales and shifts; same shape out.
    public func callAsFunction(_ input: Tensor) -> Tensor {
        input.layerNorm(gamma: weight.value, beta: bias.value, epsilon: epsilon)
    }
}

/// A lookup table of vectors: row i is the embedding of token i.
public final class Embedding: Module {
    /// The table, shape [count, dimension].
    public let weight: Parameter
    /// Unused: a lookup behaves the same in training and evaluation.
    public var isTraining = true

    /// Creates an embedding table.
    /// - Parameters:
    ///   - count: Number of rows (vocabulary size).
    ///   - dimension: Length of each embedding vector.
    ///   - initializer: How the table is filled (default N(0, 1), PyTorch's default).
    ///   - generator: Seeded generator for the initial values.
    public init(_ count: Int, _ dimension: Int, initializer: Initializer = .normal(std: 1), generator: inout SeededGenerator) {
        weight = Parameter(initializer.make([count, dimension], fanIn: dimension, fanOut: count, generator: &generator))
    }

    /// `weight`, the table.
    public var namedParameters: [(name: String, parameter: Parameter)] { [("weight", weight)] }

    /// Rows for `ids`, shape [ids.count, dimension].
    public func callAsFunction(_ ids: [Int]) -> Tensor { weight.value.indexSelect(ids) }
}
