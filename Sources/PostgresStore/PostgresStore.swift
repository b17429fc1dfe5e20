import EmbeddingStore
import Foundation
import Logging
import NIOSSL
import PostgresNIO
import VectorIndex

/// The embedding store in PostgreSQL with pgvector: items, `jsonb` metadata and `vector(d)`
/// columns in one table, searched through pgvector's HNSW index inside the database, so that
/// several processes (service replicas, import workers) share one store and none holds an index
/// in memory.
///
/// The same rules as ``EmbeddingStore``:
/// - **Durable**: an upsert or removal returns after its transaction has committed.
/// - **One model per store**: the first upsert fixes the fingerprint and dimension (and creates
///   the items table with a `vector(d)` column and the HNSW index of the metric); vectors of
///   another model are refused with ``StoreError/fingerprintMismatch(store:given:)``. Removing
///   every item frees the store for any model again.
/// - **Schema versions**: ``open(_:options:)`` applies the migrations this build knows, in one
///   transaction under an advisory lock (so replicas starting together do not race), and refuses
///   a database whose schema is newer than it knows.
///
/// Tables: `siamese_schema_version`, `siamese_meta` (fingerprint, dimension, metric, vector
/// type), `siamese_items`, `siamese_ingest_chunks` (``PostgresIngestQueue``) and
/// `siamese_reembed` (``reembed(to:metric:batchSize:embed:)``). Every value from outside is a
/// bound parameter.
public final class PostgresStore: VectorStore {
    /// Where the store is (the password is never kept in messages).
    public let url: PostgresURL
    /// The options it was opened with.
    public let options: PostgresStoreOptions
    /// The metric of the store's index.
    public let metric: Metric
    /// The column type of the store's vectors (`vector`, or `halfvec` by option at creation).
    public let vectorType: PostgresVectorType
    /// The URL without password.
    public var location: String { url.redacted }

    let client: PostgresClient
    /// The `hnsw.ef_search` each pooled connection has now (see ``SessionEfSearch``).
    let sessionEfSearch = SessionEfSearch()
    let runTask: Task<Void, Never>
    let logger: Logger

    /// The schema version this build writes and reads.
    public static let schemaVersion = 3
    /// Key of the advisory lock that orders migrations, first upserts and removals.
    static let lockKey: Int64 = 0x5349_414D_4553_4531  // "SIAMESE1"

    init(url: PostgresURL, options: PostgresStoreOptions, metric: Metric, vectorType: PostgresVectorType, client: PostgresClient, logger: Logger) {
        self.url = url
        self.options = options
        self.metric = metric
        self.vectorType = vectorType
        self.client = client
        self.logger = logger
        runTask = Task { await client.run() }
    }

    /// Opens the store at `url`: connects (within ``PostgresStoreOptions/connectTimeout``),
    /// checks that pgvector is installed, runs the migrations, and starts the connection pool.
    /// - Parameters:
    ///   - url: the database.
    ///   - options: connection, index and search settings.
    /// - Throws: ``StoreError/database(_:)`` naming the host, port and database, and why.
    public static func open(_ url: PostgresURL, options: PostgresStoreOptions = PostgresStoreOptions()) async throws -> PostgresStore {
        guard (2...100).contains(options.hnswM), (4...1000).contains(options.hnswEfConstruction),
              options.hnswEfConstruction >= 2 * options.hnswM else {
            throw StoreError.database("\(url.redacted): HNSW m must be 2–100 and ef_construction 4–1000 and at least 2·m (got m \(options.hnswM), ef_construction \(options.hnswEfConstruction))")
        }
        let logger = Logger(label: "siamese.postgres", factory: { _ in SwiftLogNoOpLogHandler() })
        let password = url.password ?? options.password ?? ProcessInfo.processInfo.environment["PGPASSWORD"]
        // The probe connection takes an SSL context, the pool a TLS configuration.
        var tls = PostgresConnection.Configuration.TLS.disable, poolTLS = PostgresClient.Configuration.TLS.disable
        do {
            switch url.sslMode {
            case .disable: break
            case .prefer:
                tls = .prefer(try NIOSSLContext(configuration: .makeClientConfiguration()))
                poolTLS = .prefer(.makeClientConfiguration())
            case .require:
                tls = .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
                poolTLS = .require(.makeClientConfiguration())
            }
        } catch {
            throw StoreError.database("\(url.redacted): cannot set up TLS: \(error)")
        }
        let place = "\(url.redacted) (host \(url.host), port \(url.port))"
        // One plain connection first: it gives a clear error at once for a wrong host, port,
        // user or database (the pool would keep retrying), and runs the migrations.
        var connConfig = PostgresConnection.Configuration(host: url.host, port: url.port, username: url.user, password: password,
                                                          database: url.database, tls: tls)
        let c = options.connectTimeout.components
        connConfig.options.connectTimeout = .nanoseconds(c.seconds * 1_000_000_000 + c.attoseconds / 1_000_000_000)
        let probeConfig = connConfig
        let stored: (metric: Metric?, vectorType: PostgresVectorType?)
        do {
            stored = try await withTimeout(options.connectTimeout + .seconds(5)) {
                let conn = try await PostgresConnection.connect(configuration: probeConfig, id: 1, logger: logger)
                do {
                    let m = try await PostgresMigrations.run(on: conn, logger: logger, location: url.redacted)
                    try? await conn.close()
                    return m
                } catch {
                    try? await conn.close()
                    throw error
                }
            }
        } catch {
            if let e = PostgresErrors.unwrap(error) as? StoreError { throw e }
            throw StoreError.database("cannot open the PostgreSQL store \(place): \(PostgresErrors.reason(error))")
        }
        let storedMetric = stored.metric
        if let storedMetric, let wanted = options.metric, storedMetric != wanted {
            throw StoreError.database("\(url.redacted): the store's index ranks by \(storedMetric); the model needs \(wanted) (use another database, or remove its items first)")
        }
        // The vector type is chosen when the items table is made; it cannot change under it.
        if let have = stored.vectorType, let wanted = options.vectorType, have != wanted {
            throw StoreError.database("\(url.redacted): the store keeps its vectors as \(have); \(wanted) can only be chosen for a new store (use another database, or remove its items first)")
        }
        var poolConfig = PostgresClient.Configuration(host: url.host, port: url.port, username: url.user, password: password,
                                                      database: url.database, tls: poolTLS)
        poolConfig.options.connectTimeout = options.connectTimeout
        poolConfig.options.maximumConnections = max(1, options.maxConnections)
        // postgres-nio's pool arms timers (three tasks and a Dispatch timer each) whenever a
        // connection goes back idle: an idle timeout for connections beyond the minimum, and a
        // keep-alive ping. Per query that cost the service more than the query's own work. So: one
        // connection stays open for good (no idle timer; more would hold PostgreSQL's connection
        // slots from every process that opens a store, and the tests open many at once), and no
        // keep-alive (an idle socket that PostgreSQL closes is seen closed by the event loop at
        // once; a query on a connection lost silently fails, the pool replaces it, and the caller
        // gets a 503-class error).
        poolConfig.options.minimumConnections = min(1, poolConfig.options.maximumConnections - 1)
        poolConfig.options.keepAliveBehavior = nil
        let client = PostgresClient(configuration: poolConfig, backgroundLogger: logger)
        return PostgresStore(url: url, options: options, metric: storedMetric ?? options.metric ?? .cosine,
                             vectorType: stored.vectorType ?? options.vectorType ?? .vector, client: client, logger: logger)
    }

    /// Stops the pool (in-flight operations finish first).
    public func close() async {
        runTask.cancel()
        // Bounded: after the server went away and came back under a running service, the pool's
        // run() was seen not to return from its cancellation (postgres-nio 1.33.2), which held
        // `serve` in its SIGTERM shutdown for ever. Committed work needs nothing from the pool.
        await Self.firstOf(runTask, orSeconds: 10)
    }

    /// Waits for `task` to end, or for `seconds`, whichever comes first (the task is left to end
    /// on its own).
    static func firstOf(_ task: Task<Void, Never>, orSeconds seconds: Double) async {
        _ = try? await withTimeout(.seconds(seconds)) { await task.value }
    }

    /// Nothing to save: the database keeps the index.
    public func save() async throws {}

    // MARK: - Running operations

    /// Runs `body` with the operation timeout, turning database errors into ``StoreError``s that
    /// name the store and the operation. `timeout` replaces the operation timeout for the rare
    /// operation that is long by nature (the switch of `store reembed` builds a whole index).
    func run<T: Sendable>(_ what: String, timeout: Duration? = nil, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        do {
            // A connection first, within the connect limit: while the server is down the pool
            // would hold the request until its circuit breaker trips (a minute); this way the
            // caller hears at once (the service answers 503) and the pool keeps reconnecting.
            // Leasing an idle connection is no round trip. Never longer than the operation's own
            // limit: a caller that set a short one (the service) gets its answer within it.
            // (Pointless when the operation's own limit is no longer: the service's case.)
            let limit = timeout ?? options.operationTimeout
            if options.connectTimeout < limit {
                try await withTimeout(options.connectTimeout) { [client] in try await client.withConnection { _ in } }
            }
            return try await withTimeout(limit, body)
        } catch {
            // A StoreError thrown inside a transaction (a refused fingerprint) comes out wrapped.
            if let e = PostgresErrors.unwrap(error) as? StoreError { throw e }
            if let e = PostgresErrors.unwrap(error) as? any PostgresPassThroughError { throw e }
            throw StoreError.database("\(location): \(what): \(PostgresErrors.reason(error))")
        }
    }

    /// Like ``run(_:_:)``, but a missing items table (an empty store) gives `empty`.
    func read<T: Sendable>(_ what: String, empty: T, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        try await run(what) {
            do { return try await body() } catch where PostgresErrors.isMissingTable(error) { return empty }
        }
    }

    // MARK: - Reading

    /// See ``VectorStore/fingerprint()``.
    public func fingerprint() async throws -> String? { try await meta()["fingerprint"] }

    /// See ``VectorStore/dimension()``.
    public func dimension() async throws -> Int? { try await meta()["dimension"].flatMap { Int($0) } }

    /// The store's settings (fingerprint, dimension, metric).
    func meta() async throws -> [String: String] {
        try await run("reading the store's settings") { [client, logger] in
            var out: [String: String] = [:]
            for try await (key, value) in try await client.query("SELECT key, value FROM siamese_meta", logger: logger).decode((String, String).self) {
                out[key] = value
            }
            return out
        }
    }

    /// See ``VectorStore/count()``.
    public func count() async throws -> Int {
        try await read("counting items", empty: 0) { [client, logger] in
            var n = 0
            for try await (c) in try await client.query("SELECT count(*) FROM siamese_items", logger: logger).decode(Int64.self) { n = Int(c) }
            return n
        }
    }

    /// See ``VectorStore/items(ids:)``.
    public func items(ids: [String]) async throws -> [StoredItem?] {
        guard !ids.isEmpty else { return [] }
        // PostgreSQL text holds no NUL, so no item has such an id.
        let storable = Array(Set(ids.filter { !EmbeddingStore.holdsNUL($0) }))
        let found: [String: StoredItem] = try await read("reading items", empty: [:]) { [client, logger] in
            var byID: [String: StoredItem] = [:]
            for start in stride(from: 0, to: storable.count, by: 1000) {
                let chunk = Array(storable[start..<min(storable.count, start + 1000)])
                let rows = try await client.query(
                    "SELECT id, text, source, metadata::text, vector::real[] FROM siamese_items WHERE id = ANY(\(chunk)::text[])", logger: logger)
                for try await row in rows {
                    let item = try Self.item(row)
                    byID[item.id] = item
                }
            }
            return byID
        }
        return ids.map { found[$0] }
    }

    /// See ``VectorStore/page(after:limit:)``: items in id order (bytewise), the cursor is the last id.
    public func page(after cursor: String?, limit: Int) async throws -> (items: [StoredItem], next: String?) {
        let limit = max(1, limit)
        let items: [StoredItem] = try await read("reading items", empty: []) { [client, logger] in
            var b = SQLBuilder()
            b.sql = "SELECT id, text, source, metadata::text, vector::real[] FROM siamese_items"
            if let cursor { b.sql += " WHERE id > \(b.bind(cursor))" }
            b.sql += " ORDER BY id LIMIT \(b.bind(limit))"
            let rows = try await client.query(b.query, logger: logger)
            var out: [StoredItem] = []
            for try await row in rows { out.append(try Self.item(row)) }
            return out
        }
        return (items, items.count < limit ? nil : items.last?.id)
    }

    static func item(_ row: PostgresRow) throws -> StoredItem {
        let (id, text, source, metadata, vector) = try row.decode((String, String?, String?, String?, [Float]).self)
        return StoredItem(id: id, text: text, source: source, metadata: metadata, vector: vector)
    }
}
