import EmbeddingStore
import Foundation
import PostgresNIO
import VectorIndex

/// Near-duplicate mining inside PostgreSQL: each item's nearest others found through the store's
/// own HNSW index, batch by batch, with the pairs kept in a table of the database — so that a
/// store of millions of items is mined with bounded memory in this process (no vector leaves the
/// database) and the result is a table other tools can query, or a stream of rows.
extension PostgresStore {
    /// What ``minePairs(into:k:threshold:score:batchSize:progress:)`` compares.
    public enum PairScore: Sendable {
        /// Cosine similarity (`1 − <=>`), clamped to [−1, 1]: the CLI's default, as for SQLite stores.
        case cosine
        /// Inner product (`−<#>`): for vectors that are not unit length (`--no-normalize`).
        case dot
    }

    /// Whether `name` may name a pairs table: a plain lower-case SQL identifier (it is written
    /// into SQL text, so nothing else is accepted), not one of the store's own tables.
    public static func isValidPairsTable(_ name: String) -> Bool {
        guard (1...63).contains(name.utf8.count), !name.hasPrefix("siamese_items"), !name.hasPrefix("siamese_meta"),
              !name.hasPrefix("siamese_schema"), let first = name.unicodeScalars.first,
              ("a"..."z").contains(first) || first == "_" else { return false }
        return name.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }
    }

    /// Finds every item's `k` nearest others through the store's HNSW index (at the metric the
    /// index was built for) and keeps each unordered pair whose score is at least `threshold`
    /// once, as rows `(a, b, score)` with `a < b` of the new table `table`. One SQL statement per
    /// batch of `batchSize` items (a `LATERAL` index search per item); the table is created here
    /// and must not exist yet.
    ///
    /// - Parameters:
    ///   - table: the table to create (see ``isValidPairsTable(_:)``).
    ///   - k: neighbours looked at per item (1…1000).
    ///   - threshold: the lowest score kept (nil: all `k` neighbours of every item).
    ///   - score: what the score of a pair is.
    ///   - batchSize: items per statement.
    ///   - progress: called after each batch with (items done, items in the store).
    /// - Returns: the number of pairs in the table.
    public func minePairs(into table: String, k: Int, threshold: Double?, score: PairScore, batchSize: Int = 256,
                          progress: @escaping @Sendable (Int, Int) -> Void = { _, _ in }) async throws -> Int {
        guard Self.isValidPairsTable(table) else {
            throw StoreError.database("\(location): '\(table)' cannot name a pairs table: use lower-case letters, digits and _, starting with a letter, at most 63 bytes, not a siamese_ table of the store")
        }
        guard (1...Self.maxEfSearch).contains(k) else { throw StoreError.database("\(location): k must be 1…\(Self.maxEfSearch), got \(k)") }
        let total = try await count()
        try await run("creating the pairs table \(table)") { [client, logger] in
            _ = try await client.query(PostgresQuery(unsafeSQL: "CREATE TABLE \"\(table)\" (a text COLLATE \"C\" NOT NULL, b text COLLATE \"C\" NOT NULL, score double precision NOT NULL, PRIMARY KEY (a, b))"), logger: logger)
        }
        guard total > 0 else { return 0 }
        let op = PostgresMigrations.distance(metric, vectorType).op
        let value = switch score {
        case .cosine: "greatest(-1, least(1, 1 - (i.vector <=> q.vector)))"
        case .dot: "-(i.vector <#> q.vector)"
        }
        // The index scan needs ef_search ≥ k + 1 (the item itself is among its own neighbours).
        let ef = min(Self.maxEfSearch, max(options.efSearch, k + 1))
        var cursor = "", done = 0
        while done < total {
            let from = cursor
            let last: String? = try await read("mining pairs", empty: nil) { [client, logger] in
                var b = SQLBuilder()
                b.sql = "SELECT max(id) FROM (SELECT id FROM siamese_items WHERE id > \(b.bind(from)) ORDER BY id LIMIT \(b.bind(batchSize))) s"
                for try await (id) in try await client.query(b.query, logger: logger).decode(String?.self) { return id }
                return nil
            }
            guard let last else { break }
            let inBatch = try await read("mining pairs", empty: 0) { [client, logger] in
                try await client.withTransaction(logger: logger) { conn in
                    _ = try await conn.query("SELECT set_config('hnsw.ef_search', \(String(ef)), true)", logger: logger)
                    var b = SQLBuilder()
                    let lower = b.bind(from), upper = b.bind(last), limit = b.bind(k + 1)
                    let floor = threshold.map { "WHERE n.s >= \(b.bind($0))" } ?? ""
                    b.sql = """
                        INSERT INTO "\(table)" (a, b, score)
                        SELECT least(q.id, n.id), greatest(q.id, n.id), n.s
                        FROM (SELECT id, vector FROM siamese_items WHERE id > \(lower) AND id <= \(upper)) q
                        CROSS JOIN LATERAL (
                            SELECT i.id, \(value) AS s FROM siamese_items i
                            ORDER BY i.vector \(op) q.vector LIMIT \(limit)
                        ) n
                        \(floor.isEmpty ? "WHERE n.id <> q.id" : floor + " AND n.id <> q.id")
                        ON CONFLICT (a, b) DO NOTHING
                        """
                    _ = try await conn.query(b.query, logger: logger)
                    var c = SQLBuilder()
                    c.sql = "SELECT count(*) FROM siamese_items WHERE id > \(c.bind(from)) AND id <= \(c.bind(last))"
                    for try await n in try await conn.query(c.query, logger: logger).decode(Int.self) { return n }
                    return 0
                }
            }
            done += inBatch
            cursor = last
            progress(min(done, total), total)
        }
        return try await run("counting pairs") { [client, logger] in
            for try await n in try await client.query(PostgresQuery(unsafeSQL: "SELECT count(*) FROM \"\(table)\""), logger: logger).decode(Int.self) { return n }
            return 0
        }
    }

    /// The rows of a pairs table, best score first (ties by `a`, then `b`), handed to `body` a
    /// page at a time (keyset pages of `pageSize`: memory stays bounded however many there are).
    public func readPairs(from table: String, pageSize: Int = 10_000,
                          _ body: ([(a: String, b: String, score: Double)]) throws -> Void) async throws {
        guard Self.isValidPairsTable(table) else { throw StoreError.database("\(location): '\(table)' cannot name a pairs table") }
        var after: (score: Double, a: String, b: String)?
        while true {
            let bound = after
            let page: [(a: String, b: String, score: Double)] = try await run("reading pairs from \(table)") { [client, logger] in
                var q = SQLBuilder()
                q.sql = "SELECT a, b, score FROM \"\(table)\""
                if let bound {
                    // Descending score, then ascending a and b: the row after `bound` in that order.
                    let s = q.bind(bound.score), a = q.bind(bound.a), b = q.bind(bound.b)
                    q.sql += " WHERE score < \(s) OR (score = \(s) AND (a, b) > (\(a), \(b)))"
                }
                q.sql += " ORDER BY score DESC, a, b LIMIT \(q.bind(pageSize))"
                var rows: [(a: String, b: String, score: Double)] = []
                for try await (a, b, s) in try await client.query(q.query, logger: logger).decode((String, String, Double).self) {
                    rows.append((a, b, s))
                }
                return rows
            }
            guard let end = page.last else { return }
            try body(page)
            guard page.count == pageSize else { return }
            after = (end.score, end.a, end.b)
        }
    }

    /// Drops a pairs table (nothing when it does not exist).
    public func dropPairs(_ table: String) async throws {
        guard Self.isValidPairsTable(table) else { throw StoreError.database("\(location): '\(table)' cannot name a pairs table") }
        try await run("dropping \(table)") { [client, logger] in
            _ = try await client.query(PostgresQuery(unsafeSQL: "DROP TABLE IF EXISTS \"\(table)\""), logger: logger)
        }
    }
}
