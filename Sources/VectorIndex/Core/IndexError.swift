/// Errors from building, changing or searching an index.
public enum IndexError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A vector or query has the wrong number of components.
    case dimensionMismatch(expected: Int, got: Int)
    /// A flat array's length is not a multiple of the dimension.
    case ragged(count: Int, dimension: Int)
    /// A vector (row `row` of the input) holds NaN or ±Inf, or is all zeros under cosine.
    case invalidVector(row: Int, reason: String)
    /// An id was given twice, or is already in the index.
    case duplicateID(UInt64)
    /// The number of ids differs from the number of vectors.
    case idCountMismatch(vectors: Int, ids: Int)
    /// A parameter is out of range.
    case invalidArgument(String)
    /// The index would exceed the largest size it can address.
    case capacityExceeded(Int)

    /// One line saying what is wrong (dimensions, row, id, argument).
    public var description: String {
        switch self {
        case .dimensionMismatch(let e, let g): "expected vectors of dimension \(e), got \(g)"
        case .ragged(let c, let d): "\(c) values are not a whole number of \(d)-dimensional vectors"
        case .invalidVector(let row, let reason): "vector \(row): \(reason)"
        case .duplicateID(let id): "id \(id) is already in the index (or given twice)"
        case .idCountMismatch(let v, let i): "\(v) vectors but \(i) ids"
        case .invalidArgument(let m): m
        case .capacityExceeded(let n): "the index cannot hold \(n) vectors"
        }
    }
}
