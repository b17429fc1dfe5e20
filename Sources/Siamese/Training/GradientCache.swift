import Tensors

/// Gradient caching (Gao et al. 2021, "Scaling Deep Contrastive Learning Batch Size under Memory
/// Limited Setup"), as in sentence-transformers' `CachedMultipleNegativesRankingLoss`: a loss over
/// the embeddings of a large batch, with the parameters' gradients of the whole batch, while the
/// autodiff graph of at most one mini-batch is held at a time.
///
/// 1. Embed the rows in mini-batches with gradient recording off (no graph is kept), and join them.
/// 2. Compute the loss on the joined embeddings as a gradient-tracking leaf, and its gradient with
///    respect to every embedding row.
/// 3. Embed each mini-batch again, this time recording, and back-propagate the cached rows of that
///    gradient into the parameters (`backward(seed:)`); the mini-batch's graph is dropped after it.
///
/// By the chain rule the accumulated gradients equal those of the loss on the whole batch embedded
/// at once. Dropout must draw the same masks in steps 1 and 3: the random state before each
/// mini-batch is saved in step 1 and restored before its replay (sentence-transformers'
/// `RandContext`), and after the last replay it is left where step 1 ended.
///
/// The loss value and step 2 run in ``BatchLoss/value``; steps 3 and the loss's backward run in
/// ``BatchLoss/backward``, which the ``Trainer`` calls in place of `value.backward()`.
public struct GradientCache: Sendable {
    /// Rows embedded per forward pass (the memory bound).
    public let miniBatchSize: Int

    /// - Parameters:
    ///   - miniBatchSize: rows per forward pass, at least 1.
    public init(miniBatchSize: Int) {
        lossPrecondition(miniBatchSize >= 1, "GradientCache", "mini-batch size must be at least 1, got \(miniBatchSize)")
        self.miniBatchSize = miniBatchSize
    }

    /// The loss of `rows` embedded rows, with a backward pass that replays the mini-batches.
    ///
    /// - Parameters:
    ///   - rows: how many rows `embed` covers.
    ///   - embed: the embeddings `[range.count, d]` of a range of rows; called once per mini-batch
    ///     without recording, then once more per mini-batch with recording (in the backward pass).
    ///   - randomState: reads and sets the random state that `embed` draws from (dropout); nil when
    ///     `embed` is deterministic.
    ///   - loss: the scalar loss of all rows' embeddings `[rows, d]`.
    public func callAsFunction(rows: Int, embed: @escaping (Range<Int>) -> Tensor,
                               randomState: (get: () -> SeededGenerator, set: (SeededGenerator) -> Void)? = nil,
                               loss: (Tensor) -> Tensor) -> BatchLoss {
        let ranges = stride(from: 0, to: rows, by: miniBatchSize).map { $0..<min(rows, $0 + miniBatchSize) }
        var states: [SeededGenerator] = []
        let parts: [Tensor] = withoutGradients {
            ranges.map { range in
                if let randomState { states.append(randomState.get()) }
                return embed(range)
            }
        }
        let endState = randomState?.get()
        let embeddings = (parts.count == 1 ? parts[0] : Tensor.concatenate(parts, axis: 0)).requiringGrad()
        let value = loss(embeddings)
        return BatchLoss(value.detached()) { () throws(AutodiffError) in
            try value.backward()
            // A loss that does not depend on the embeddings leaves no gradient: nothing to replay.
            guard let cached = embeddings.grad else { throw .noGradientPath }
            for (k, range) in ranges.enumerated() {
                if let randomState { randomState.set(states[k]) }
                try embed(range).backward(seed: cached.slice(axis: 0, range))
            }
            if let randomState, let endState { randomState.set(endState) }
        }
    }
}
