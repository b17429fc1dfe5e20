import Tensors

/// How two embeddings are compared.
///
/// Similarities (``cosine``, ``dot``) grow with likeness; distances (``euclidean``,
/// ``squaredEuclidean``) shrink. ``isSimilarity`` tells which, so that thresholds and losses
/// can treat both uniformly.
public enum Distance: String, Sendable, Codable, CaseIterable {
    /// Cosine similarity in [−1, 1].
    case cosine
    /// Dot product (cosine when embeddings are L2-normalised).
    case dot
    /// Euclidean distance ‖a − b‖.
    case euclidean
    /// Squared Euclidean distance ‖a − b‖².
    case squaredEuclidean = "squared_euclidean"

    /// True when larger values mean more alike.
    public var isSimilarity: Bool { self == .cosine || self == .dot }

    /// Row-by-row comparison of two [n, d] batches: shape [n].
    public func rowwise(_ a: Tensor, _ b: Tensor) -> Tensor {
        ensure(a.shape == b.shape && a.rank == 2, "Distance.rowwise: needs two [n, d] batches of one shape, got \(a.shape) and \(b.shape)")
        switch self {
        case .cosine: return (a.l2Normalized() * b.l2Normalized()).sum(axis: 1)
        case .dot: return (a * b).sum(axis: 1)
        case .squaredEuclidean: return (a - b).squared().sum(axis: 1)
        case .euclidean: return ((a - b).squared().sum(axis: 1) + 1e-12).sqrt()
        }
    }

    /// Every row of `a` against every row of `b`: shape [n, m], computed through GEMM.
    public func pairwise(_ a: Tensor, _ b: Tensor) -> Tensor {
        switch self {
        case .cosine: return Tensor.pairwiseCosineSimilarity(a, b)
        case .dot: return Tensor.pairwiseDot(a, b)
        case .squaredEuclidean: return Tensor.pairwiseSquaredEuclidean(a, b)
        case .euclidean: return Tensor.pairwiseEuclidean(a, b)
        }
    }

    /// The distance form used by margin losses: 1 − cosine for ``cosine``, −dot for ``dot``,
    /// the value itself for the Euclidean kinds. Smaller always means more alike.
    public func rowwiseDistance(_ a: Tensor, _ b: Tensor) -> Tensor {
        switch self {
        case .cosine: return 1 - rowwise(a, b)
        case .dot: return -rowwise(a, b)
        default: return rowwise(a, b)
        }
    }

    /// Pairwise form of ``rowwiseDistance(_:_:)``.
    public func pairwiseDistance(_ a: Tensor, _ b: Tensor) -> Tensor {
        switch self {
        case .cosine: return 1 - pairwise(a, b)
        case .dot: return -pairwise(a, b)
        default: return pairwise(a, b)
        }
    }
}
