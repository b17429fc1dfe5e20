import Tensors

/// SimCLR's normalised temperature-scaled cross-entropy, NT-Xent (Chen et al. 2020, "A Simple
/// Framework for Contrastive Learning of Visual Representations"), as lightly's `NTXentLoss`
/// without a memory bank.
///
/// The two views of a batch of n items give 2n L2-normalised rows z. Each row must pick its twin
/// (the other view of the same item) among the 2n − 1 other rows:
///
///     ℓ_i = −log( exp(z_i·z_twin(i) / τ) / Σ_{k ≠ i} exp(z_i·z_k / τ) )
///     ℓ   = mean over the 2n rows
///
/// Default τ = 0.5 (lightly's default; SimCLR's CIFAR runs use 0.5, ImageNet 0.1).
public struct NTXentLoss: Sendable {
    /// Softmax temperature τ.
    public var temperature: Float

    /// - Parameters:
    ///   - temperature: τ > 0 (lightly 0.5).
    public init(temperature: Float = 0.5) {
        ensure(temperature > 0 && temperature.isFinite, "NTXentLoss: temperature must be positive, got \(temperature)")
        self.temperature = temperature
    }

    /// The loss of two `[n, d]` views of one batch (row i of each is the same item); scalar.
    public func callAsFunction(_ view0: Tensor, _ view1: Tensor) -> Tensor {
        lossPrecondition(view0.rank == 2 && view0.shape == view1.shape && view0.shape[0] >= 1, "NTXentLoss",
                         "needs two [n, d] views of one shape with n ≥ 1, got \(view0.shape) and \(view1.shape)")
        let n = view0.shape[0], m = 2 * n
        let z = Tensor.concatenate([view0, view1], axis: 0).l2Normalized()
        let logits = Tensor.matmul(z, z, transposeB: true) * (1 / temperature)   // [2n, 2n]
        var others = [Float](repeating: 1, count: m * m)
        var twins = [Float](repeating: 0, count: m * m)
        for i in 0..<m {
            others[i * m + i] = 0
            twins[i * m + (i + n) % m] = 1
        }
        let positive = (logits * Tensor(shape: [m, m], twins)).sum(axis: 1)
        return (logits.maskedLogSumExp(keep: others, addOne: false) - positive).mean()
    }
}
