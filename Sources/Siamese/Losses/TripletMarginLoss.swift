import Tensors

/// Triplet margin loss on explicit (anchor, positive, negative) triplets (Weinberger & Saul 2009;
/// Schroff, Kalenichenko & Philbin, "FaceNet", CVPR 2015):
///
///     ℓ = max(0, d(a, p) − d(a, n) + m)
///
/// The positive must end up closer to the anchor than the negative by at least the margin m.
/// For labelled batches whose triplets are mined in the batch, use ``BatchTripletLoss``.
///
/// Defaults (as `torch.nn.TripletMarginLoss`): Euclidean distance, margin 1, mean reduction. With
/// ``Distance/cosine`` the distance is 1 − cos (sentence-transformers' `TripletLoss` with
/// `TripletDistanceMetric.COSINE`); ``Distance/squaredEuclidean`` gives FaceNet's form.
///
/// Differences from PyTorch: `torch.nn.TripletMarginLoss` adds `eps` = 1e-6 to the difference
/// vector before the norm; we compute √(‖a − p‖² + 10⁻¹²) instead (the reference fixture uses
/// eps = 0), which only matters for near-duplicate embeddings.
///
/// Shapes: `anchor`, `positive`, `negative` `[n, d]`; scalar result, or `[n]` for
/// ``LossReduction/none``.
public struct TripletMarginLoss: Sendable {
    public var margin: Float
    public var distance: Distance
    public var reduction: LossReduction

    public init(margin: Float = 1, distance: Distance = .euclidean, reduction: LossReduction = .mean) {
        self.margin = margin
        self.distance = distance
        self.reduction = reduction
    }

    public func callAsFunction(anchor: Tensor, positive: Tensor, negative: Tensor) -> Tensor {
        lossPrecondition(anchor.rank == 2 && anchor.shape == positive.shape && anchor.shape == negative.shape,
                         "TripletMarginLoss", "needs three [n, d] batches of one shape, got \(anchor.shape), \(positive.shape), \(negative.shape)")
        let violation = distance.rowwiseDistance(anchor, positive) - distance.rowwiseDistance(anchor, negative) + margin
        return reduction.apply(violation.relu())
    }
}
