import CKernels

/// How closeness between two vectors is measured.
///
/// Scores reported by every index follow the metric's natural direction:
/// - ``cosine``: cosine similarity in [-1, 1], higher is closer. Vectors are L2-normalised when
///   they are added and queries when they are searched, so the engine works on inner products.
/// - ``dot``: inner product, higher is closer (use it for vectors that are already normalised,
///   or for maximum-inner-product search).
/// - ``l2``: squared Euclidean distance, lower is closer (as FAISS and hnswlib report it).
public enum Metric: String, Sendable, CaseIterable, Codable, CustomStringConvertible {
    case cosine
    case dot
    case l2

    /// The raw name: `"cosine"`, `"dot"` or `"l2"`.
    public var description: String { rawValue }

    /// True when a larger score means closer (cosine, dot).
    public var higherIsCloser: Bool { self != .l2 }

    /// The kernel-level metric: inner product or squared L2.
    var kernel: Int32 { self == .l2 ? Int32(CK_IX_L2.rawValue) : Int32(CK_IX_IP.rawValue) }

    /// The stable number stored in index files.
    var code: UInt8 {
        switch self {
        case .cosine: 0
        case .dot: 1
        case .l2: 2
        }
    }

    init?(code: UInt8) {
        switch code {
        case 0: self = .cosine
        case 1: self = .dot
        case 2: self = .l2
        default: return nil
        }
    }

    /// The reported score for an internal distance (smaller is closer): −d for inner products
    /// (the distance is −q·x), d itself for squared L2.
    @inline(__always)
    func score(fromDistance d: Float) -> Float { self == .l2 ? d : -d }

    /// The internal distance for a reported score; inverse of ``score(fromDistance:)``.
    @inline(__always)
    func distance(fromScore s: Float) -> Float { self == .l2 ? s : -s }

    /// True when score `a` is strictly closer than score `b`.
    @inline(__always)
    func isCloser(_ a: Float, than b: Float) -> Bool { self == .l2 ? a < b : a > b }
}
