import Foundation
import GRDB

extension EmbeddingStore {
    /// Moves the store to another model: re-embeds every item's text with `embed` and then, in
    /// one transaction, replaces all vectors and the store's fingerprint (and dimension).
    ///
    /// Until that final switch the store keeps serving the old model's vectors, and it may keep
    /// taking upserts of the old model: items changed meanwhile are re-embedded again before the
    /// switch. New vectors wait in a staging table, committed batch by batch, so an interrupted
    /// re-embed resumes where it stopped when called again with the same fingerprint. A saved
    /// index no longer matches after the switch, so ``openIndex(metric:configuration:dimension:indexPath:)``
    /// rebuilds it.
    ///
    /// - Parameters:
    ///   - fingerprint: the new model's fingerprint.
    ///   - embed: turns texts into vectors (one per text, all the same length).
    /// - Returns: the number of items re-embedded (0 when the store already uses `fingerprint`).
    /// - Throws: ``StoreError/missingText(id:)`` when an item has no text (before any work),
    ///   errors from `embed`, or ``StoreError/embedderReturned(expected:got:)``.
    @discardableResult
    public func reembed(to fingerprint: String, batchSize: Int = 256,
                        embed: ([String]) async throws -> [[Float]]) async throws -> Int {
        guard !fingerprint.isEmpty, fingerprint.utf8.count <= 4096 else { throw StoreError.invalidFingerprint(fingerprint) }
        guard batchSize >= 1 else { throw StoreError.database("batchSize must be at least 1") }
        if try self.fingerprint() == fingerprint { return 0 }
        if let id = try read({ try String.fetchOne($0, sql: "SELECT id FROM items WHERE text IS NULL LIMIT 1") }) {
            throw StoreError.missingText(id: id)
        }
        try write { db in
            if try Self.meta(db, "reembed_target") != fingerprint {
                try db.execute(sql: "DELETE FROM reembed_staging")
                try Self.setMeta(db, "reembed_target", fingerprint)
            }
        }
        let pending = """
            SELECT i.label, i.id, i.text, i.generation FROM items i LEFT JOIN reembed_staging s ON s.label = i.label
            WHERE s.label IS NULL OR s.generation != i.generation ORDER BY i.label LIMIT ?
            """
        var embedded = 0
        var dimension = try read { db in try Data.fetchOne(db, sql: "SELECT vector FROM reembed_staging LIMIT 1").map { $0.count / 4 } }
        while true {
            let batch = try read { db in try Row.fetchAll(db, sql: pending, arguments: [batchSize]) }
            if batch.isEmpty {
                // Switch, unless something changed since the last batch was read.
                let switched = try write { db -> Bool in
                    guard try Row.fetchOne(db, sql: pending, arguments: [1]) == nil else { return false }
                    if let id = try String.fetchOne(db, sql: "SELECT id FROM items WHERE text IS NULL LIMIT 1") { throw StoreError.missingText(id: id) }
                    let g = try Self.nextGeneration(db)
                    try db.execute(sql: """
                        UPDATE items SET vector = (SELECT vector FROM reembed_staging s WHERE s.label = items.label),
                            fingerprint = ?, generation = ?
                        """, arguments: [fingerprint, g])
                    try db.execute(sql: "DELETE FROM reembed_staging")
                    try Self.setMeta(db, "reembed_target", nil)
                    let empty = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM items") == 0
                    try Self.setMeta(db, "fingerprint", empty ? nil : fingerprint)
                    try Self.setMeta(db, "dimension", empty ? nil : dimension.map(String.init))
                    // Any saved index holds the old model's vectors.
                    try Self.setMeta(db, "index_generation", nil)
                    return true
                }
                if switched { return embedded }
                continue
            }
            let texts = batch.map { ($0["text"] as String?) ?? "" }
            if let missing = batch.first(where: { ($0["text"] as String?) == nil }) { throw StoreError.missingText(id: missing["id"]) }
            let vectors = try await embed(texts)
            guard vectors.count == texts.count else { throw StoreError.embedderReturned(expected: texts.count, got: vectors.count) }
            for (row, v) in zip(batch, vectors) {
                guard !v.isEmpty, v.allSatisfy(\.isFinite) else { throw StoreError.invalidVector(id: row["id"]) }
                if let d = dimension, d != v.count { throw StoreError.dimensionMismatch(expected: d, got: v.count) }
                dimension = v.count
            }
            try write { db in
                for (row, v) in zip(batch, vectors) {
                    try db.execute(sql: "INSERT OR REPLACE INTO reembed_staging (label, generation, vector) VALUES (?, ?, ?)",
                                   arguments: [row["label"] as Int64, row["generation"] as Int64, VectorBlob.encode(v)])
                }
            }
            embedded += batch.count
        }
    }
}
