import Tensors

/// Circle loss for pair-wise labels (Sun et al. 2020, "Circle Loss: A Unified Perspective of Pair
/// Similarity Optimization"), as pytorch-metric-learning's `CircleLoss` with its default cosine
/// similarity and `AvgNonZeroReducer`.
///
/// With S the cosine similarities of the batch, m the relaxation and γ the scale, each positive
/// pair gets the weight α_p = [1 + m − S_ap]₊ and each negative α_n = [S_an + m]₊, held constant
/// (no gradient flows through the weights, as in the paper and pml). For an anchor a with
/// positives P(a) and negatives N(a):
///
///     ℓ_a = softplus( log Σ_{n ∈ N(a)} e^{γ α_n (S_an − m)} + log Σ_{p ∈ P(a)} e^{−γ α_p (S_ap − (1 − m))} )
///     ℓ   = mean of ℓ_a over the anchors with ℓ_a > 0
///
/// Anchors without a positive or without a negative contribute 0 and are left out of the mean.
/// Empty case: a batch where no anchor has both (one class, all classes distinct, one item) gives a
/// zero connected to the graph, with zero — never NaN — gradients.
///
/// Defaults (pml, the paper's fine-grained retrieval setting): m = 0.4, γ = 80 (the paper uses
/// m = 0.25 with γ = 256 for faces, 128 for person re-identification).
public struct CircleLoss: Sendable {
    /// Relaxation factor m: the optima are 1 − m (positives) and m (negatives).
    public var m: Float
    /// Scale factor γ.
    public var gamma: Float

    /// - Parameters:
    ///   - m: relaxation (pml 0.4).
    ///   - gamma: scale (pml 80).
    public init(m: Float = 0.4, gamma: Float = 80) {
        self.m = m
        self.gamma = gamma
    }

    /// The loss of a labelled batch of `[n, d]` embeddings.
    public func callAsFunction(_ embeddings: Tensor, labels: [Int]) -> Tensor {
        loss(embeddings, labels: labels, weightsFrom: nil)
    }

    /// The loss with the pair weights α computed from `weightsFrom` (default: the embeddings
    /// themselves, detached). Lets a finite-difference test hold the weights fixed, as the
    /// analytic gradient does.
    func loss(_ embeddings: Tensor, labels: [Int], weightsFrom fixed: Tensor?) -> Tensor {
        checkLabelledBatch(embeddings, labels, op: "CircleLoss")
        let n = labels.count
        if n < 2 { return embeddings.connectedZero() }
        let s = Tensor.pairwiseCosineSimilarity(embeddings, embeddings)
        let constant = withoutGradients { fixed.map { Tensor.pairwiseCosineSimilarity($0, $0) } ?? s.detached() }
        let pairs = PairMasks.all(labels: labels)
        let positiveWeight = withoutGradients { (1 + m - constant).relu() }
        let negativeWeight = withoutGradients { (constant + m).relu() }
        let positive = (positiveWeight * (s - (1 - m)) * (-gamma)).maskedLogSumExp(keep: pairs.positive, addOne: false)
        let negative = (negativeWeight * (s - m) * gamma).maskedLogSumExp(keep: pairs.negative, addOne: false)
        let invalid = (0..<n).map { a -> Float in
            PairMasks.rowHasAny(pairs.positive, a, n) && PairMasks.rowHasAny(pairs.negative, a, n) ? 0 : 1
        }
        let terms = (positive + negative).softplus().maskedFill(Tensor(shape: [n], invalid), with: 0)
        return terms.averageOfPositiveTerms().loss
    }
}
