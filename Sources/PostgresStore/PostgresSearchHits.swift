import EmbeddingStore
import Foundation
import PostgresNIO
import VectorIndex

extension PostgresStore {
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
        let op = PostgresMigrations.distance(metric).op
        var b = SQLBuilder()
        let q = b.bind(vector)
        let condition = metadata.map { PostgresFilterSQL.condition($0, into: &b) } ?? "true"
        // Re-sorted by distance outside: a relaxed iterative scan may return rows slightly out of order.
        b.sql = """
            WITH r AS MATERIALIZED (
                SELECT id, text, metadata, vector \(op) \(q)::real[]::vector AS d FROM siamese_items WHERE \(condition)
                ORDER BY vector \(op) \(q)::real[]::vector LIMIT \(b.bind(k))
            ) SELECT id, d, text, metadata::text FROM r ORDER BY d, id
            """
        let query = b.query
        let metric = self.metric
        let dimension = vector.count, location = self.location
        return try await read("searching", empty: []) { [client, logger] in
            try await client.withConnection { conn in
                _ = try await conn.query("""
                    SELECT set_config('hnsw.ef_search', \(String(efSearch)), false), set_config('hnsw.iterative_scan', 'relaxed_order', false)
                    """, logger: logger)
                var hits: [SearchHit] = []
                do {
                    for try await (id, d, text, meta) in try await conn.query(query, logger: logger).decode((String, Double, String?, String?).self) {
                        let score: Double = switch metric {
                        case .cosine: 1 - d
                        case .dot: -d
                        case .l2: d * d
                        }
                        hits.append(SearchHit(id: id, score: Float(score), text: text, metadata: meta))
                    }
                } catch where PostgresErrors.sqlState(error) == "22000" {
                    // pgvector's "different vector dimensions".
                    throw StoreError.database("\(location): the query vector has \(dimension) components; the store's vectors have another length")
                }
                return hits
            }
        }
    }
}
