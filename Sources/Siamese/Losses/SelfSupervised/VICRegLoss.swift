import Tensors

/// VICReg's variance-invariance-covariance loss (Bardes et al. 2022, "VICReg: Variance-Invariance-
/// Covariance Regularization for Self-Supervised Learning"), as lightly's `VICRegLoss`.
///
/// For two `[n, d]` views zₐ, z_b, with unbiased batch variances and covariances:
///
///     inv = mean((zₐ − z_b)²)                                     (mean squared error)
///     var = ½·(v(zₐ) + v(z_b)),  v(z) = mean_j relu(1 − sqrt(Var(z_j) + ε))
///     cov = c(zₐ) + c(z_b),      c(z) = Σ_{i ≠ j} Cov(z)_ij² / d
///     ℓ   = λ·inv + μ·var + ν·cov
///
/// Defaults (paper and lightly): λ = 25, μ = 25, ν = 1, ε = 10⁻⁴.
public struct VICRegLoss: Sendable {
    /// Weight λ of the invariance (mean squared error) term.
    public var lambda: Float
    /// Weight μ of the variance hinge.
    public var mu: Float
    /// Weight ν of the covariance term.
    public var nu: Float
    /// Added to the variance before the square root.
    public var epsilon: Float

    /// - Parameters:
    ///   - lambda: invariance weight λ (25).
    ///   - mu: variance weight μ (25).
    ///   - nu: covariance weight ν (1).
    ///   - epsilon: added to each variance before the square root (1e-4).
    public init(lambda: Float = 25, mu: Float = 25, nu: Float = 1, epsilon: Float = 1e-4) {
        self.lambda = lambda
        self.mu = mu
        self.nu = nu
        self.epsilon = epsilon
    }

    /// The loss of two `[n, d]` views of one batch (n ≥ 2); scalar.
    public func callAsFunction(_ view0: Tensor, _ view1: Tensor) -> Tensor {
        lossPrecondition(view0.rank == 2 && view0.shape == view1.shape && view0.shape[0] >= 2, "VICRegLoss",
                         "needs two [n, d] views of one shape with n ≥ 2, got \(view0.shape) and \(view1.shape)")
        let invariance = (view0 - view1).squared().mean()
        let a = centred(view0), b = centred(view1)
        let variance = (varianceTerm(a.centred, a.variance) + varianceTerm(b.centred, b.variance)) * 0.5
        let covariance = covarianceTerm(a.centred) + covarianceTerm(b.centred)
        return invariance * lambda + variance * mu + covariance * nu
    }

    private func centred(_ z: Tensor) -> (centred: Tensor, variance: Tensor) {
        let c = z - z.mean(axis: 0, keepDims: true)
        return (c, c.squared().sum(axis: 0) * (1 / Float(z.shape[0] - 1)))
    }

    private func varianceTerm(_ centred: Tensor, _ variance: Tensor) -> Tensor {
        (1 - (variance + epsilon).sqrt()).relu().mean()
    }

    private func covarianceTerm(_ centred: Tensor) -> Tensor {
        let (n, d) = (centred.shape[0], centred.shape[1])
        let cov = Tensor.matmul(centred, centred, transposeA: true) * (1 / Float(n - 1))
        return (cov * (1 - Tensor.identity(d))).squared().sum() * (1 / Float(d))
    }
}
