import NN
import Tensors

/// A learned comparison head (Koch, Zemel & Salakhutdinov 2015, "Siamese Neural Networks for
/// One-shot Image Recognition"): the twin embeddings a, b are compared by a trained layer instead
/// of a fixed distance.
///
///     features = |a − b|            (or [ |a − b| , a ⊙ b ] with `includesProduct`)
///     logit    = w · features + b0
///     P(same)  = σ(logit)
///
/// Koch et al. use the weighted L1 form (|a − b| only). The element-wise product adds a
/// symmetric, sign-aware interaction term (as in InferSent-style pair classifiers); both forms
/// are symmetric in a and b. Train it with ``BinaryCrossEntropy`` on the logits.
///
/// Parameters: `linear.weight` `[1, d]` (or `[1, 2d]`) and `linear.bias` `[1]`, initialised like
/// PyTorch's `nn.Linear`.
public final class LearnedHead: Module {
    public let linear: Linear
    /// Whether a ⊙ b is concatenated after |a − b|.
    public let includesProduct: Bool
    public var isTraining = true

    /// A head for embeddings of `dimension` features.
    public init(dimension: Int, includesProduct: Bool = false, generator: inout SeededGenerator) {
        self.includesProduct = includesProduct
        linear = Linear(includesProduct ? 2 * dimension : dimension, 1, generator: &generator)
    }

    /// The embedding size the head expects.
    public var dimension: Int { includesProduct ? linear.inFeatures / 2 : linear.inFeatures }

    public var namedParameters: [(name: String, parameter: Parameter)] {
        scoped("linear", linear.namedParameters)
    }

    /// The comparison features of each pair: `[n, d]`, or `[n, 2d]` with the product.
    public func features(_ a: Tensor, _ b: Tensor) -> Tensor {
        ensure(a.rank == 2 && a.shape == b.shape && a.shape[1] == dimension,
                     "LearnedHead: needs two [n, \(dimension)] batches, got \(a.shape) and \(b.shape)")
        let difference = (a - b).abs()
        return includesProduct ? Tensor.concatenate([difference, a * b], axis: 1) : difference
    }

    /// The logit of P(same) for each pair: shape `[n]`.
    public func logits(_ a: Tensor, _ b: Tensor) -> Tensor {
        let n = a.shape[0]
        return linear(features(a, b)).reshaped([n])
    }

    /// Same as ``logits(_:_:)``.
    public func callAsFunction(_ a: Tensor, _ b: Tensor) -> Tensor { logits(a, b) }

    /// P(same) for each pair: σ(logit), shape `[n]`.
    public func probabilities(_ a: Tensor, _ b: Tensor) -> Tensor { logits(a, b).sigmoid() }
}
