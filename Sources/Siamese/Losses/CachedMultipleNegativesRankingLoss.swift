import Tensors

/// Multiple-negatives ranking with gradient caching, as sentence-transformers'
/// `CachedMultipleNegativesRankingLoss`: the loss and gradients of ``MultipleNegativesRankingLoss``
/// on a whole batch, with the model's autodiff graph held for one mini-batch at a time
/// (``GradientCache``), so that batches too large for memory — and with them many more in-batch
/// negatives — become possible. The model runs about 1.5 times as much per step as the plain loss
/// (each mini-batch is embedded twice, once without graph).
///
/// Rows are embedded as one list: the n anchors, then the n positives, then each hard-negative
/// block of n rows.
public struct CachedMultipleNegativesRankingLoss: Sendable {
    /// The loss on the whole batch's embeddings.
    public var loss: MultipleNegativesRankingLoss
    /// Rows per forward pass (sentence-transformers' default: 32).
    public var miniBatchSize: Int

    /// - Parameters:
    ///   - loss: the ranking loss (scale, similarity, symmetry).
    ///   - miniBatchSize: rows per forward pass, at least 1.
    public init(_ loss: MultipleNegativesRankingLoss = MultipleNegativesRankingLoss(), miniBatchSize: Int = 32) {
        lossPrecondition(miniBatchSize >= 1, "CachedMultipleNegativesRankingLoss", "mini-batch size must be at least 1, got \(miniBatchSize)")
        self.loss = loss
        self.miniBatchSize = miniBatchSize
    }

    /// The ranking loss on `anchors` embedded rows `[anchors; positives; negatives…]` with the
    /// cached backward pass (see ``GradientCache/callAsFunction(rows:embed:randomState:loss:)``).
    ///
    /// - Parameters:
    ///   - anchors: n, the anchor count; `rows` must be a multiple k·n with k ≥ 2.
    ///   - rows: how many rows `embed` covers.
    ///   - embed: the embeddings of a range of rows.
    ///   - randomState: the random state `embed` draws from (dropout), replayed in the backward pass.
    public func callAsFunction(anchors n: Int, rows: Int, embed: @escaping (Range<Int>) -> Tensor,
                               randomState: (get: () -> SeededGenerator, set: (SeededGenerator) -> Void)? = nil) -> BatchLoss {
        lossPrecondition(n >= 1 && rows % n == 0 && rows >= 2 * n, "CachedMultipleNegativesRankingLoss",
                         "needs rows = k·anchors with k ≥ 2, got \(rows) rows for \(n) anchors")
        return GradientCache(miniBatchSize: miniBatchSize)(rows: rows, embed: embed, randomState: randomState) { e in
            self.blocks(e, anchors: n)
        }
    }

    /// The ranking loss on already embedded rows `[anchors; positives; negatives…]`.
    public func blocks(_ e: Tensor, anchors n: Int) -> Tensor {
        let k = e.shape[0] / n
        return loss(anchors: e.slice(axis: 0, 0..<n), positives: e.slice(axis: 0, n..<(2 * n)),
                    hardNegatives: (2..<k).map { e.slice(axis: 0, ($0 * n)..<(($0 + 1) * n)) })
    }
}
