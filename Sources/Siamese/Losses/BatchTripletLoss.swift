import Tensors

/// What a mined triplet loss returns: the loss and how many triplets took part.
public struct TripletLossResult: Sendable {
    /// Scalar loss; a zero connected to the embeddings (zero gradient, never NaN) when the batch
    /// has no valid triplet.
    public var loss: Tensor
    /// Triplets with a positive loss, d(a, p) − d(a, n) + margin > 0.
    public var activeTriplets: Int
    /// Candidates the strategy chose from: every valid (a, p, n) for batch all; anchors with a
    /// positive and a negative for batch hard; anchor–positive pairs whose anchor has a negative
    /// for semi-hard. Zero means the batch cannot form a triplet (one class, or no repeated class).
    public var validTriplets: Int

    public init(loss: Tensor, activeTriplets: Int, validTriplets: Int) {
        self.loss = loss
        self.activeTriplets = activeTriplets
        self.validTriplets = validTriplets
    }

    /// activeTriplets / validTriplets, 0 for an empty batch. A value stuck near 1 with the loss near
    /// the margin is a sign of collapsed embeddings.
    public var activeFraction: Double { validTriplets == 0 ? 0 : Double(activeTriplets) / Double(validTriplets) }
}

/// Triplet margin loss over triplets mined inside a labelled batch.
///
/// With D the pairwise distance matrix of the batch (``Distance/pairwiseDistance(_:_:)``: Euclidean
/// by default, 1 − cos for cosine) and v(a, p, n) = D[a, p] − D[a, n] + m:
///
/// - ``TripletMiningStrategy/batchAll``: ℓ = Σ_{valid} max(0, v) / #{v > 0} — the mean over the
///   triplets that violate the margin (Hermans et al. 2017; pytorch-metric-learning's
///   `TripletMarginLoss` with its default `AvgNonZeroReducer`; sentence-transformers'
///   `BatchAllTripletLoss`).
/// - ``TripletMiningStrategy/batchHard``: ℓ = mean over anchors of max(0, max_p D[a, p] − min_n D[a, n] + m)
///   (Hermans, Beyer & Leibe 2017). Anchors without a positive or without a negative are left out
///   of the mean, as pytorch-metric-learning's `BatchHardMiner` does (sentence-transformers'
///   `BatchHardTripletLoss` instead averages over every anchor, counting such anchors with
///   made-up distances; the two agree when every anchor has both).
/// - ``TripletMiningStrategy/semiHard``: ℓ = mean over anchor–positive pairs of max(0, v) with the
///   semi-hard negative of ``TripletMiner/semiHard(distances:labels:)`` (FaceNet, Schroff et al.
///   2015; TF-addons' `triplet_semihard_loss`, sentence-transformers' `BatchSemiHardTripletLoss`).
///   Pairs whose anchor has no negative at all are left out.
///
/// Empty case: a batch without a valid triplet (all one class, all distinct classes, one element)
/// gives a zero loss connected to the graph, `validTriplets` = 0, and zero — never NaN — gradients.
///
/// Defaults: batch hard, margin 1, Euclidean distance. For L2-normalised embeddings Euclidean
/// distances lie in [0, 2]; margins of 0.2–0.5 are common there (FaceNet uses 0.2 with squared
/// distances).
///
/// Shapes: embeddings `[n, d]` with n `Int` class labels, or a precomputed `[n, n]` distance matrix.
public struct BatchTripletLoss: Sendable {
    public var strategy: TripletMiningStrategy
    public var margin: Float
    public var distance: Distance

    public init(strategy: TripletMiningStrategy = .batchHard, margin: Float = 1, distance: Distance = .euclidean) {
        self.strategy = strategy
        self.margin = margin
        self.distance = distance
    }

    /// Mines triplets among the rows of `embeddings` and returns their loss.
    public func callAsFunction(_ embeddings: Tensor, labels: [Int]) -> TripletLossResult {
        lossPrecondition(embeddings.rank == 2 && embeddings.shape[0] == labels.count, "BatchTripletLoss",
                         "needs [n, d] embeddings and n labels, got \(embeddings.shape) and \(labels.count)")
        if labels.count < 2 { return TripletLossResult(loss: embeddings.connectedZero(), activeTriplets: 0, validTriplets: 0) }
        return self(distances: distance.pairwiseDistance(embeddings, embeddings), labels: labels)
    }

    /// The loss from a precomputed `[n, n]` matrix of distances (smaller = more alike).
    public func callAsFunction(distances: Tensor, labels: [Int]) -> TripletLossResult {
        lossPrecondition(distances.rank == 2 && distances.shape[0] == distances.shape[1] && distances.shape[0] == labels.count,
                         "BatchTripletLoss", "needs an [n, n] distance matrix and n labels, got \(distances.shape) and \(labels.count)")
        let n = labels.count
        let (triplets, valid) = TripletMiner.mine(strategy, distances: distances, labels: labels, margin: margin)
        if triplets.isEmpty { return TripletLossResult(loss: distances.connectedZero(), activeTriplets: 0, validTriplets: valid) }
        // Gather the chosen entries from the differentiable matrix: gradients flow only into them.
        let flat = distances.reshaped([n * n])
        let dap = flat.indexSelect(triplets.map { $0.anchor * n + $0.positive })
        let dan = flat.indexSelect(triplets.map { $0.anchor * n + $0.negative })
        let hinge = (dap - dan + margin).relu()
        let active = hinge.withUnsafeBufferPointer { $0.reduce(0) { $1 > 0 ? $0 + 1 : $0 } }
        // Batch all divides by the number of violating triplets (only those were mined); the other
        // strategies by the number of anchors or pairs they chose for.
        let denominator = strategy == .batchAll ? Swift.max(active, 1) : triplets.count
        return TripletLossResult(loss: hinge.sum() * (1 / Float(denominator)), activeTriplets: active, validTriplets: valid)
    }
}
