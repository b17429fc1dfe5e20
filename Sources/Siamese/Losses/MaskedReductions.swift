import Tensors

extension Tensor {
    /// Row-wise log Σ_{j: keep[i, j] ≠ 0} exp(x[i, j]) of an `[n, m]` tensor, `[n]` result — with
    /// `addOne`, log(1 + Σ …) (pytorch-metric-learning's `logsumexp(keep_mask=…, add_one=…)`).
    ///
    /// A row with no kept entry gives 0: log 1 with `addOne`; without it the value is undefined and
    /// the caller masks it out. Either way its gradient is zero, never NaN (an all −∞ row would give
    /// NaN through the softmax, so such rows are filled with zeros first).
    func maskedLogSumExp(keep: [Float], addOne: Bool) -> Tensor {
        let n = shape[0], m = shape[1]
        var drop = [Float](repeating: 0, count: n * m)
        var emptyRows = [Float](repeating: 0, count: n)
        for i in 0..<n {
            var any = false
            for j in 0..<m { if keep[i * m + j] == 0 { drop[i * m + j] = 1 } else { any = true } }
            if !any { emptyRows[i] = 1 }
        }
        var x = maskedFill(Tensor(shape: [n, m], drop), with: -.infinity)
        if addOne {
            // The appended zero column is the 1 inside the log: log(e⁰ + Σ e^…), computed stably.
            return Tensor.concatenate([x, Tensor.zeros([n, 1])], axis: 1).logSumExp(axis: 1)
        }
        let empty = Tensor(shape: [n, 1], emptyRows)
        x = x.maskedFill(empty, with: 0)
        return x.logSumExp(axis: 1).maskedFill(empty.reshaped([n]), with: 0)
    }

    /// pytorch-metric-learning's `AvgNonZeroReducer`: the mean of the terms that are > 0, or a zero
    /// connected to the graph when none is. Returns the loss and how many terms were averaged.
    func averageOfPositiveTerms() -> (loss: Tensor, count: Int) {
        let positive = scalars.map { $0 > 0 ? Float(1) : 0 }
        let count = Int(positive.reduce(0, +))
        if count == 0 { return (connectedZero(), 0) }
        return ((self * Tensor(shape: shape, positive)).sum() * (1 / Float(count)), count)
    }
}

/// Checks an `[n, d]` batch of embeddings with n labels.
func checkLabelledBatch(_ embeddings: Tensor, _ labels: [Int], op: String) {
    lossPrecondition(embeddings.rank == 2 && embeddings.shape[0] == labels.count, op,
                     "needs [n, d] embeddings and n labels, got \(embeddings.shape) and \(labels.count)")
}
