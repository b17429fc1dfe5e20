import Foundation
import GRDB
import VectorIndex

extension EmbeddingStore {
    /// An HNSW index over the store's vectors, kept in step with it.
    ///
    /// With `indexPath`, a previously saved index (``StoreIndex/save()``) is reloaded when it
    /// matches the store (same model fingerprint, dimension, metric), and brought up to date with
    /// the upserts and removals made since it was saved; otherwise — no file, a damaged file,
    /// another model — the index is rebuilt from the store (on every thread).
    ///
    /// - Parameter dimension: the vector length to use when the store is still empty.
    public func openIndex(metric: Metric, configuration: HNSWConfiguration = HNSWConfiguration(), dimension: Int? = nil,
                          indexPath: String? = nil) throws -> StoreIndex {
        let fp = try fingerprint()
        guard let dim = try self.dimension() ?? dimension else {
            throw StoreError.database("\(path): the store is empty; give the dimension of the vectors to come")
        }
        if let indexPath, FileManager.default.fileExists(atPath: indexPath),
           let (index, generation) = try? reload(indexPath, fingerprint: fp, dimension: dim, metric: metric) {
            let s = StoreIndex(store: self, index: index, indexPath: indexPath, fingerprint: fp)
            try s.catchUp(since: generation)
            return s
        }
        let index = try HNSWIndex(dimension: dim, metric: metric, configuration: configuration, capacity: max(1024, try count()))
        let s = StoreIndex(store: self, index: index, indexPath: indexPath, fingerprint: fp)
        try s.catchUp(since: -1)
        return s
    }

    /// A saved index and the generation it reflects, when it matches the store.
    private func reload(_ indexPath: String, fingerprint: String?, dimension: Int, metric: Metric) throws -> (HNSWIndex, Int64)? {
        guard let savedGeneration = try read({ try Self.meta($0, "index_generation") }).flatMap({ Int64($0) }),
              try read({ try Self.meta($0, "index_path") }) == indexPath else { return nil }
        let info = try IndexFileInfo.read(path: indexPath)
        guard info.kind == .hnsw, info.fingerprint == fingerprint, info.dimension == dimension, info.metric == metric else { return nil }
        return (try HNSWIndex.load(from: indexPath), savedGeneration)
    }
}

/// An ``EmbeddingStore`` with its HNSW index: writes go to the store first (durable), then to
/// the index; searches return item ids.
///
/// Write through the `StoreIndex` while it is open (writes made to the store directly are
/// picked up only by the next ``EmbeddingStore/openIndex(metric:configuration:dimension:indexPath:)``).
/// Searches may run from any thread while writes happen (see ``HNSWIndex``'s guarantees).
///
/// `@unchecked Sendable`: writes are serialised by `writeLock` (so the index applies them in the
/// store's order); the store and the index are themselves thread-safe.
public final class StoreIndex: @unchecked Sendable {
    public let store: EmbeddingStore
    public let index: HNSWIndex
    /// Where ``save()`` writes the index (nil: not saved).
    public let indexPath: String?
    private let writeLock = NSLock()
    private var fingerprint: String?

    init(store: EmbeddingStore, index: HNSWIndex, indexPath: String?, fingerprint: String?) {
        self.store = store
        self.index = index
        self.indexPath = indexPath
        self.fingerprint = fingerprint
    }

    /// Applies every store change after `generation` to the index.
    func catchUp(since generation: Int64) throws {
        writeLock.lock()
        defer { writeLock.unlock() }
        let removed = try store.read { db in
            try Int64.fetchAll(db, sql: "SELECT label FROM deletions WHERE generation > ?", arguments: [generation])
        }
        index.remove(removed.map { UInt64($0) })
        var last: Int64 = -1
        while true {
            let rows = try store.read { db in
                try Row.fetchAll(db, sql: "SELECT label, vector FROM items WHERE generation > ? AND label > ? ORDER BY label LIMIT 4096",
                                 arguments: [generation, last])
            }
            guard !rows.isEmpty else { break }
            var fresh: [Float] = [], freshLabels: [UInt64] = []
            for row in rows {
                let label = UInt64(row["label"] as Int64)
                let v = VectorBlob.decode(row["vector"] as Data) ?? []
                if index.contains(label) {
                    try index.upsert(v, id: label)
                } else {
                    fresh += v
                    freshLabels.append(label)
                }
            }
            if !freshLabels.isEmpty { try index.add(fresh, ids: freshLabels) }
            last = rows.last!["label"]
        }
    }

    /// Upserts into the store (durable on return) and then into the index.
    public func upsert(_ items: [StoredItem], fingerprint: String) throws {
        writeLock.lock()
        defer { writeLock.unlock() }
        try store.upsert(items, fingerprint: fingerprint)
        self.fingerprint = fingerprint
        let labels = try store.read { db in
            try items.map { try Int64.fetchOne(db, sql: "SELECT label FROM items WHERE id = ?", arguments: [$0.id])! }
        }
        for (item, label) in zip(items, labels) { try index.upsert(item.vector, id: UInt64(label)) }
    }

    /// Removes items from the store (durable on return) and from the index.
    @discardableResult
    public func remove(_ ids: [String]) throws -> Int {
        writeLock.lock()
        defer { writeLock.unlock() }
        let labels = try store.read { db in
            try ids.filter { !EmbeddingStore.holdsNUL($0) }.compactMap { try Int64.fetchOne(db, sql: "SELECT label FROM items WHERE id = ?", arguments: [$0]) }
        }
        let n = try store.remove(ids)
        index.remove(labels.map { UInt64($0) })
        return n
    }

    /// The `k` nearest items to `vector`, best first, as (item id, score); with `metadata`, only
    /// items whose metadata meets that filter.
    public func search(_ vector: [Float], k: Int, ef: Int? = nil, metadata: MetadataFilter? = nil) throws -> [(id: String, score: Float)] {
        let filter = try metadata.map { SearchFilter.ids(try store.labels(matching: $0)) }
        let hits = try index.search(vector, k: k, ef: ef, filter: filter)
        guard !hits.isEmpty else { return [] }
        let ids = try store.read { db -> [Int64: String] in
            let labels = hits.map { Int64($0.id) }
            let rows = try Row.fetchAll(db, sql: "SELECT label, id FROM items WHERE label IN (\(labels.map { _ in "?" }.joined(separator: ",")))",
                                        arguments: StatementArguments(labels))
            return Dictionary(uniqueKeysWithValues: rows.map { ($0["label"] as Int64, $0["id"] as String) })
        }
        // An item removed between the search and the lookup is simply dropped.
        return hits.compactMap { h in ids[Int64(h.id)].map { ($0, h.score) } }
    }

    /// Saves the index to ``indexPath`` (atomically) and records in the store which generation it
    /// reflects, so that the next open reloads it and applies only later changes.
    public func save() throws {
        guard let indexPath else { return }
        writeLock.lock()
        defer { writeLock.unlock() }
        let generation = try store.generation()
        try index.save(to: indexPath, fingerprint: try store.fingerprint())
        try store.write { db in
            try EmbeddingStore.setMeta(db, "index_generation", String(generation))
            try EmbeddingStore.setMeta(db, "index_path", indexPath)
            try db.execute(sql: "DELETE FROM deletions WHERE generation <= ?", arguments: [generation])
        }
    }
}
