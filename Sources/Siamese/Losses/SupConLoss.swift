import Tensors

/// Supervised contrastive loss, SupCon (Khosla et al. 2020, "Supervised Contrastive Learning", the
/// L^sup_out form; a supervised NT-Xent), as pytorch-metric-learning's `SupConLoss` with its
/// default cosine similarity and `AvgNonZeroReducer`.
///
/// With S the cosine similarities of the batch, τ the temperature, P(a) the other items of a's
/// class and every other item k ≠ a in the denominator:
///
///     ℓ_a = −1/|P(a)| · Σ_{p ∈ P(a)} log( e^{S_ap/τ} / Σ_{k ≠ a} e^{S_ak/τ} )
///     ℓ   = mean of ℓ_a over the anchors with ℓ_a > 0
///
/// Anchors without a positive contribute 0 and are left out of the mean. Empty case: a batch with
/// no positive pair or no negative pair (one class, all classes distinct, one item) gives a zero
/// connected to the graph, with zero — never NaN — gradients (as pml).
///
/// Default (pml): τ = 0.1. SimCLR's NT-Xent is the special case of two views per class.
public struct SupConLoss: Sendable {
    /// Softmax temperature τ.
    public var temperature: Float

    /// - Parameters:
    ///   - temperature: τ (pml 0.1).
    public init(temperature: Float = 0.1) {
        self.temperature = temperature
    }

    /// The loss of a labelled batch of `[n, d]` embeddings.
    public func callAsFunction(_ embeddings: Tensor, labels: [Int]) -> Tensor {
        checkLabelledBatch(embeddings, labels, op: "SupConLoss")
        let n = labels.count
        let pairs = PairMasks.all(labels: labels)
        if n < 2 || pairs.positivePairs == 0 || pairs.negativePairs == 0 { return embeddings.connectedZero() }
        let logits = Tensor.pairwiseCosineSimilarity(embeddings, embeddings) * (1 / temperature)
        let others = zip(pairs.positive, pairs.negative).map { $0 + $1 }
        let logProbability = logits - logits.maskedLogSumExp(keep: others, addOne: false).reshaped([n, 1])
        let inverseCounts = (0..<n).map { a -> Float in
            let k = pairs.positive[(a * n)..<(a * n + n)].reduce(0, +)
            return k > 0 ? 1 / k : 0
        }
        let terms = -(Tensor(shape: [n, n], pairs.positive) * logProbability).sum(axis: 1) * Tensor(shape: [n], inverseCounts)
        return terms.averageOfPositiveTerms().loss
    }
}
