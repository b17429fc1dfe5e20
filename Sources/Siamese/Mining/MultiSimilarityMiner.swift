import Tensors

/// The pair mining of Wang et al. 2019 ("Multi-Similarity Loss with General Pair Weighting for Deep
/// Metric Learning"), as pytorch-metric-learning's `MultiSimilarityMiner` with its default cosine
/// similarity.
///
/// With S the cosine similarities of the batch, for every anchor a:
/// - a positive (a, p) is kept when S[a, p] − ε < max_n S[a, n] (it is less similar than the
///   hardest negative plus ε);
/// - a negative (a, n) is kept when S[a, n] + ε > min_p S[a, p] (more similar than the hardest
///   positive minus ε).
///
/// An anchor without a negative keeps no positive, and one without a positive keeps no negative.
/// A batch with no positive pair or no negative pair at all (one class, all classes distinct)
/// mines nothing. Comparisons are strict, in float32. Default ε = 0.1 (pml).
public struct MultiSimilarityMiner: Sendable {
    /// The slack ε of both tests.
    public var epsilon: Float

    /// - Parameters:
    ///   - epsilon: slack of the hardness tests (pml default 0.1).
    public init(epsilon: Float = 0.1) {
        self.epsilon = epsilon
    }

    /// Mines the rows of `embeddings` (`[n, d]`, compared by cosine similarity) with their labels.
    public func callAsFunction(_ embeddings: Tensor, labels: [Int]) -> PairMasks {
        lossPrecondition(embeddings.rank == 2 && embeddings.shape[0] == labels.count, "MultiSimilarityMiner",
                         "needs [n, d] embeddings and n labels, got \(embeddings.shape) and \(labels.count)")
        let s = withoutGradients { Tensor.pairwiseCosineSimilarity(embeddings, embeddings) }
        return mine(similarities: s.scalars, labels: labels)
    }

    /// Mines from a precomputed row-major n×n similarity matrix.
    public func mine(similarities s: [Float], labels: [Int]) -> PairMasks {
        let n = labels.count
        lossPrecondition(s.count == n * n, "MultiSimilarityMiner", "needs an n×n similarity matrix for \(n) labels, got \(s.count) values")
        let all = PairMasks.all(labels: labels)
        var kept = PairMasks(count: n)
        guard all.positivePairs > 0, all.negativePairs > 0 else { return kept }
        for a in 0..<n {
            var hardestNegative = -Float.infinity, hardestPositive = Float.infinity
            for j in 0..<n {
                if all.negative[a * n + j] != 0 { hardestNegative = max(hardestNegative, s[a * n + j]) }
                if all.positive[a * n + j] != 0 { hardestPositive = min(hardestPositive, s[a * n + j]) }
            }
            for j in 0..<n {
                let k = a * n + j
                if all.positive[k] != 0, s[k] - epsilon < hardestNegative { kept.positive[k] = 1 }
                if all.negative[k] != 0, s[k] + epsilon > hardestPositive { kept.negative[k] = 1 }
            }
        }
        return kept
    }
}
