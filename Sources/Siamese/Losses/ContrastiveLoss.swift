import Tensors

/// Contrastive loss for labelled pairs (Hadsell, Chopra & LeCun, "Dimensionality Reduction by
/// Learning an Invariant Mapping", CVPR 2006).
///
/// For a pair with label y (1 = same, 0 = different) at distance d:
///
///     ℓ = ½ · ( y · d² + (1 − y) · max(0, m − d)² )
///
/// Same pairs are pulled together; different pairs are pushed apart until they are at least the
/// margin m away, and then left alone.
///
/// **The ½ factor.** Hadsell et al. write both terms with ½ (and, unlike here, use Y = 0 for
/// similar pairs). sentence-transformers' `ContrastiveLoss` keeps the ½, and so do we by default
/// (``halved`` = true) so that our loss values compare one to one with theirs. Dropping it
/// (``halved`` = false gives y·d² + (1 − y)·max(0, m − d)²) only doubles the loss and its gradient,
/// which plain SGD sees as a doubled learning rate and Adam not at all.
///
/// Labels between 0 and 1 are accepted and weight the two terms, as in sentence-transformers.
///
/// Defaults (sentence-transformers): cosine distance 1 − cos(a, b), margin 0.5, mean reduction.
///
/// Shapes: `a`, `b` `[n, d]`, `labels` n values; the result is a scalar, or `[n]` for
/// ``LossReduction/none``.
public struct ContrastiveLoss: Sendable {
    /// Distance below which different pairs are penalised.
    public var margin: Float
    /// How the pair is compared; similarities are turned into distances by
    /// ``Distance/rowwiseDistance(_:_:)`` (1 − cos for cosine).
    public var distance: Distance
    public var reduction: LossReduction
    /// Whether the ½ of Hadsell et al. and sentence-transformers multiplies the loss.
    public var halved: Bool

    public init(margin: Float = 0.5, distance: Distance = .cosine, reduction: LossReduction = .mean, halved: Bool = true) {
        self.margin = margin
        self.distance = distance
        self.reduction = reduction
        self.halved = halved
    }

    /// The loss for the pairs (a[i], b[i]) with `labels[i]` (1 same, 0 different).
    public func callAsFunction(_ a: Tensor, _ b: Tensor, labels: [Float]) -> Tensor {
        checkPairBatch(a, b, labelCount: labels.count, op: "ContrastiveLoss")
        return self(distances: distance.rowwiseDistance(a, b), labels: labels)
    }

    /// The loss from precomputed pair distances of shape `[n]`.
    public func callAsFunction(distances d: Tensor, labels: [Float]) -> Tensor {
        lossPrecondition(d.rank == 1 && d.shape[0] == labels.count, "ContrastiveLoss",
                         "needs [n] distances and n labels, got \(d.shape) and \(labels.count)")
        let y = Tensor(labels)
        let terms = y * d.squared() + (1 - y) * (margin - d).relu().squared()
        return reduction.apply(halved ? terms * 0.5 : terms)
    }
}
