import EmbeddingStore
import Foundation
import Logging
import PostgresNIO
import VectorIndex

extension PostgresStore {
    /// See ``VectorStore/upsert(_:fingerprint:)``: one transaction, one statement per call,
    /// acknowledged after COMMIT.
    ///
    /// Concurrency: upserts into a store that has a fingerprint take the advisory lock shared
    /// (they run side by side, rows are locked by PostgreSQL); the first upsert into an empty store
    /// and removals take it exclusively, so the fingerprint and the table they create or drop
    /// are never seen half made.
    public func upsert(_ items: [StoredItem], fingerprint: String) async throws {
        let document = try Self.validate(items, fingerprint: fingerprint)
        guard !items.isEmpty else { return }
        let vectors = items.flatMap(\.vector)
        let dim = items[0].vector.count
        for item in items where item.vector.count != dim { throw StoreError.dimensionMismatch(expected: dim, got: item.vector.count) }
        let type = vectorType
        try await write(dimension: dim, fingerprint: fingerprint, what: "writing \(items.count) items") { conn, logger in
            _ = try await conn.query("""
                INSERT INTO siamese_items AS t (id, text, source, metadata, fingerprint, vector, updated_at)
                SELECT r.id, r.text, r.source, r.metadata, \(fingerprint),
                       (\(vectors)::real[])[(r.ord::int - 1) * \(dim)::int + 1 : r.ord::int * \(dim)::int]::\(unescaped: type.rawValue), now()
                FROM ROWS FROM (jsonb_to_recordset(\(document)::jsonb) AS (id text, text text, source text, metadata jsonb))
                     WITH ORDINALITY AS r(id, text, source, metadata, ord)
                ON CONFLICT (id) DO UPDATE SET text = excluded.text, source = excluded.source, metadata = excluded.metadata,
                    fingerprint = excluded.fingerprint, vector = excluded.vector, updated_at = excluded.updated_at
                """, logger: logger)
        }
    }

    /// The transaction every upsert runs in: takes the advisory lock, checks the fingerprint and
    /// dimension against the store's (making the items table for the first vectors), then runs
    /// `body`, which writes the rows; returns after COMMIT.
    func write(dimension dim: Int, fingerprint: String, what: String,
               body: @escaping @Sendable (PostgresConnection, Logger) async throws -> Void) async throws {
        let (metric, type, m, efc) = (self.metric, vectorType, options.hnswM, options.hnswEfConstruction)
        try await run(what) { [client, logger] in
            for exclusive in [false, true] {
                let done = try await client.withTransaction(logger: logger) { conn -> Bool in
                    let lock = exclusive ? "pg_advisory_xact_lock" : "pg_advisory_xact_lock_shared"
                    _ = try await conn.query(PostgresQuery(unsafeSQL: "SELECT \(lock)($1)", binds: Self.binds(Self.lockKey)), logger: logger)
                    let meta = try await Self.meta(conn, logger: logger)
                    if let current = meta["fingerprint"], current != fingerprint {
                        throw StoreError.fingerprintMismatch(store: current, given: fingerprint)
                    }
                    if let stored = meta["dimension"].flatMap({ Int($0) }) {
                        if dim != stored { throw StoreError.dimensionMismatch(expected: stored, got: dim) }
                    } else {
                        // A new store: its table is made under the exclusive lock only.
                        guard exclusive else { return false }
                        for sql in PostgresMigrations.itemsTable(dimension: dim, metric: metric, type: type, m: m, efConstruction: efc) {
                            _ = try await conn.query(PostgresQuery(unsafeSQL: sql), logger: logger)
                        }
                        for (key, value) in [("fingerprint", fingerprint), ("dimension", String(dim)), ("metric", metric.rawValue), ("vector_type", type.rawValue)] {
                            _ = try await conn.query("""
                                INSERT INTO siamese_meta (key, value) VALUES (\(key), \(value))
                                ON CONFLICT (key) DO UPDATE SET value = excluded.value
                                """, logger: logger)
                        }
                    }
                    try await body(conn, logger)
                    return true
                }
                if done { return }
            }
        }
    }

    /// See ``VectorStore/remove(_:)``. Removing the last item drops the items table and the
    /// fingerprint, so the store takes any model's vectors again (as the SQLite store does).
    @discardableResult
    public func remove(_ ids: [String]) async throws -> Int {
        let ids = Array(Set(ids.filter { !EmbeddingStore.holdsNUL($0) }))
        guard !ids.isEmpty else { return 0 }
        return try await read("removing items", empty: 0) { [client, logger] in
            try await client.withTransaction(logger: logger) { conn in
                _ = try await conn.query("SELECT pg_advisory_xact_lock(\(Self.lockKey))", logger: logger)
                var removed = 0
                for try await n in try await conn.query(
                    "WITH d AS (DELETE FROM siamese_items WHERE id = ANY(\(ids)::text[]) RETURNING 1) SELECT count(*) FROM d",
                    logger: logger).decode(Int64.self) { removed = Int(n) }
                var empty = false
                for try await e in try await conn.query("SELECT NOT EXISTS (SELECT 1 FROM siamese_items)", logger: logger).decode(Bool.self) { empty = e }
                if empty {
                    _ = try await conn.query("DROP TABLE siamese_items", logger: logger)
                    _ = try await conn.query("DELETE FROM siamese_meta WHERE key IN ('fingerprint', 'dimension', 'metric', 'vector_type')", logger: logger)
                }
                return removed
            }
        }
    }

    /// The settings rows, read inside a transaction.
    static func meta(_ conn: PostgresConnection, logger: Logger) async throws -> [String: String] {
        var out: [String: String] = [:]
        for try await (key, value) in try await conn.query("SELECT key, value FROM siamese_meta", logger: logger).decode((String, String).self) {
            out[key] = value
        }
        return out
    }

    static func binds(_ values: Int64...) -> PostgresBindings {
        var b = PostgresBindings()
        for v in values { b.append(v) }
        return b
    }

    /// Checks the items as ``EmbeddingStore/upsert(_:fingerprint:)`` does, plus what PostgreSQL
    /// cannot keep (NUL in metadata strings), and returns their non-vector fields as one JSON
    /// array for `jsonb_to_recordset` (one parameter, however many items).
    static func validate(_ items: [StoredItem], fingerprint: String, document: Bool = true) throws -> String {
        guard !fingerprint.isEmpty, fingerprint.utf8.count <= 4096, !EmbeddingStore.holdsNUL(fingerprint) else {
            throw StoreError.invalidFingerprint(fingerprint)
        }
        var seen = Set<String>()
        var rows: [String] = []
        rows.reserveCapacity(items.count)
        for item in items {
            for (field, value) in [("id", item.id), ("text", item.text), ("source", item.source)] where value.map(EmbeddingStore.holdsNUL) ?? false {
                throw StoreError.nulCharacter(field: field, id: item.id)
            }
            guard seen.insert(item.id).inserted else { throw StoreError.duplicateID(item.id) }
            guard !item.vector.isEmpty, item.vector.allSatisfy(\.isFinite) else { throw StoreError.invalidVector(id: item.id) }
            var metadata = "null"
            if let m = item.metadata {
                guard let data = m.data(using: .utf8), let object = try? JSONSerialization.jsonObject(with: data), object is [String: Any] else {
                    throw StoreError.invalidMetadata(id: item.id)
                }
                // jsonb refuses \u0000 in keys and strings.
                if holdsNUL(json: object) { throw StoreError.nulCharacter(field: "metadata", id: item.id) }
                metadata = m
            }
            if document { rows.append("{\"id\":\(quote(item.id)),\"text\":\(item.text.map(quote) ?? "null"),\"source\":\(item.source.map(quote) ?? "null"),\"metadata\":\(metadata)}") }
        }
        return "[" + rows.joined(separator: ",") + "]"
    }

    /// The checks of ``validate(_:fingerprint:document:)`` without making the document.
    static func check(_ items: [StoredItem], fingerprint: String) throws {
        _ = try validate(items, fingerprint: fingerprint, document: false)
    }

    /// A string as a JSON string literal.
    static func quote(_ s: String) -> String {
        var out = "\""
        out.reserveCapacity(s.utf8.count + 2)
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where u.value < 0x20: out += String(format: "\\u%04x", u.value)
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }

    /// Whether a parsed JSON value holds U+0000 in any key or string.
    static func holdsNUL(json: Any) -> Bool {
        switch json {
        case let s as String: return EmbeddingStore.holdsNUL(s)
        case let d as [String: Any]: return d.contains { EmbeddingStore.holdsNUL($0.key) || holdsNUL(json: $0.value) }
        case let a as [Any]: return a.contains(where: holdsNUL(json:))
        default: return false
        }
    }
}
