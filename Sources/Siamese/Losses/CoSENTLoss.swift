import Tensors

/// CoSENT loss (Su Jianlin 2022, "CoSENT: a more efficient sentence vector scheme than
/// Sentence-BERT"), as sentence-transformers' `CoSENTLoss`.
///
/// For pairs (aᵢ, bᵢ) with gold similarity scores yᵢ and cosines cᵢ = cos(aᵢ, bᵢ), every pair of
/// pairs that the gold scores order (y_i > y_j) should be ordered the same way by the cosines:
///
///     ℓ = log( 1 + Σ_{(i, j): y_i > y_j} exp( λ · (c_j − c_i) ) )
///
/// Only the order of the gold scores matters (any monotone rescaling gives the same loss); ties
/// contribute nothing. A batch without two distinct scores gives log 1 = 0, connected to the graph.
///
/// Defaults (sentence-transformers): scale λ = 20, cosine similarity. Other ``Distance`` kinds use
/// their similarity (dot) or negated distance.
///
/// Shapes: `a`, `b` `[n, d]` and n scores; scalar result. The loss is built from the O(n²)
/// ordered pairs (only those with y_i > y_j are materialised).
public struct CoSENTLoss: Sendable {
    public var scale: Float
    public var similarity: Distance

    public init(scale: Float = 20, similarity: Distance = .cosine) {
        self.scale = scale
        self.similarity = similarity
    }

    public func callAsFunction(_ a: Tensor, _ b: Tensor, scores: [Float]) -> Tensor {
        checkPairBatch(a, b, labelCount: scores.count, op: "CoSENTLoss")
        let raw = similarity.rowwise(a, b)
        return Self.ranking((similarity.isSimilarity ? raw : -raw) * scale, scores: scores)
    }

    /// log(1 + Σ_{y_i < y_j} exp(s_i − s_j)) for scaled similarities `s` `[n]` (shared with ``AnglELoss``).
    static func ranking(_ s: Tensor, scores: [Float]) -> Tensor {
        let n = scores.count
        // Flat indices of (i, j) with y_i < y_j into the n×n matrix s_i − s_j: each term is
        // λ(c_i − c_j) for a lower-scored i, as in sentence-transformers.
        var ordered: [Int] = []
        for i in 0..<n { for j in 0..<n where scores[i] < scores[j] { ordered.append(i * n + j) } }
        if ordered.isEmpty { return s.connectedZero() }
        let differences = (s.reshaped([n, 1]) - s.reshaped([1, n])).reshaped([n * n]).indexSelect(ordered)
        // The leading zero is the "1 +" inside the log: log(e⁰ + Σ e^…), computed stably.
        return Tensor.concatenate([Tensor.zeros([1]), differences], axis: 0).logSumExp(axis: 0)
    }
}
