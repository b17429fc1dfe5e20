import Tensors

/// Proxy-anchor loss (Kim et al. 2020, "Proxy Anchor Loss for Deep Metric Learning"), as
/// pytorch-metric-learning's `ProxyAnchorLoss` with its default cosine similarity and
/// `DivisorReducer`.
///
/// Each class c has a learnable proxy (``ClassWeights``, `[classes, d]`). With s_ic the cosine of
/// embedding i and proxy c, δ the margin, α the scale and P⁺ the classes present in the batch:
///
///     ℓ = 1/|P⁺| Σ_{c ∈ P⁺} log(1 + Σ_{i: y_i = c} e^{−α (s_ic − δ)})
///       + 1/|C|  Σ_{c}      log(1 + Σ_{i: y_i ≠ c} e^{α (s_ic + δ)})
///
/// Every proxy, present or not, is pushed away from the items of other classes. A batch of one class
/// or of distinct classes is an ordinary case; only an empty batch gives a (connected) zero.
///
/// Defaults (pml): margin 0.1, α = 32. pml initialises the proxies Kaiming-normal with
/// fan-out (``ClassWeights/Initialization/kaimingFanOut``).
public struct ProxyAnchorLoss: Sendable {
    /// Margin δ.
    public var margin: Float
    /// Scale α.
    public var alpha: Float

    /// - Parameters:
    ///   - margin: δ (pml 0.1).
    ///   - alpha: α (pml 32).
    public init(margin: Float = 0.1, alpha: Float = 32) {
        self.margin = margin
        self.alpha = alpha
    }

    /// The loss of `[n, d]` embeddings with labels in 0..<classes against the proxies
    /// `[classes, d]`; gradients flow into both.
    public func callAsFunction(_ embeddings: Tensor, labels: [Int], proxies: Tensor) -> Tensor {
        checkClassBatch(embeddings, labels, proxies, op: "ProxyAnchorLoss")
        let n = labels.count, classes = proxies.shape[0]
        if n == 0 { return embeddings.connectedZero() }
        let s = Tensor.pairwiseCosineSimilarity(proxies, embeddings)              // [classes, n]
        var positive = [Float](repeating: 0, count: classes * n)
        for (i, y) in labels.enumerated() { positive[y * n + i] = 1 }
        let negative = positive.map { 1 - $0 }
        let present = Set(labels).count
        let pull = ((s - margin) * (-alpha)).maskedLogSumExp(keep: positive, addOne: true).sum() * (1 / Float(present))
        let push = ((s + margin) * alpha).maskedLogSumExp(keep: negative, addOne: true).sum() * (1 / Float(classes))
        return pull + push
    }
}
