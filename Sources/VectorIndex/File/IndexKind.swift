/// The kind of index an index file holds, as its header records it (a 16-bit code).
///
/// Loaders switch on this enum, never on its display name, so that a kind added later cannot be
/// loaded as another by a `default:` branch.
public enum IndexKind: UInt16, Sendable, CaseIterable, CustomStringConvertible {
    /// ``ExactIndex``: every vector compared with the query.
    case exact = 1
    /// ``HNSWIndex``: a navigable small-world graph.
    case hnsw = 2
    /// ``ScalarQuantizedIndex``: one byte per component.
    case scalarQuantized = 3
    /// ``BinaryQuantizedIndex``: one bit per component.
    case binaryQuantized = 4

    /// The name shown by `siamese index info` and in messages.
    public var name: String {
        switch self {
        case .exact: "exact"
        case .hnsw: "HNSW"
        case .scalarQuantized: "int8 scalar-quantised"
        case .binaryQuantized: "binary-quantised"
        }
    }

    /// The same as ``name``.
    public var description: String { name }
}
