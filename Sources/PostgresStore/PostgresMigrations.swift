import EmbeddingStore
import Logging
import PostgresNIO
import VectorIndex

/// The schema of a PostgreSQL store and its versioned migrations.
///
/// `siamese_schema_version` holds one row per applied migration. At open, under an advisory
/// lock and in one transaction, the missing ones are applied in order; a database whose highest
/// version is above ``PostgresStore/schemaVersion`` was written by a newer build and is refused
/// (an older build must not write into a schema it does not know).
///
/// The items table is made by the first upsert (``itemsTable(dimension:metric:m:efConstruction:)``),
/// because a pgvector column with an HNSW index needs its dimension, which only the first
/// vectors give.
enum PostgresMigrations {
    /// Migration `n` is `steps[n - 1]`. Append only: a released step never changes.
    static let steps: [String] = [
        // 1: settings (fingerprint, dimension, metric of the items table).
        "CREATE TABLE siamese_meta (key text PRIMARY KEY, value text NOT NULL)",
    ]

    /// Checks pgvector, applies the missing migrations, and returns the stored metric (nil when
    /// the store has no items table yet).
    static func run(on conn: PostgresConnection, logger: Logger, location: String, known: Int = PostgresStore.schemaVersion) async throws -> Metric? {
        try await conn.withTransaction(logger: logger) { conn in
            _ = try await conn.query("SELECT pg_advisory_xact_lock(\(PostgresStore.lockKey))", logger: logger)
            var hasVector = false
            for try await n in try await conn.query("SELECT count(*) FROM pg_extension WHERE extname = 'vector'", logger: logger).decode(Int64.self) {
                hasVector = n > 0
            }
            guard hasVector else {
                throw StoreError.database("\(location): the database has no pgvector extension; run `CREATE EXTENSION vector;` in it (as its owner or a superuser) and start again")
            }
            _ = try await conn.query("""
                CREATE TABLE IF NOT EXISTS siamese_schema_version (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())
                """, logger: logger)
            var current = 0
            for try await v in try await conn.query("SELECT coalesce(max(version), 0) FROM siamese_schema_version", logger: logger).decode(Int32.self) {
                current = Int(v)
            }
            guard current <= known else {
                throw StoreError.database("\(location): the store's schema is version \(current), newer than this siamese knows (\(known)); use a newer siamese")
            }
            for version in (current + 1)...max(current + 1, known) where version <= known {
                _ = try await conn.query(PostgresQuery(unsafeSQL: steps[version - 1]), logger: logger)
                _ = try await conn.query("INSERT INTO siamese_schema_version (version) VALUES (\(Int32(version)))", logger: logger)
            }
            var metric: Metric?
            for try await m in try await conn.query("SELECT value FROM siamese_meta WHERE key = 'metric'", logger: logger).decode(String.self) {
                metric = Metric(rawValue: m)
            }
            return metric
        }
    }

    /// pgvector's distance operator and operator class for a metric.
    static func distance(_ metric: Metric) -> (op: String, opclass: String) {
        switch metric {
        case .cosine: ("<=>", "vector_cosine_ops")
        case .dot: ("<#>", "vector_ip_ops")
        case .l2: ("<->", "vector_l2_ops")
        }
    }

    /// pgvector's HNSW index handles at most this many dimensions of `vector`; a wider store is
    /// searched exactly (a sequential scan).
    static let maxIndexedDimension = 2000

    /// The items table for vectors of `dimension` and its HNSW index. Only integers and fixed
    /// names are interpolated.
    static func itemsTable(dimension: Int, metric: Metric, m: Int, efConstruction: Int) -> [String] {
        var sql = ["""
            CREATE TABLE siamese_items (
                id text COLLATE "C" PRIMARY KEY,
                text text,
                source text,
                metadata jsonb,
                fingerprint text NOT NULL,
                vector vector(\(dimension)) NOT NULL,
                updated_at timestamptz NOT NULL DEFAULT now()
            )
            """]
        if dimension <= maxIndexedDimension {
            sql.append("CREATE INDEX siamese_items_hnsw ON siamese_items USING hnsw (vector \(distance(metric).opclass)) WITH (m = \(m), ef_construction = \(efConstruction))")
        }
        return sql
    }
}
