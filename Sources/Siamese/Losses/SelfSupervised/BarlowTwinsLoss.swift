import Tensors

/// Barlow Twins' redundancy-reduction loss (Zbontar et al. 2021, "Barlow Twins: Self-Supervised
/// Learning via Redundancy Reduction"), as lightly's `BarlowTwinsLoss`.
///
/// Each view's `[n, d]` embeddings are standardised per feature over the batch (mean 0, biased
/// variance + 1e-5, as lightly's `F.batch_norm` without affine parameters); C = z̃ₐᵀ z̃_b / n is
/// their d × d cross-correlation, pushed towards the identity:
///
///     ℓ = Σ_i (1 − C_ii)² + λ · Σ_{i ≠ j} C_ij²
///
/// Default λ = 5·10⁻³ (the paper's and lightly's).
public struct BarlowTwinsLoss: Sendable {
    /// Weight λ of the off-diagonal (redundancy) term.
    public var lambda: Float
    /// Added to each feature's batch variance before the square root (batch norm's 1e-5).
    public var epsilon: Float

    /// - Parameters:
    ///   - lambda: λ, weight of the off-diagonal term (5e-3).
    ///   - epsilon: added to the batch variance (1e-5, PyTorch's batch norm).
    public init(lambda: Float = 5e-3, epsilon: Float = 1e-5) {
        self.lambda = lambda
        self.epsilon = epsilon
    }

    /// The loss of two `[n, d]` views of one batch (n ≥ 2); scalar.
    public func callAsFunction(_ view0: Tensor, _ view1: Tensor) -> Tensor {
        lossPrecondition(view0.rank == 2 && view0.shape == view1.shape && view0.shape[0] >= 2, "BarlowTwinsLoss",
                         "needs two [n, d] views of one shape with n ≥ 2, got \(view0.shape) and \(view1.shape)")
        let (n, d) = (view0.shape[0], view0.shape[1])
        let c = Tensor.matmul(standardised(view0), standardised(view1), transposeA: true) * (1 / Float(n))
        let eye = Tensor.identity(d)
        let diagonal = (c * eye).sum(axis: 1)
        let invariance = (diagonal - 1).squared().sum()
        let redundancy = (c * (1 - eye)).squared().sum()
        return invariance + redundancy * lambda
    }

    /// (z − mean) / sqrt(biased variance + ε), per column.
    private func standardised(_ z: Tensor) -> Tensor {
        let centred = z - z.mean(axis: 0, keepDims: true)
        let variance = centred.squared().mean(axis: 0, keepDims: true)
        return centred / (variance + epsilon).sqrt()
    }
}

extension Tensor {
    /// The constant n × n identity matrix.
    static func identity(_ n: Int) -> Tensor {
        var eye = Tensor.zeros([n, n])
        eye.withUnsafeMutableBufferPointer { p in for i in 0..<n { p[i * n + i] = 1 } }
        return eye
    }
}
