import Tensors

/// AnglE loss (Li & Li 2023, "AnglE-optimized Text Embeddings"), as sentence-transformers'
/// `AnglELoss`: the ``CoSENTLoss`` ranking objective on the AnglE similarity instead of the cosine.
///
/// The cosine's gradient vanishes near ±1, where most pairs of a trained model sit; AnglE pairs
/// dimension k with dimension k + d/2 as the real and imaginary parts of a complex number and adds
/// the "angle difference" term. sentence-transformers (6.x) computes, after L2 normalisation
/// x̂ = x/‖x‖ and the split x̂ = [x̂ᶠ, x̂ˡ] into halves,
///
///     s(x, y) = | x̂·ŷ + Σ_k ( x̂ˡ_k ŷᶠ_k − x̂ᶠ_k ŷˡ_k ) |
///
/// (an odd width is padded with one zero first), and then, as CoSENT, for pairs with gold scores y:
///
///     ℓ = log( 1 + Σ_{(i, j): y_i < y_j} exp( λ · (s_i − s_j) ) )
///
/// Only the order of the gold scores matters; ties contribute nothing. Default scale λ = 20.
///
/// Shapes: `a`, `b` `[n, d]` and n scores; scalar result.
public struct AnglELoss: Sendable {
    /// Multiplies the similarities (1 / temperature).
    public var scale: Float

    /// - Parameters:
    ///   - scale: multiplies the AnglE similarities before the ranking (sentence-transformers: 20).
    public init(scale: Float = 20) {
        self.scale = scale
    }

    /// The loss of pairs (aᵢ, bᵢ) `[n, d]` with gold scores (only their order matters).
    public func callAsFunction(_ a: Tensor, _ b: Tensor, scores: [Float]) -> Tensor {
        checkPairBatch(a, b, labelCount: scores.count, op: "AnglELoss")
        return CoSENTLoss.ranking(Self.similarity(a, b) * scale, scores: scores)
    }

    /// The AnglE similarity of each row pair, `[n]` (sentence-transformers' `pairwise_angle_sim`).
    public static func similarity(_ a: Tensor, _ b: Tensor) -> Tensor {
        let x = a.l2Normalized(), y = b.l2Normalized()
        let cosines = (x * y).sum(axis: 1)
        let d = x.shape[1]
        // torch.chunk on the zero-padded width: the first half takes the extra column.
        let half = (d + 1) / 2
        let xf = x.slice(axis: 1, 0..<half), yf = y.slice(axis: 1, 0..<half)
        var xl = x.slice(axis: 1, half..<d), yl = y.slice(axis: 1, half..<d)
        if d % 2 == 1 {
            let zero = Tensor.zeros([x.shape[0], 1])
            xl = Tensor.concatenate([xl, zero], axis: 1)
            yl = Tensor.concatenate([yl, zero], axis: 1)
        }
        let sines = (xl * yf - xf * yl).sum(axis: 1)
        return (cosines + sines).abs()
    }
}
