import EmbeddingStore
import Foundation
import Logging
import PostgresNIO
import VectorIndex

extension PostgresStore {
    /// Moves the store to another model, as ``EmbeddingStore/reembed(to:batchSize:embed:)`` does
    /// for SQLite: re-embeds every item's text with `embed`, then switches to the new vectors
    /// atomically.
    ///
    /// The new vectors wait beside the old ones in `siamese_reembed` (schema migration 3),
    /// committed batch by batch, while the items table keeps its vectors, index and fingerprint:
    /// replicas go on searching and taking upserts of the old model. Each staged vector records
    /// the item row's version (`xmin`) whose text it was made from, so an item changed or added
    /// meanwhile is embedded again before the switch, and a run that stopped resumes where it
    /// was when called again with the same fingerprint (another fingerprint starts over). The
    /// switch is one transaction under the exclusive advisory lock (upserts wait; searches go on
    /// against the old table until the commit): it builds the new items table (the new model's
    /// dimension, its HNSW index), drops the old one, renames the new one into its place and
    /// writes the new fingerprint, dimension and metric. Other processes holding this store open
    /// keep their old model's fingerprint and are refused as for any store of another model.
    ///
    /// - Parameters:
    ///   - fingerprint: the new model's fingerprint.
    ///   - metric: the metric of the new index (nil: the store's).
    ///   - batchSize: items per `embed` call and per staging transaction.
    ///   - embed: turns texts into vectors (one per text, all the same length).
    /// - Returns: the number of items embedded by this call (0 when the store already uses
    ///   `fingerprint`, or holds no items).
    /// - Throws: ``StoreError/missingText(id:)`` when an item has no text (before any work),
    ///   errors from `embed`, ``StoreError/embedderReturned(expected:got:)``,
    ///   ``StoreError/invalidVector(id:)`` or ``StoreError/dimensionMismatch(expected:got:)`` for
    ///   what `embed` gave, and ``StoreError/database(_:)``.
    @discardableResult
    public func reembed(to fingerprint: String, metric: Metric? = nil, batchSize: Int = 256,
                        embed: ([String]) async throws -> [[Float]]) async throws -> Int {
        guard !fingerprint.isEmpty, fingerprint.utf8.count <= 4096, !EmbeddingStore.holdsNUL(fingerprint) else {
            throw StoreError.invalidFingerprint(fingerprint)
        }
        guard batchSize >= 1 else { throw StoreError.database("batchSize must be at least 1") }
        guard let current = try await self.fingerprint(), current != fingerprint else { return 0 }
        if let id = try await itemWithoutText() { throw StoreError.missingText(id: id) }
        try await run("starting the re-embedding") { [client, logger] in
            try await client.withTransaction(logger: logger) { conn in
                // Vectors staged for another model are of no use now.
                if try await Self.meta(conn, logger: logger)["reembed_target"] != fingerprint {
                    _ = try await conn.query("DELETE FROM siamese_reembed", logger: logger)
                    _ = try await conn.query("""
                        INSERT INTO siamese_meta (key, value) VALUES ('reembed_target', \(fingerprint))
                        ON CONFLICT (key) DO UPDATE SET value = excluded.value
                        """, logger: logger)
                }
            }
        }
        var dimension = try await run("reading the staged vectors") { [client, logger] in
            var d: Int?
            for try await n in try await client.query("SELECT array_length(vector, 1) FROM siamese_reembed LIMIT 1", logger: logger).decode(Int32?.self) {
                d = n.map(Int.init)
            }
            return d
        }
        var embedded = 0
        while true {
            let batch = try await pending(limit: batchSize)
            if batch.isEmpty {
                // Switch, unless something changed since the last batch was read.
                if try await switchToStaged(fingerprint, metric: metric ?? self.metric) { return embedded }
                continue
            }
            let texts = try batch.map { row in
                guard let text = row.text else { throw StoreError.missingText(id: row.id) }
                return text
            }
            let vectors = try await embed(texts)
            guard vectors.count == texts.count else { throw StoreError.embedderReturned(expected: texts.count, got: vectors.count) }
            for (row, v) in zip(batch, vectors) {
                guard !v.isEmpty, v.allSatisfy(\.isFinite) else { throw StoreError.invalidVector(id: row.id) }
                if let d = dimension, d != v.count { throw StoreError.dimensionMismatch(expected: d, got: v.count) }
                dimension = v.count
            }
            try await stage(batch, vectors: vectors, fingerprint: fingerprint)
            embedded += batch.count
        }
    }

    /// The id of an item without text (it cannot be re-embedded), if any.
    func itemWithoutText() async throws -> String? {
        try await read("looking for items without text", empty: nil) { [client, logger] in
            var id: String?
            for try await i in try await client.query("SELECT id FROM siamese_items WHERE text IS NULL LIMIT 1", logger: logger).decode(String.self) { id = i }
            return id
        }
    }

    /// Items whose current row has no staged vector (new, or changed since it was staged), in id order.
    func pending(limit: Int) async throws -> [(id: String, text: String?, version: String)] {
        try await read("reading items to re-embed", empty: []) { [client, logger] in
            var rows: [(id: String, text: String?, version: String)] = []
            for try await row in try await client.query("""
                SELECT i.id, i.text, i.xmin::text FROM siamese_items i LEFT JOIN siamese_reembed s ON s.id = i.id
                WHERE s.id IS NULL OR s.version <> i.xmin::text ORDER BY i.id LIMIT \(limit)
                """, logger: logger).decode((String, String?, String).self) { rows.append(row) }
            return rows
        }
    }

    /// Commits one batch of new vectors to the staging table, each with the row version its text was read from.
    func stage(_ batch: [(id: String, text: String?, version: String)], vectors: [[Float]], fingerprint: String) async throws {
        let (ids, versions, flat, d) = (batch.map(\.id), batch.map(\.version), vectors.flatMap { $0 }, vectors[0].count)
        try await run("staging \(batch.count) re-embedded items") { [client, logger] in
            try await client.withTransaction(logger: logger) { conn in
                let target = try await Self.meta(conn, logger: logger)["reembed_target"]
                guard target == fingerprint else {
                    throw StoreError.database("another re-embedding (to \(target ?? "none")) started meanwhile; one at a time")
                }
                _ = try await conn.query("""
                    INSERT INTO siamese_reembed (id, version, vector)
                    SELECT u.id, u.version, (\(flat)::real[])[(u.ord::int - 1) * \(d)::int + 1 : u.ord::int * \(d)::int]
                    FROM unnest(\(ids)::text[], \(versions)::text[]) WITH ORDINALITY AS u(id, version, ord)
                    ON CONFLICT (id) DO UPDATE SET version = excluded.version, vector = excluded.vector
                    """, logger: logger)
            }
        }
    }

    /// The switch: under the exclusive lock, when every item has a current staged vector, builds
    /// the new items table and its index, puts it in place of the old one and writes the new
    /// settings, in one transaction. False when items changed since the last batch (the caller
    /// embeds them, then tries again).
    func switchToStaged(_ fingerprint: String, metric: Metric) async throws -> Bool {
        let (type, m, efc) = (vectorType, options.hnswM, options.hnswEfConstruction)
        // Building the whole index is long by nature: an hour rather than the operation limit.
        return try await run("switching to the re-embedded vectors", timeout: max(options.operationTimeout, .seconds(3600))) { [client, logger] in
            try await client.withTransaction(logger: logger) { conn -> Bool in
                _ = try await conn.query("SELECT pg_advisory_xact_lock(\(Self.lockKey))", logger: logger)
                let meta = try await Self.meta(conn, logger: logger)
                guard meta["reembed_target"] == fingerprint else {
                    throw StoreError.database("another re-embedding (to \(meta["reembed_target"] ?? "none")) started meanwhile; one at a time")
                }
                var exists = false
                for try await e in try await conn.query("SELECT to_regclass('siamese_items') IS NOT NULL", logger: logger).decode(Bool.self) { exists = e }
                var dimension: Int?
                if exists {
                    // Read to the end before acting on it: the connection goes on with the next statement.
                    var pending = false, withoutText: String?
                    for try await _ in try await conn.query("""
                        SELECT 1 FROM siamese_items i LEFT JOIN siamese_reembed s ON s.id = i.id
                        WHERE s.id IS NULL OR s.version <> i.xmin::text LIMIT 1
                        """, logger: logger).decode(Int32.self) { pending = true }
                    if pending { return false }
                    for try await id in try await conn.query("SELECT id FROM siamese_items WHERE text IS NULL LIMIT 1", logger: logger).decode(String.self) {
                        withoutText = id
                    }
                    if let withoutText { throw StoreError.missingText(id: withoutText) }
                    for try await n in try await conn.query("""
                        SELECT array_length(s.vector, 1) FROM siamese_items i JOIN siamese_reembed s ON s.id = i.id LIMIT 1
                        """, logger: logger).decode(Int32?.self) { dimension = n.map(Int.init) }
                }
                if let dimension {
                    let sql = PostgresMigrations.itemsTable(dimension: dimension, metric: metric, type: type, m: m, efConstruction: efc, name: "siamese_items_next")
                    _ = try await conn.query(PostgresQuery(unsafeSQL: sql[0]), logger: logger)
                    // Rows first, index after: one build is faster than as many inserts into it.
                    _ = try await conn.query("""
                        INSERT INTO siamese_items_next (id, text, source, metadata, fingerprint, vector, updated_at)
                        SELECT i.id, i.text, i.source, i.metadata, \(fingerprint), s.vector::\(unescaped: type.rawValue), now()
                        FROM siamese_items i JOIN siamese_reembed s ON s.id = i.id
                        """, logger: logger)
                    for index in sql.dropFirst() { _ = try await conn.query(PostgresQuery(unsafeSQL: index), logger: logger) }
                    // Searches wait for the old table's lock from here to COMMIT, then read the new one.
                    for statement in ["DROP TABLE siamese_items", "ALTER TABLE siamese_items_next RENAME TO siamese_items",
                                      "ALTER INDEX siamese_items_next_pkey RENAME TO siamese_items_pkey",
                                      "ALTER INDEX IF EXISTS siamese_items_next_hnsw RENAME TO siamese_items_hnsw"] {
                        _ = try await conn.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                    }
                    for (key, value) in [("fingerprint", fingerprint), ("dimension", String(dimension)), ("metric", metric.rawValue)] {
                        _ = try await conn.query("""
                            INSERT INTO siamese_meta (key, value) VALUES (\(key), \(value))
                            ON CONFLICT (key) DO UPDATE SET value = excluded.value
                            """, logger: logger)
                    }
                } else if exists {
                    // Every item was removed meanwhile (and the table kept): the store is empty.
                    _ = try await conn.query("DROP TABLE siamese_items", logger: logger)
                    _ = try await conn.query("DELETE FROM siamese_meta WHERE key IN ('fingerprint', 'dimension', 'metric', 'vector_type')", logger: logger)
                }
                _ = try await conn.query("DELETE FROM siamese_reembed", logger: logger)
                _ = try await conn.query("DELETE FROM siamese_meta WHERE key = 'reembed_target'", logger: logger)
                return true
            }
        }
    }
}
