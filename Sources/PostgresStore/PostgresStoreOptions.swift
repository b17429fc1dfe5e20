import VectorIndex

/// How a ``PostgresStore`` connects, builds its index and searches.
public struct PostgresStoreOptions: Sendable {
    /// The metric of the HNSW index made with the items table (a store that already has one
    /// keeps its own; opening it for another metric is refused). Nil: the store's, or cosine.
    public var metric: Metric?
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
