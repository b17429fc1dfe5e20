import Tensors

/// Binary cross-entropy for a learned comparison head (Koch, Zemel & Salakhutdinov 2015, "Siamese
/// Neural Networks for One-shot Image Recognition"): the head outputs P(same) for a pair, trained
/// against labels y (1 same, 0 different):
///
///     ℓ = −( y · log p + (1 − y) · log(1 − p) )
///
/// - From **logits** z (p = σ(z)), the numerically stable form of `torch.nn.BCEWithLogitsLoss`:
///   ℓ = max(z, 0) − z·y + log(1 + e^−|z|) (softplus(z) − z·y), gradient σ(z) − y. Exact for any
///   |z|; prefer it.
/// - From **probabilities** p (`torch.nn.BCELoss`): p and 1 − p are clamped to at least 10⁻¹² before
///   the log, so p = 0 or 1 gives a finite loss (at most ≈ 27.6 per term) and a finite gradient.
///   PyTorch clamps the log at −100 instead; the two agree for p in [10⁻¹², 1 − 10⁻¹²].
///
/// Labels between 0 and 1 are accepted (soft targets). Default: mean reduction. Shapes: any shape
/// with as many elements as labels (`[n]` or `[n, 1]`); scalar result, or the input's shape for
/// ``LossReduction/none``.
public struct BinaryCrossEntropy: Sendable {
    public var reduction: LossReduction

    public init(reduction: LossReduction = .mean) {
        self.reduction = reduction
    }

    /// The loss from logits z, p = σ(z).
    public func callAsFunction(logits z: Tensor, labels: [Float]) -> Tensor {
        let y = targets(labels, like: z, op: "BinaryCrossEntropy(logits:)")
        return reduction.apply(z.softplus() - z * y)
    }

    /// The loss from probabilities p in [0, 1].
    public func callAsFunction(probabilities p: Tensor, labels: [Float]) -> Tensor {
        let y = targets(labels, like: p, op: "BinaryCrossEntropy(probabilities:)")
        let epsilon: Float = 1e-12
        return reduction.apply(-(y * p.clamped(min: epsilon).log() + (1 - y) * (1 - p).clamped(min: epsilon).log()))
    }

    private func targets(_ labels: [Float], like x: Tensor, op: String) -> Tensor {
        lossPrecondition(x.count == labels.count, op, "\(labels.count) labels for an input of shape \(x.shape)")
        return Tensor(shape: x.shape, labels)
    }
}
