import EmbeddingStore
import Foundation
import PostgresNIO
import VectorIndex

extension PostgresStore {
    /// pgvector's largest `hnsw.ef_search`.
    static let maxEfSearch = 1000

    /// See ``VectorStore/search(_:k:ef:metadata:)``: pgvector's HNSW index with this query's
    /// `hnsw.ef_search` (at least k) and `hnsw.iterative_scan = relaxed_order`, so that a filter
    /// that rejects most candidates makes the index scan go on until k rows pass (up to pgvector's
    /// `hnsw.max_scan_tuples`) instead of returning fewer. The rows are re-sorted by distance,
    /// since a relaxed scan may return them slightly out of order. (The same query as
    /// ``searchHits(_:k:ef:metadata:)``, whose text and metadata are dropped here.)
    ///
    /// Scores are those of the in-process index: cosine similarity (1 − pgvector's cosine
    /// distance), inner product (−`<#>`), squared Euclidean distance (`<->`²).
    public func search(_ vector: [Float], k: Int, ef: Int?, metadata: MetadataFilter?) async throws -> [(id: String, score: Float)] {
        try await searchHits(vector, k: k, ef: ef, metadata: metadata).map { ($0.id, $0.score) }
    }

    /// See ``VectorStore/searchHits(_:k:ef:metadata:)``: the search of
    /// ``search(_:k:ef:metadata:)`` returning each hit's text and metadata in the same query, in
    /// two round trips on one pooled connection — the connection's `hnsw.ef_search` and
    /// `hnsw.iterative_scan` set for its session (every search sets them again, so a value never
    /// leaks from one search into another), then the query. The transaction `search` opens
    /// (BEGIN, SET LOCAL, query, COMMIT) and a second read for the items cost three more round
    /// trips per request, which a service answering from the database pays on every search.
    public func searchHits(_ vector: [Float], k: Int, ef: Int?, metadata: MetadataFilter?) async throws -> [SearchHit] {
        guard k > 0 else { return [] }
        guard !vector.isEmpty, vector.allSatisfy(\.isFinite) else { throw StoreError.invalidVector(id: "query") }
        let efSearch = min(Self.maxEfSearch, max(ef ?? options.efSearch, min(k, Self.maxEfSearch)))
        // The plain query, built only where the prepared statement does not serve: with a filter,
        // or when the statement cannot be prepared on that connection (encoding the vector for it
        // on every search would do that work twice).
        let (op, type) = (PostgresMigrations.distance(metric, vectorType).op, vectorType.rawValue)
        let plainQuery: @Sendable () -> PostgresQuery = {
            var b = SQLBuilder()
            let q = b.bind(PostgresFloatArray(values: vector))
            let condition = metadata.map { PostgresFilterSQL.condition($0, into: &b) } ?? "true"
            b.sql = Self.searchSQL(op: op, type: type, vector: q, condition: condition, limit: b.bind(k))
            return b.query
        }
        let metric = self.metric, vectorType = self.vectorType
        let dimension = vector.count, location = self.location
        return try await read("searching", empty: []) { [client, logger, sessionEfSearch] in
            try await client.withConnection { conn in
                // A round trip saved on most searches: the session keeps the setting.
                if sessionEfSearch[conn.id] != efSearch {
                    _ = try await conn.query("""
                        SELECT set_config('hnsw.ef_search', \(String(efSearch)), false), set_config('hnsw.iterative_scan', 'relaxed_order', false)
                        """, logger: logger)
                    sessionEfSearch[conn.id] = efSearch
                }
                var rows: [PreparedSearchRow] = []
                do {
                    // Unfiltered searches (the common case) as a prepared statement: PostgreSQL
                    // parses and plans the query once per connection instead of on every search.
                    if metadata == nil, let prepared = try await PreparedSearches.run(metric, vectorType, vector: vector, k: k, on: conn, logger: logger) {
                        rows = prepared
                    } else {
                        for try await row in try await conn.query(plainQuery(), logger: logger).decode(PreparedSearchRow.self) { rows.append(row) }
                    }
                } catch where PostgresErrors.sqlState(error) == "22000" {
                    // pgvector's "different vector dimensions".
                    throw StoreError.database("\(location): the query vector has \(dimension) components; the store's vectors have another length")
                }
                return rows.map { (id, d, text, meta) in
                    let score: Double = switch metric {
                    case .cosine: 1 - d
                    case .dot: -d
                    case .l2: d * d
                    }
                    return SearchHit(id: id, score: Float(score), text: text, metadata: meta)
                }
            }
        }
    }
}

extension PostgresStore {
    /// The search query: the `limit` rows nearest to `vector` (placeholders or parameters) among
    /// those meeting `condition`, with their distance, text and metadata; re-sorted by distance
    /// outside the index scan, since a relaxed iterative scan may return rows slightly out of
    /// order. The query takes the column's `type`, so that `op` is the operator the index serves.
    /// Only fixed fragments and placeholders are interpolated.
    static func searchSQL(op: String, type: String, vector: String, condition: String, limit: String) -> String {
        """
        WITH r AS MATERIALIZED (
            SELECT id, text, metadata, vector \(op) \(vector)::real[]::\(type) AS d FROM siamese_items WHERE \(condition)
            ORDER BY vector \(op) \(vector)::real[]::\(type) LIMIT \(limit)
        ) SELECT id, d, text, metadata::text FROM r ORDER BY d, id
        """
    }
}

/// The `hnsw.ef_search` each pooled connection's session was last given, by connection id, so
/// that a search sets it only when it differs (most searches use one value: a round trip saved).
///
/// Sound because: the setting is made outside any transaction (so no rollback undoes it); the
/// only other writer, pair mining, uses `SET LOCAL` inside a transaction, which ends with the
/// session value back; nothing resets sessions; a pool never reuses a connection id.
/// `@unchecked Sendable`: every access holds `lock`.
final class SessionEfSearch: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [PostgresConnection.ID: Int] = [:]

    subscript(connection: PostgresConnection.ID) -> Int? {
        get { lock.withLock { values[connection] } }
        set {
            lock.withLock {
                // Ids of closed connections are never asked for again: bound the table.
                if values.count >= 1024 { values.removeAll() }
                values[connection] = newValue
            }
        }
    }
}
