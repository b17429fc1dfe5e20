/// Parameters of an ``HNSWIndex`` graph.
///
/// The defaults are hnswlib's usual ones (M = 16, ef_construction = 200).
public struct HNSWConfiguration: Sendable, Equatable, Codable {
    /// Neighbours per node on the upper layers, and how many a new node links to; layer 0 keeps
    /// up to `2·m`. Larger values raise recall and memory. 2...128.
    public var m: Int
    /// Candidate list size while building: larger builds slower and gives a better graph.
    public var efConstruction: Int
    /// Default candidate list size of a search when none is given (raised to `k` when smaller).
    public var efSearch: Int
    /// Seed of the layer assignment, so that a single-threaded build is reproducible.
    public var seed: UInt64

    /// Creates a configuration; the defaults suit embeddings of a few hundred dimensions.
    /// - Parameters:
    ///   - m: Links per node on the upper layers (layer 0 keeps 2·m), 2...128 (default 16).
    ///   - efConstruction: Candidate list size while building (default 200).
    ///   - efSearch: Default candidate list size of a search (default 64).
    ///   - seed: Seed of the layer assignment (default 42).
    public init(m: Int = 16, efConstruction: Int = 200, efSearch: Int = 64, seed: UInt64 = 42) {
        self.m = m
        self.efConstruction = efConstruction
        self.efSearch = efSearch
        self.seed = seed
    }

    /// Neighbours kept on layer 0.
    public var maxM0: Int { 2 * m }

    func validate() throws(IndexError) {
        guard (2...128).contains(m) else { throw .invalidArgument("HNSW m must be in 2...128, got \(m)") }
        guard efConstruction >= 1, efConstruction <= 1 << 16 else { throw .invalidArgument("efConstruction must be in 1...65536, got \(efConstruction)") }
        guard efSearch >= 1, efSearch <= 1 << 16 else { throw .invalidArgument("efSearch must be in 1...65536, got \(efSearch)") }
    }
}
