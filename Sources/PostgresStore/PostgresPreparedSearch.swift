import EmbeddingStore
import PostgresNIO
import VectorIndex

/// A search's row: id, pgvector distance, text, metadata as JSON text.
typealias PreparedSearchRow = (String, Double, String?, String?)

/// The unfiltered search as a server-side prepared statement, one per distance operator and
/// column type (postgres-nio names a statement by its Swift type, and its SQL is static: the
/// operator and type come from the two marker parameters).
///
/// Why: an unprepared query is parsed, analysed and planned by PostgreSQL on every search — a
/// fixed cost beside pgvector's index scan that a raw client such as psycopg (which prepares a
/// query it has run five times) does not pay. postgres-nio prepares the statement on a
/// connection the first time it runs there and reuses it for the connection's life.
///
/// One trap, handled in ``PreparedSearches/run(_:_:vector:k:on:logger:)``: postgres-nio remembers a *failed*
/// preparation for the connection's life. A statement prepared before the items table exists
/// (an empty store: the table is made by the first upsert and dropped with the last item) would
/// fail on that connection forever, so such failures fall back to the unprepared query.
struct PreparedSearch<Operator: DistanceOperatorMarker, Column: VectorColumnMarker>: PostgresPreparedStatement {
    typealias Row = PreparedSearchRow

    /// The query of ``PostgresStore/searchHits(_:k:ef:metadata:)`` without a filter.
    static var sql: String {
        PostgresStore.searchSQL(op: Operator.op, type: Column.type, vector: "$1", condition: "true", limit: "$2")
    }

    static var bindingDataTypes: [PostgresDataType] { [.float4Array, .int8] }

    let vector: [Float]
    let k: Int

    func makeBindings() throws -> PostgresBindings {
        var b = PostgresBindings(capacity: 2)
        b.append(PostgresFloatArray(values: vector))
        b.append(k)
        return b
    }

    func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
}

/// Picks and runs the ``PreparedSearch`` of a store's metric and column type.
enum PreparedSearches {
    /// Runs the unfiltered search for `metric` and `type` as a prepared statement on `conn`;
    /// nil when the statement cannot be used on this connection (the caller then runs the
    /// unprepared query).
    static func run(_ metric: Metric, _ type: PostgresVectorType, vector: [Float], k: Int,
                    on conn: PostgresConnection, logger: Logger) async throws -> [PreparedSearchRow]? {
        switch (metric, type) {
        case (.cosine, .vector): try await rows(PreparedSearch<CosineDistance, VectorColumn>(vector: vector, k: k), conn, logger)
        case (.cosine, .halfvec): try await rows(PreparedSearch<CosineDistance, HalfvecColumn>(vector: vector, k: k), conn, logger)
        case (.dot, .vector): try await rows(PreparedSearch<InnerProductDistance, VectorColumn>(vector: vector, k: k), conn, logger)
        case (.dot, .halfvec): try await rows(PreparedSearch<InnerProductDistance, HalfvecColumn>(vector: vector, k: k), conn, logger)
        case (.l2, .vector): try await rows(PreparedSearch<EuclideanDistance, VectorColumn>(vector: vector, k: k), conn, logger)
        case (.l2, .halfvec): try await rows(PreparedSearch<EuclideanDistance, HalfvecColumn>(vector: vector, k: k), conn, logger)
        }
    }

    private static func rows<S: PostgresPreparedStatement>(_ statement: S, _ conn: PostgresConnection, _ logger: Logger) async throws
    -> [PreparedSearchRow]? where S.Row == PreparedSearchRow {
        var out: [PreparedSearchRow] = []
        do {
            for try await row in try await conn.execute(statement, logger: logger) { out.append(row) }
        } catch where PostgresErrors.isMissingTable(error) {
            // Prepared (and failed) while the table did not exist, or the table is gone now: the
            // unprepared query tells which, and gives the answer.
            return nil
        }
        return out
    }
}

/// A pgvector distance operator, as a type (see ``PreparedSearch``).
protocol DistanceOperatorMarker: Sendable { static var op: String { get } }
/// A column type, `vector` or `halfvec`, as a type (see ``PreparedSearch``).
protocol VectorColumnMarker: Sendable { static var type: String { get } }

enum CosineDistance: DistanceOperatorMarker { static var op: String { PostgresMigrations.distance(.cosine).op } }
enum InnerProductDistance: DistanceOperatorMarker { static var op: String { PostgresMigrations.distance(.dot).op } }
enum EuclideanDistance: DistanceOperatorMarker { static var op: String { PostgresMigrations.distance(.l2).op } }
enum VectorColumn: VectorColumnMarker { static var type: String { PostgresVectorType.vector.rawValue } }
enum HalfvecColumn: VectorColumnMarker { static var type: String { PostgresVectorType.halfvec.rawValue } }
