import Tensors

/// How a loss turns its per-example terms into what it returns.
///
/// - ``mean``: the average over the terms (zero for an empty batch), as PyTorch's default.
/// - ``sum``: the total.
/// - ``none``: the per-example terms themselves, shape `[n]`; call `backward(seed:)` with a seed of
///   the same shape, or reduce them yourself (weighting, masking).
public enum LossReduction: String, Sendable, Codable, CaseIterable {
    case mean
    case sum
    case none

    /// Applies the reduction to per-example terms of shape `[n]`.
    public func apply(_ terms: Tensor) -> Tensor {
        switch self {
        case .mean: terms.mean()
        case .sum: terms.sum()
        case .none: terms
        }
    }
}

extension Tensor {
    /// A scalar zero that is still connected to this tensor's graph, with a zero (never NaN)
    /// gradient: what a loss returns when nothing in the batch contributes (no valid triplet, no
    /// hard pair). `backward()` then succeeds and leaves zeros, so a training step need not special-
    /// case an empty batch. `maskedFill` is used rather than `0 * x` so that even an infinite input
    /// cannot turn the zero into NaN.
    func connectedZero() -> Tensor {
        maskedFill(Tensor(shape: [Int](repeating: 1, count: rank), repeating: 1), with: 0).sum()
    }
}

/// Stops with a message naming the loss when its inputs do not fit together (a programming error,
/// like adding tensors whose shapes do not broadcast; see `TensorError` for the policy).
@inline(__always)
func lossPrecondition(_ condition: @autoclosure () -> Bool, _ op: @autoclosure () -> String, _ message: @autoclosure () -> String) {
    // `ensure`, not `preconditionFailure`: optimised builds would drop the message.
    ensure(condition(), "\(op()): \(message())")
}

/// Checks a pair batch: two `[n, d]` tensors of one shape and `n` labels.
func checkPairBatch(_ a: Tensor, _ b: Tensor, labelCount: Int, op: String) {
    lossPrecondition(a.rank == 2 && a.shape == b.shape, op, "needs two [n, d] batches of one shape, got \(a.shape) and \(b.shape)")
    lossPrecondition(labelCount == a.shape[0], op, "\(labelCount) labels for \(a.shape[0]) pairs")
}
