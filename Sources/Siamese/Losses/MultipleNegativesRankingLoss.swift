import Tensors

/// Multiple-negatives ranking loss, also called InfoNCE or in-batch softmax loss (van den Oord et
/// al. 2018, "Representation Learning with Contrastive Predictive Coding"; Henderson et al. 2017,
/// "Efficient Natural Language Response Suggestion for Smart Reply"), as sentence-transformers'
/// `MultipleNegativesRankingLoss`.
///
/// Anchor i must pick its own positive among all candidates: the positives of the other anchors
/// serve as negatives, plus any extra hard-negative rows. With s(·,·) the similarity, λ the scale
/// (1 / temperature) and C = [positives; hardNegatives₁; …] the candidate rows,
///
///     ℓᵢ = −log( exp(λ·s(aᵢ, pᵢ)) / Σ_j exp(λ·s(aᵢ, C_j)) )
///
/// i.e. cross-entropy over the logits λ·s(A, C) with the diagonal as targets. The **symmetric**
/// variant (sentence-transformers' `MultipleNegativesSymmetricRankingLoss`) also asks each positive
/// to pick its anchor among all anchors, and averages the two directions:
///
///     ℓᵢ = ½ · ( ℓᵢ + −log( exp(λ·s(aᵢ, pᵢ)) / Σ_j exp(λ·s(a_j, pᵢ)) ) )
///
/// (hard negatives take part in the first direction only, as in sentence-transformers).
///
/// Batches must not contain duplicates: a repeated positive is a false negative for the other
/// anchor (use a no-duplicates batch sampler).
///
/// Defaults (sentence-transformers): cosine similarity, scale 20 (temperature 0.05), not
/// symmetric, mean over anchors. ``Distance/dot`` uses raw dot products; the distance kinds use
/// the negated distance as similarity.
///
/// Shapes: `anchors` and `positives` `[n, d]`; each hard-negative block `[m, d]` (usually
/// `[n, d]`, one hard negative per anchor). Scalar result, or `[n]` for ``LossReduction/none``.
public struct MultipleNegativesRankingLoss: Sendable {
    /// Multiplies the similarities before the softmax: 1 / temperature.
    public var scale: Float
    public var similarity: Distance
    public var symmetric: Bool
    public var reduction: LossReduction

    public init(scale: Float = 20, similarity: Distance = .cosine, symmetric: Bool = false, reduction: LossReduction = .mean) {
        self.scale = scale
        self.similarity = similarity
        self.symmetric = symmetric
        self.reduction = reduction
    }

    /// The softmax temperature, 1 / ``scale``.
    public var temperature: Float { 1 / scale }

    public func callAsFunction(anchors: Tensor, positives: Tensor, hardNegatives: [Tensor] = []) -> Tensor {
        lossPrecondition(anchors.rank == 2 && anchors.shape == positives.shape, "MultipleNegativesRankingLoss",
                         "needs [n, d] anchors and positives of one shape, got \(anchors.shape) and \(positives.shape)")
        for negatives in hardNegatives {
            lossPrecondition(negatives.rank == 2 && negatives.shape[1] == anchors.shape[1], "MultipleNegativesRankingLoss",
                             "hard negatives must be [m, \(anchors.shape[1])], got \(negatives.shape)")
        }
        let n = anchors.shape[0]
        if n == 0 { return anchors.connectedZero() }
        let candidates = hardNegatives.isEmpty ? positives : Tensor.concatenate([positives] + hardNegatives, axis: 0)
        let raw = similarity.pairwise(anchors, candidates)
        let logits = (similarity.isSimilarity ? raw : -raw) * scale            // [n, n + Σm]
        let square = hardNegatives.isEmpty ? logits : logits.slice(axis: 1, 0..<n)  // anchors × positives
        let target = (square * Self.identity(n)).sum(axis: 1)                 // λ·s(aᵢ, pᵢ)
        var terms = logits.logSumExp(axis: 1) - target
        if symmetric {
            terms = (terms + (square.logSumExp(axis: 0) - target)) * 0.5
        }
        return reduction.apply(terms)
    }

    /// A constant n×n identity mask that picks the diagonal.
    private static func identity(_ n: Int) -> Tensor {
        var eye = Tensor.zeros([n, n])
        eye.withUnsafeMutableBufferPointer { p in for i in 0..<n { p[i * n + i] = 1 } }
        return eye
    }
}
