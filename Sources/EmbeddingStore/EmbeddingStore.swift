import Foundation
import GRDB

/// Items, their metadata and their vectors in SQLite (through GRDB), each vector tagged with the
/// fingerprint of the model that made it.
///
/// - **Durable**: the database runs in write-ahead-log mode with `synchronous = FULL`, so an
///   ``upsert(_:fingerprint:)`` or ``remove(_:)`` that has returned survives a crash or power
///   loss (each call is one transaction, flushed before it returns).
/// - **One model per store**: every vector carries its model's fingerprint, and the store refuses
///   vectors from another model (``StoreError/fingerprintMismatch(store:given:)``): vectors of
///   different models live in different spaces and must never be compared. To change models,
///   ``reembed(to:batchSize:embed:)`` re-embeds every item and switches atomically.
/// - **Indexed**: ``openIndex(metric:configuration:indexPath:)`` builds an HNSW index from the
///   store, or reloads a saved one and catches up with changes made since it was saved.
///
/// Safe to use from several threads (GRDB's `DatabasePool`: concurrent reads, serialised writes).
public final class EmbeddingStore: Sendable {
    /// The database file.
    public let path: String
    let pool: DatabasePool

    /// Opens (creating when missing) the store at `path`.
    public init(path: String) throws {
        self.path = path
        var config = Configuration()
        config.prepareDatabase { db in
            // WAL is DatabasePool's default; FULL makes every commit durable before it returns.
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        do {
            pool = try DatabasePool(path: path, configuration: config)
            try Self.migrator.migrate(pool)
        } catch {
            throw StoreError.database("\(path): cannot open the embedding store: \(error)")
        }
    }

    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);
                CREATE TABLE items (
                    label INTEGER PRIMARY KEY AUTOINCREMENT,  -- the id in the vector index; never reused
                    id TEXT NOT NULL UNIQUE,
                    text TEXT,
                    source TEXT,
                    metadata TEXT,
                    fingerprint TEXT NOT NULL,
                    vector BLOB NOT NULL,
                    generation INTEGER NOT NULL               -- the store generation of the last change
                );
                CREATE INDEX items_generation ON items(generation);
                CREATE TABLE deletions (label INTEGER PRIMARY KEY NOT NULL, generation INTEGER NOT NULL);
                CREATE TABLE reembed_staging (label INTEGER PRIMARY KEY NOT NULL, generation INTEGER NOT NULL, vector BLOB NOT NULL);
                INSERT INTO meta (key, value) VALUES ('generation', '0');
                """)
        }
        return m
    }

    // MARK: - Meta

    static func meta(_ db: Database, _ key: String) throws -> String? {
        try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = ?", arguments: [key])
    }

    static func setMeta(_ db: Database, _ key: String, _ value: String?) throws {
        if let value {
            try db.execute(sql: "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", arguments: [key, value])
        } else {
            try db.execute(sql: "DELETE FROM meta WHERE key = ?", arguments: [key])
        }
    }

    /// Increments and returns the store generation (inside a write transaction).
    static func nextGeneration(_ db: Database) throws -> Int64 {
        let g = (Int64(try meta(db, "generation") ?? "0") ?? 0) + 1
        try setMeta(db, "generation", String(g))
        return g
    }

    func read<T>(_ body: (Database) throws -> T) throws -> T {
        do { return try pool.read(body) } catch let e as StoreError { throw e } catch { throw StoreError.database("\(path): \(error)") }
    }

    func write<T>(_ body: (Database) throws -> T) throws -> T {
        do { return try pool.write(body) } catch let e as StoreError { throw e } catch { throw StoreError.database("\(path): \(error)") }
    }

    // MARK: - Reading

    /// The fingerprint of the model that made the store's vectors (nil for an empty, new store).
    public func fingerprint() throws -> String? { try read { try Self.meta($0, "fingerprint") } }

    /// The length of the store's vectors (nil for an empty, new store).
    public func dimension() throws -> Int? { try read { try Self.meta($0, "dimension").flatMap { Int($0) } } }

    /// Number of items.
    public func count() throws -> Int { try read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM items") ?? 0 } }

    /// The current generation: it grows with every write transaction.
    public func generation() throws -> Int64 { try read { Int64(try Self.meta($0, "generation") ?? "0") ?? 0 } }

    /// The item with this id, or nil.
    public func item(_ id: String) throws -> StoredItem? {
        guard !Self.holdsNUL(id) else { return nil }
        return try read { db in try Row.fetchOne(db, sql: "SELECT * FROM items WHERE id = ?", arguments: [id]).map(Self.item) }
    }

    /// The items with these ids, in the order given (nil where no item has the id), read in one
    /// snapshot with one query per 500 ids rather than one per id.
    public func items(ids: [String]) throws -> [StoredItem?] {
        guard !ids.isEmpty else { return [] }
        let storable = ids.filter { !Self.holdsNUL($0) }
        let found: [String: StoredItem] = try read { db in
            var byID: [String: StoredItem] = [:]
            // Chunks stay far below SQLite's limit on bound parameters.
            for start in stride(from: 0, to: storable.count, by: 500) {
                let chunk = Array(storable[start..<min(storable.count, start + 500)])
                let marks = Array(repeating: "?", count: chunk.count).joined(separator: ",")
                for row in try Row.fetchAll(db, sql: "SELECT * FROM items WHERE id IN (\(marks))", arguments: StatementArguments(chunk)) {
                    let item = Self.item(row)
                    byID[item.id] = item
                }
            }
            return byID
        }
        return ids.map { found[$0] }
    }

    /// The fingerprint stored with one item's vector.
    public func fingerprint(of id: String) throws -> String? {
        guard !Self.holdsNUL(id) else { return nil }
        return try read { try String.fetchOne($0, sql: "SELECT fingerprint FROM items WHERE id = ?", arguments: [id]) }
    }

    /// Items in storage order, `limit` at a time after `label` (pass nil to start); returns the
    /// items with their index labels.
    public func items(after label: Int64?, limit: Int) throws -> [(label: Int64, item: StoredItem)] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM items WHERE label > ? ORDER BY label LIMIT ?", arguments: [label ?? -1, limit])
                .map { ($0["label"] as Int64, Self.item($0)) }
        }
    }

    static func item(_ row: Row) -> StoredItem {
        StoredItem(id: row["id"], text: row["text"], source: row["source"], metadata: row["metadata"],
                   vector: VectorBlob.decode(row["vector"] as Data) ?? [])
    }

    // MARK: - Writing

    /// Inserts or replaces items (matched by id) made by the model `fingerprint`, in one
    /// transaction that is durable when this returns.
    ///
    /// The first upsert into an empty store fixes its fingerprint and dimension. Throws
    /// ``StoreError/fingerprintMismatch(store:given:)`` for another model's vectors, and refuses
    /// bad vectors, bad metadata and repeated ids, writing nothing.
    public func upsert(_ items: [StoredItem], fingerprint: String) throws {
        guard !fingerprint.isEmpty, fingerprint.utf8.count <= 4096 else { throw StoreError.invalidFingerprint(fingerprint) }
        var seen = Set<String>()
        for item in items {
            for (field, value) in [("id", item.id), ("text", item.text), ("source", item.source)] where value.map(Self.holdsNUL) ?? false {
                throw StoreError.nulCharacter(field: field, id: item.id)
            }
            guard seen.insert(item.id).inserted else { throw StoreError.duplicateID(item.id) }
            guard !item.vector.isEmpty, item.vector.allSatisfy(\.isFinite) else { throw StoreError.invalidVector(id: item.id) }
            if let m = item.metadata {
                guard let data = m.data(using: .utf8), (try? JSONSerialization.jsonObject(with: data)) is [String: Any] else {
                    throw StoreError.invalidMetadata(id: item.id)
                }
            }
        }
        guard !items.isEmpty else { return }
        try write { db in
            let current = try Self.meta(db, "fingerprint")
            if let current, current != fingerprint { throw StoreError.fingerprintMismatch(store: current, given: fingerprint) }
            let dim = items[0].vector.count
            if let stored = try Self.meta(db, "dimension").flatMap({ Int($0) }) {
                for item in items where item.vector.count != stored { throw StoreError.dimensionMismatch(expected: stored, got: item.vector.count) }
            } else {
                for item in items where item.vector.count != dim { throw StoreError.dimensionMismatch(expected: dim, got: item.vector.count) }
                try Self.setMeta(db, "dimension", String(dim))
            }
            if current == nil { try Self.setMeta(db, "fingerprint", fingerprint) }
            let g = try Self.nextGeneration(db)
            let statement = try db.cachedStatement(sql: """
                INSERT INTO items (id, text, source, metadata, fingerprint, vector, generation) VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(id) DO UPDATE SET text = excluded.text, source = excluded.source, metadata = excluded.metadata,
                    fingerprint = excluded.fingerprint, vector = excluded.vector, generation = excluded.generation
                """)
            for item in items {
                try statement.execute(arguments: [item.id, item.text, item.source, item.metadata, fingerprint, VectorBlob.encode(item.vector), g])
            }
        }
    }

    /// Removes items by id (unknown ids are ignored); durable when this returns. Returns how many went.
    @discardableResult
    public func remove(_ ids: [String]) throws -> Int {
        guard !ids.isEmpty else { return 0 }
        return try write { db in
            let g = try Self.nextGeneration(db)
            var removed = 0
            // An id with a NUL names no item (none can be stored); bound as a C string it would
            // name the item of its prefix.
            for id in ids where !Self.holdsNUL(id) {
                guard let label = try Int64.fetchOne(db, sql: "SELECT label FROM items WHERE id = ?", arguments: [id]) else { continue }
                try db.execute(sql: "DELETE FROM items WHERE label = ?", arguments: [label])
                try db.execute(sql: "INSERT OR REPLACE INTO deletions (label, generation) VALUES (?, ?)", arguments: [label, g])
                removed += 1
            }
            if try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM items") == 0 {
                // An empty store may take vectors of any model again.
                try Self.setMeta(db, "fingerprint", nil)
                try Self.setMeta(db, "dimension", nil)
            }
            return removed
        }
    }

    /// Whether `s` holds U+0000, which SQLite's C-string binding would cut at.
    public static func holdsNUL(_ s: String) -> Bool { s.utf8.contains(0) }

    /// Labels (index ids) of the items whose metadata meets `filter` (see ``MetadataFilter`` for
    /// how values compare).
    public func labels(matching filter: MetadataFilter) throws -> Set<UInt64> {
        let (clause, arguments) = filter.sql()
        return try read { db in
            Set(try Int64.fetchAll(db, sql: "SELECT label FROM items WHERE \(clause)", arguments: StatementArguments(arguments)).map { UInt64($0) })
        }
    }

    /// Labels of the items whose metadata has every given key equal, as text, to the given value.
    public func labels(matching equal: [String: String]) throws -> Set<UInt64> {
        try labels(matching: try MetadataFilter(equal: equal))
    }
}
