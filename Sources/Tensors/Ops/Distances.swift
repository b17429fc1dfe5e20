/// Pairwise comparison matrices between two sets of vectors, computed through GEMM.
///
/// For `a` of shape [n, d] and `b` of shape [m, d] each returns an [n, m] matrix. They are built
/// from differentiable ops, so losses on them train encoders directly.
extension Tensor {
    /// Dot products a·bᵀ.
    public static func pairwiseDot(_ a: Tensor, _ b: Tensor) -> Tensor {
        checkPairwise(a, b, op: "pairwiseDot")
        return matmul(a, b, transposeB: true)
    }

    /// Cosine similarities: dot products of the L2-normalised rows.
    public static func pairwiseCosineSimilarity(_ a: Tensor, _ b: Tensor, epsilon: Float = 1e-12) -> Tensor {
        checkPairwise(a, b, op: "pairwiseCosineSimilarity")
        return matmul(a.l2Normalized(epsilon: epsilon), b.l2Normalized(epsilon: epsilon), transposeB: true)
    }

    /// Squared Euclidean distances ‖a‖² + ‖b‖² − 2a·bᵀ, clamped at zero against rounding.
    public static func pairwiseSquaredEuclidean(_ a: Tensor, _ b: Tensor) -> Tensor {
        checkPairwise(a, b, op: "pairwiseSquaredEuclidean")
        let an = a.squared().sum(axis: 1, keepDims: true)
        let bn = b.squared().sum(axis: 1, keepDims: true).reshaped([1, b.shape[0]])
        return (an + bn - 2 * matmul(a, b, transposeB: true)).clamped(min: 0)
    }

    /// Euclidean distances √(squared distance + ε); ε keeps the gradient finite at zero distance.
    public static func pairwiseEuclidean(_ a: Tensor, _ b: Tensor, epsilon: Float = 1e-12) -> Tensor {
        (pairwiseSquaredEuclidean(a, b) + epsilon).sqrt()
    }

    private static func checkPairwise(_ a: Tensor, _ b: Tensor, op: String) {
        check(a.rank == 2 && b.rank == 2 && a.shape[1] == b.shape[1], op,
              "needs [n, d] and [m, d] operands, got \(a.shape) and \(b.shape)")
    }
}
