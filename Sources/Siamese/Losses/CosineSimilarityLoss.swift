import Tensors

/// Cosine-similarity regression, as sentence-transformers' `CosineSimilarityLoss`: the squared
/// error between the cosine of each pair and its gold score,
///
///     ℓᵢ = ( cos(aᵢ, bᵢ) − yᵢ )²
///
/// Scores should lie in [−1, 1] (usually [0, 1], e.g. STS scores divided by 5).
///
/// Default: mean reduction (`torch.nn.MSELoss`). Shapes: `a`, `b` `[n, d]`, n scores; scalar
/// result, or `[n]` for ``LossReduction/none``.
public struct CosineSimilarityLoss: Sendable {
    public var reduction: LossReduction

    public init(reduction: LossReduction = .mean) {
        self.reduction = reduction
    }

    public func callAsFunction(_ a: Tensor, _ b: Tensor, scores: [Float]) -> Tensor {
        checkPairBatch(a, b, labelCount: scores.count, op: "CosineSimilarityLoss")
        return reduction.apply((Distance.cosine.rowwise(a, b) - Tensor(scores)).squared())
    }
}
