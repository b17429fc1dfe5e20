import Tensors

/// BYOL's and SimSiam's loss: the negative cosine similarity between the online branch's
/// prediction and the target branch's projection, averaged over the batch, as lightly's
/// `NegativeCosineSimilarity` — with the stop-gradient on the target built in (Grill et al. 2020,
/// "Bootstrap Your Own Latent"; Chen & He 2021, "Exploring Simple Siamese Representation
/// Learning"): the target is a constant, so no gradient reaches the target branch, which is what
/// keeps SimSiam from collapsing.
///
///     ℓ = −mean_i  p_i·z_i / max(‖p_i‖·‖z_i‖, ε)
///
/// ``symmetric(predictions:targets:)`` is the two-view form both papers train with:
/// ½·(ℓ(p₀, z₁) + ℓ(p₁, z₀)).
public struct NegativeCosineSimilarity: Sendable {
    /// Lower bound of the product of norms (PyTorch's `cosine_similarity` eps, 1e-8).
    public var epsilon: Float

    /// - Parameters:
    ///   - epsilon: lower bound of ‖p‖·‖z‖ (PyTorch 1e-8).
    public init(epsilon: Float = 1e-8) {
        self.epsilon = epsilon
    }

    /// ℓ(predictions, targets) for `[n, d]` tensors; `targets` is detached (stop-gradient). Scalar.
    public func callAsFunction(_ predictions: Tensor, _ targets: Tensor) -> Tensor {
        lossPrecondition(predictions.rank == 2 && predictions.shape == targets.shape, "NegativeCosineSimilarity",
                         "needs two [n, d] tensors of one shape, got \(predictions.shape) and \(targets.shape)")
        let z = targets.detached()
        let dot = (predictions * z).sum(axis: 1)
        // PyTorch: x·y / sqrt(clamp_min(‖x‖²·‖y‖², ε²)).
        let norms = (predictions.squared().sum(axis: 1) * z.squared().sum(axis: 1)).clamped(min: epsilon * epsilon).sqrt()
        return -(dot / norms).mean()
    }

    /// ½·(ℓ(p₀, z₁) + ℓ(p₁, z₀)): each view's prediction against the other view's target.
    public func symmetric(predictions: (Tensor, Tensor), targets: (Tensor, Tensor)) -> Tensor {
        (self(predictions.0, targets.1) + self(predictions.1, targets.0)) * 0.5
    }
}
