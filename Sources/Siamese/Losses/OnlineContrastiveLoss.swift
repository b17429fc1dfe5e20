import Tensors

/// Contrastive loss over the hard pairs of a batch only (sentence-transformers'
/// `OnlineContrastiveLoss`).
///
/// The pairs are chosen by ``PairMiner/hardPairs(distances:labels:)``: same pairs farther apart
/// than the closest different pair, and different pairs closer than the farthest same pair. On
/// them
///
///     ℓ = Σ_{hard positives} d² + Σ_{hard negatives} max(0, m − d)²
///
/// with no ½ factor (unlike ``ContrastiveLoss``), exactly as sentence-transformers. Easy pairs
/// contribute nothing, so the gradient concentrates on the pairs that are out of order.
///
/// Labels must be 0 (different) or 1 (same); other values are ignored. When no pair is hard the
/// loss is a zero still connected to the embeddings (its gradient is zero, never NaN).
///
/// Defaults (sentence-transformers): cosine distance 1 − cos, margin 0.5, **sum** reduction.
/// ``LossReduction/mean`` divides by the number of hard pairs; ``LossReduction/none`` returns the
/// `[n]` per-pair terms with zeros for the pairs not selected.
public struct OnlineContrastiveLoss: Sendable {
    /// The loss and how many pairs were selected.
    public struct Result: Sendable {
        public var loss: Tensor
        /// Same pairs that were farther apart than the closest different pair.
        public var hardPositives: Int
        /// Different pairs that were closer than the farthest same pair.
        public var hardNegatives: Int
    }

    public var margin: Float
    public var distance: Distance
    public var reduction: LossReduction

    public init(margin: Float = 0.5, distance: Distance = .cosine, reduction: LossReduction = .sum) {
        self.margin = margin
        self.distance = distance
        self.reduction = reduction
    }

    /// The loss for the pairs (a[i], b[i]) of shape `[n, d]` with `labels[i]` ∈ {0, 1}.
    public func callAsFunction(_ a: Tensor, _ b: Tensor, labels: [Float]) -> Result {
        checkPairBatch(a, b, labelCount: labels.count, op: "OnlineContrastiveLoss")
        return self(distances: distance.rowwiseDistance(a, b), labels: labels)
    }

    /// The loss from precomputed pair distances of shape `[n]`.
    public func callAsFunction(distances d: Tensor, labels: [Float]) -> Result {
        lossPrecondition(d.rank == 1 && d.shape[0] == labels.count, "OnlineContrastiveLoss",
                         "needs [n] distances and n labels, got \(d.shape) and \(labels.count)")
        let hard = PairMiner.hardPairs(distances: d.scalars, labels: labels)
        var positive = [Float](repeating: 0, count: labels.count)
        var negative = positive
        for i in hard.positives { positive[i] = 1 }
        for i in hard.negatives { negative[i] = 1 }
        // Constant selection masks times differentiable terms: unselected pairs get zero gradient.
        let terms = Tensor(positive) * d.squared() + Tensor(negative) * (margin - d).relu().squared()
        let loss: Tensor
        switch reduction {
        case .sum: loss = hard.count == 0 ? d.connectedZero() : terms.sum()
        case .mean: loss = hard.count == 0 ? d.connectedZero() : terms.sum() * (1 / Float(hard.count))
        case .none: loss = terms
        }
        return Result(loss: loss, hardPositives: hard.positives.count, hardNegatives: hard.negatives.count)
    }
}
