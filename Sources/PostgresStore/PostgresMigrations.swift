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
/// The items table is made by the first upsert (``itemsTable(dimension:metric:type:m:efConstruction:name:)``),
/// because a pgvector column with an HNSW index needs its dimension, which only the first
/// vectors give.
enum PostgresMigrations {
    /// Migration `n` is `steps[n - 1]`. Append only: a released step never changes.
    static let steps: [String] = [
        // 1: settings (fingerprint, dimension, metric of the items table).
        "CREATE TABLE siamese_meta (key text PRIMARY KEY, value text NOT NULL)",
        // 2: the job table of `siamese ingest` (see PostgresIngestQueue): one row per chunk of an
        // input, keyed by the input's SHA-256 and the chunk size; a worker holds a chunk while
        // `lease_until` is in the future, and `done_at` is set in the transaction that wrote its items.
        """
        CREATE TABLE siamese_ingest_chunks (
            input_sha256 text NOT NULL,
            chunk_size integer NOT NULL,
            chunk integer NOT NULL,
            first_item integer NOT NULL,
            item_count integer NOT NULL,
            first_line integer NOT NULL,
            last_line integer NOT NULL,
            worker text,
            lease_until timestamptz,
            attempts integer NOT NULL DEFAULT 0,
            done_at timestamptz,
            PRIMARY KEY (input_sha256, chunk_size, chunk)
        )
        """,
        // 3: the new vectors of `store reembed` (see PostgresReembed), waiting beside the items
        // until the switch; `version` is the item row's `xmin` when its text was read, so an item
        // changed since is embedded again. Real arrays: the new model's dimension may differ.
        """
        CREATE TABLE siamese_reembed (
            id text COLLATE "C" PRIMARY KEY,
            version text NOT NULL,
            vector real[] NOT NULL
        )
        """,
    ]

    /// Checks pgvector, applies the missing migrations, and returns the stored metric and vector
    /// type (nil when the store has no items table yet; a store made before the vector type was
    /// recorded has `vector`).
    static func run(on conn: PostgresConnection, logger: Logger, location: String,
                    known: Int = PostgresStore.schemaVersion) async throws -> (metric: Metric?, vectorType: PostgresVectorType?) {
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
            var metric: Metric?, vectorType: PostgresVectorType?
            for try await (key, value) in try await conn.query(
                "SELECT key, value FROM siamese_meta WHERE key IN ('metric', 'vector_type')", logger: logger).decode((String, String).self) {
                if key == "metric" { metric = Metric(rawValue: value) } else { vectorType = PostgresVectorType(rawValue: value) }
            }
            return (metric, metric == nil ? nil : vectorType ?? .vector)
        }
    }

    /// pgvector's distance operator and operator class for a metric and column type.
    static func distance(_ metric: Metric, _ type: PostgresVectorType = .vector) -> (op: String, opclass: String) {
        switch metric {
        case .cosine: ("<=>", "\(type.rawValue)_cosine_ops")
        case .dot: ("<#>", "\(type.rawValue)_ip_ops")
        case .l2: ("<->", "\(type.rawValue)_l2_ops")
        }
    }

    /// The items table for vectors of `dimension` and its HNSW index (`NAME_hnsw`). Only integers
    /// and fixed names are interpolated; `name` is another only while `store reembed` builds the
    /// table that replaces the items table.
    static func itemsTable(dimension: Int, metric: Metric, type: PostgresVectorType = .vector, m: Int, efConstruction: Int,
                           name: String = "siamese_items") -> [String] {
        var sql = ["""
            CREATE TABLE \(name) (
                id text COLLATE "C" PRIMARY KEY,
                text text,
                source text,
                metadata jsonb,
                fingerprint text NOT NULL,
                vector \(type.rawValue)(\(dimension)) NOT NULL,
                updated_at timestamptz NOT NULL DEFAULT now()
            )
            """]
        if dimension <= type.maxIndexedDimension {
            sql.append("CREATE INDEX \(name)_hnsw ON \(name) USING hnsw (vector \(distance(metric, type).opclass)) WITH (m = \(m), ef_construction = \(efConstruction))")
        }
        return sql
    }
}
