import VectorIndex

/// How a ``PostgresStore`` connects, builds its index and searches.
public struct PostgresStoreOptions: Sendable {
    /// The metric of the HNSW index made with the items table (a store that already has one
    /// keeps its own; opening it for another metric is refused). Nil: the store's, or cosine.
    public var metric: Metric?
    /// The column type of a new store's vectors: `vector` (float32) or `halfvec` (float16, half
    /// the space; searches take the same queries). A store that already has its items table keeps
    /// its own; asking for the other type is refused. Nil: the store's, or `vector`.
    public var vectorType: PostgresVectorType?
    /// pgvector's HNSW `m` (links per node, 2–100).
    public var hnswM: Int = 16
    /// pgvector's HNSW `ef_construction` (candidates while building, 4–1000, at least 2·m).
    public var hnswEfConstruction: Int = 64
    /// `hnsw.ef_search` of a search that gives no `ef` (raised to k; at most 1000).
    public var efSearch: Int = 100
    /// The password when the URL has none (else `PGPASSWORD` is used).
    public var password: String?
    /// Longest wait for a connection to the server, at open and afterwards.
    public var connectTimeout: Duration = .seconds(10)
    /// Longest any one operation may take before it fails (the server may still finish it; an
    /// upsert that timed out is not acknowledged and can be retried: upserts are idempotent).
    public var operationTimeout: Duration = .seconds(120)
    /// Most connections the pool opens.
    public var maxConnections: Int = 8

    /// Default options.
    /// - Parameters:
    ///   - metric: the metric of a new store's index (nil: the store's, or cosine).
    ///   - password: the password when the URL has none (nil: `PGPASSWORD`).
    public init(metric: Metric? = nil, password: String? = nil) {
        self.metric = metric
        self.password = password
    }
}

/// How a PostgreSQL store keeps its vectors: pgvector's `vector` (4-byte floats) or `halfvec`
/// (2-byte floats: half the table and index size, about 3 significant digits per component;
/// the ranking barely moves for normalised embeddings).
public enum PostgresVectorType: String, Sendable, CaseIterable {
    /// float32 components (`vector(d)`, HNSW up to 2,000 dimensions).
    case vector
    /// float16 components (`halfvec(d)`, HNSW up to 4,000 dimensions).
    case halfvec

    /// pgvector's HNSW index handles at most this many dimensions of the type; a wider store is
    /// searched exactly (a sequential scan).
    var maxIndexedDimension: Int { self == .vector ? 2000 : 4000 }
}
