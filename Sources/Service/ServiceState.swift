import EmbeddingStore
import Foundation
import Logging
import TextEncoders
import VectorIndex

/// Everything a request may use: the model (behind its batcher), the store with its index, the
/// limits, the API key and the metrics.
public final class ServiceState: Sendable {
    public let model: any ServedModel
    /// The cross-encoder of `/v1/rerank` and reranked searches, when one was loaded.
    public let reranker: CrossEncoder?
    public let batcher: EmbedBatcher
    /// The store every handler reads and writes: SQLite with its in-process index, or PostgreSQL.
    public let vectorStore: any VectorStore
    /// The SQLite store's index (nil when the store is a PostgreSQL database).
    public let sqliteIndex: StoreIndex?
    public let configuration: ServiceConfiguration
    public let metrics: ServiceMetrics
    /// Store writes run here, one at a time and off the event loops (each ends with an fsync).
    let writeQueue = DispatchQueue(label: "siamese.service.store-writes")
    /// Duplicate mining runs here, off the inference thread, so that a large search over the
    /// store does not hold up embed, compare and verify.
    let duplicatesQueue = DispatchQueue(label: "siamese.service.duplicates", qos: .utility)
    /// At most one duplicates request at a time: each may use every core for a while.
    let duplicatesGate = Gate(capacity: 1)
    /// Called before every tile of a duplicates search (tests hold a search open with it).
    let duplicatesProbe = Probe()
    private let shutdown = Flag()

    /// True once graceful shutdown has begun: `/readyz` then answers 503 so that load balancers
    /// stop sending requests while in-flight ones finish.
    public var isShuttingDown: Bool { shutdown.isSet }

    /// Marks the start of graceful shutdown (``ServiceApp`` calls it on SIGTERM or SIGINT).
    public func beginShutdown() { shutdown.set() }

    /// Opens the store (refusing one made by another model) and its index.
    ///
    /// - Parameter indexPath: where the index is saved on shutdown and reloaded from at start
    ///   (nil: rebuilt from the store each start).
    public convenience init(model: any ServedModel, storePath: String, indexPath: String?, configuration: ServiceConfiguration,
                            reranker: CrossEncoder? = nil) throws {
        let store = try EmbeddingStore(path: storePath)
        try Self.check(fingerprint: try store.fingerprint(), dimension: try store.dimension(), of: storePath, model: model)
        let index = try store.openIndex(metric: IndexMetric.metric(for: model), dimension: model.dimension, indexPath: indexPath)
        self.init(model: model, vectorStore: SQLiteVectorStore(index), sqliteIndex: index, configuration: configuration, reranker: reranker)
    }

    /// Serves a PostgreSQL store (refusing one made by another model). The service then holds
    /// no index: pgvector searches inside the database, so several processes can serve one store.
    /// - Parameters:
    ///   - model: the served model.
    ///   - postgres: the open store (its metric must be the model's: see ``IndexMetric``).
    ///   - configuration: limits, key, timeouts.
    public convenience init(model: any ServedModel, postgres: any VectorStore, configuration: ServiceConfiguration,
                            reranker: CrossEncoder? = nil) async throws {
        try Self.check(fingerprint: try await postgres.fingerprint(), dimension: try await postgres.dimension(), of: postgres.location, model: model)
        self.init(model: model, vectorStore: postgres, sqliteIndex: nil, configuration: configuration, reranker: reranker)
    }

    init(model: any ServedModel, vectorStore: any VectorStore, sqliteIndex: StoreIndex?, configuration: ServiceConfiguration, reranker: CrossEncoder? = nil) {
        self.model = model
        self.reranker = reranker
        self.configuration = configuration
        self.batcher = EmbedBatcher(model: model, maxWait: .milliseconds(configuration.batchWaitMilliseconds), maxBatch: configuration.maxBatch)
        self.vectorStore = vectorStore
        self.sqliteIndex = sqliteIndex
        self.metrics = ServiceMetrics()
    }

    /// Refuses a store made by another model or of another dimension.
    static func check(fingerprint stored: String?, dimension: Int?, of location: String, model: any ServedModel) throws {
        if let stored, stored != model.fingerprint {
            throw ConfigurationError("\(location): the store holds vectors of model \(stored.prefix(16))…, but the served model is \(model.fingerprint.prefix(16))…; use another store, or re-embed this one")
        }
        if let d = dimension, d != model.dimension {
            throw ConfigurationError("\(location): the store holds \(d)-dimensional vectors; the model makes \(model.dimension)")
        }
    }

    /// The SQLite store's index (tests and SQLite-only paths; a PostgreSQL service has none).
    public var storeIndex: StoreIndex {
        guard let sqliteIndex else { fatalError("ServiceState.storeIndex: the service serves a PostgreSQL store, not a SQLite file") }
        return sqliteIndex
    }

    /// The SQLite store (tests and SQLite-only paths; a PostgreSQL service has none).
    var store: EmbeddingStore { storeIndex.store }

    /// Runs a store write on the write queue.
    ///
    /// Inside a request with a timeout, the write first takes the answer over from the timeout:
    /// once begun it is finished and reported, and if the timeout already answered, nothing is written.
    func write<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        if let once = RequestScope.current, !once.beginWrite() {
            throw APIError(.timeout, "the request timed out before its write began; nothing was written")
        }
        return try await withCheckedThrowingContinuation { continuation in
            writeQueue.async { continuation.resume(with: Result { try body() }) }
        }
    }

    /// Runs a store write of a PostgreSQL store (which orders concurrent writes itself), with
    /// the same timeout hand-over as ``write(_:)``; a store that cannot be reached answers 503.
    func writeAsync<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
        if let once = RequestScope.current, !once.beginWrite() {
            throw APIError(.timeout, "the request timed out before its write began; nothing was written")
        }
        return try await reachable(body)
    }

    /// Runs a call into the store, turning a PostgreSQL store's connection or server failure
    /// (``StoreError/database(_:)``) into a 503 with the stable code `store_unavailable`; the
    /// connection pool reconnects on its own for the next request.
    func reachable<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
        do { return try await body() } catch StoreError.database(let message) where sqliteIndex == nil {
            throw APIError(.storeUnavailable, "the store is unavailable: \(message)")
        }
    }

    /// Saves the index (when it has a path) so the next start reloads instead of rebuilding.
    public func flush() throws {
        try sqliteIndex?.save()
    }
}

/// A flag that is set once and read from any thread.
final class Flag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    var isSet: Bool { lock.withLock { value } }
    func set() { lock.withLock { value = true } }
}

/// Admits at most `capacity` holders at a time; others are turned away at once, not queued
/// (a queue of heavy requests would only grow while the client keeps retrying).
final class Gate: @unchecked Sendable {
    private let lock = NSLock()
    private let capacity: Int
    private var holders = 0

    init(capacity: Int) { self.capacity = capacity }

    /// Enters when a place is free; returns false otherwise.
    func tryEnter() -> Bool {
        lock.withLock {
            guard holders < capacity else { return false }
            holders += 1
            return true
        }
    }

    func leave() { lock.withLock { holders -= 1 } }

    /// Whether every place is taken.
    var isFull: Bool { lock.withLock { holders >= capacity } }
}

/// An optional callback, set by tests, called at a point of interest.
final class Probe: @unchecked Sendable {
    private let lock = NSLock()
    private var body: (@Sendable (_ clientConnected: @Sendable () -> Bool) -> Void)?

    func set(_ body: (@Sendable (_ clientConnected: @Sendable () -> Bool) -> Void)?) { lock.withLock { self.body = body } }

    /// Runs the test's closure, if any, telling it how to see whether the client is still there.
    func fire(clientConnected: @escaping @Sendable () -> Bool = { true }) {
        let current = lock.withLock { body }
        current?(clientConnected)
    }
}
