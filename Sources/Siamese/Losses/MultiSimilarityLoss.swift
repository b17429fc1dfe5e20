import Tensors

/// Multi-similarity loss (Wang et al. 2019, "Multi-Similarity Loss with General Pair Weighting for
/// Deep Metric Learning"), as pytorch-metric-learning's `MultiSimilarityLoss` with its default
/// cosine similarity and `MeanReducer`.
///
/// With S the cosine similarities of the batch and, for each anchor a, its positive pairs P(a) and
/// negative pairs N(a) (every pair, or those a ``MultiSimilarityMiner`` keeps):
///
///     ℓ_a = 1/α · log(1 + Σ_{p ∈ P(a)} e^{−α (S_ap − λ)}) + 1/β · log(1 + Σ_{n ∈ N(a)} e^{β (S_an − λ)})
///     ℓ   = mean over all n anchors of ℓ_a
///
/// An anchor without positives (or negatives) contributes log 1 = 0 for that part and still counts
/// in the mean, as in pml. Empty case: when at most one positive and at most one negative pair take
/// part (one item; or a miner that kept nothing) the loss is a zero connected to the graph, with
/// zero — never NaN — gradients (pml's `GenericPairLoss` rule, "≤ 1" included). Without a miner a
/// batch of one class still has a loss (its positive part), and so does a batch of distinct classes
/// (its negative part).
///
/// Defaults (pml): α = 2, β = 50, base λ = 0.5, no miner.
public struct MultiSimilarityLoss: Sendable {
    /// The loss and how many (ordered) pairs took part.
    public struct Result: Sendable {
        /// Scalar loss.
        public var loss: Tensor
        /// Ordered positive pairs used (all of them, or those the miner kept).
        public var positivePairs: Int
        /// Ordered negative pairs used.
        public var negativePairs: Int
    }

    /// Weight of the positive pairs' exponent.
    public var alpha: Float
    /// Weight of the negative pairs' exponent.
    public var beta: Float
    /// The similarity λ both exponents are measured from.
    public var base: Float
    /// Pair mining inside the batch; nil uses every pair.
    public var miner: MultiSimilarityMiner?

    /// - Parameters:
    ///   - alpha: positive exponent weight (pml 2).
    ///   - beta: negative exponent weight (pml 50).
    ///   - base: the similarity λ (pml 0.5).
    ///   - miner: in-batch pair mining, usually `MultiSimilarityMiner()` (ε 0.1) as in the paper.
    public init(alpha: Float = 2, beta: Float = 50, base: Float = 0.5, miner: MultiSimilarityMiner? = nil) {
        self.alpha = alpha
        self.beta = beta
        self.base = base
        self.miner = miner
    }

    /// The loss of a labelled batch of `[n, d]` embeddings.
    public func callAsFunction(_ embeddings: Tensor, labels: [Int]) -> Result {
        checkLabelledBatch(embeddings, labels, op: "MultiSimilarityLoss")
        if labels.count < 2 { return Result(loss: embeddings.connectedZero(), positivePairs: 0, negativePairs: 0) }
        let s = Tensor.pairwiseCosineSimilarity(embeddings, embeddings)
        let pairs = miner?.mine(similarities: s.scalars, labels: labels) ?? PairMasks.all(labels: labels)
        let (positives, negatives) = (pairs.positivePairs, pairs.negativePairs)
        if positives <= 1 && negatives <= 1 {
            return Result(loss: embeddings.connectedZero(), positivePairs: positives, negativePairs: negatives)
        }
        let positive = ((base - s) * alpha).maskedLogSumExp(keep: pairs.positive, addOne: true) * (1 / alpha)
        let negative = ((s - base) * beta).maskedLogSumExp(keep: pairs.negative, addOne: true) * (1 / beta)
        return Result(loss: (positive + negative).mean(), positivePairs: positives, negativePairs: negatives)
    }
}
