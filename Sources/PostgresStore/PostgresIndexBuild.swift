import EmbeddingStore
import Foundation
import PostgresNIO

/// Loading first and indexing after: pgvector keeps its HNSW graph up to date row by row, which
/// holds a bulk load to a few hundred rows a second (measured: 316–364 rows/s for 384-d rows on 2
/// cores, with `COPY` or without), while `CREATE INDEX` over the loaded rows builds the same graph
/// in bulk, on parallel workers. `store import` into an empty store drops the index after its
/// first batch and builds it once at the end.
extension PostgresStore {
    /// The name of the items table's HNSW index.
    static let searchIndexName = "siamese_items_hnsw"

    /// Drops the items table's HNSW index (nothing when there is none). Searches still answer,
    /// exactly and slowly, until ``buildSearchIndex(workers:memoryMegabytes:)`` runs.
    public func dropSearchIndex() async throws {
        try await run("dropping the search index") { [client, logger] in
            _ = try await client.query(PostgresQuery(unsafeSQL: "DROP INDEX IF EXISTS \(Self.searchIndexName)"), logger: logger)
        }
    }

    /// Whether the items table has its HNSW index (false for an empty store, or one whose load
    /// stopped between ``dropSearchIndex()`` and ``buildSearchIndex(workers:memoryMegabytes:)``).
    public func hasSearchIndex() async throws -> Bool {
        try await run("reading the search index") { [client, logger] in
            var b = SQLBuilder()
            b.sql = "SELECT count(*) FROM pg_indexes WHERE tablename = 'siamese_items' AND indexname = \(b.bind(Self.searchIndexName))"
            for try await n in try await client.query(b.query, logger: logger).decode(Int.self) { return n > 0 }
            return false
        }
    }

    /// Builds the items table's HNSW index when it is missing, with the store's metric, vector type,
    /// `m` and `ef_construction`, in one transaction whose `maintenance_work_mem` and
    /// `max_parallel_maintenance_workers` are raised for the build only. Nothing for an empty store
    /// or vectors wider than pgvector indexes. No time limit but a day: a build over millions of
    /// rows takes minutes.
    /// - Parameters:
    ///   - workers: parallel maintenance workers (default: the cores of this machine, at most 8).
    ///   - memoryMegabytes: `maintenance_work_mem` for the build (nil: sized by
    ///     ``indexBuildMemoryMegabytes(rows:dimension:)`` from the store's rows).
    public func buildSearchIndex(workers: Int? = nil, memoryMegabytes: Int? = nil) async throws {
        guard let dimension = try await dimension(), dimension <= vectorType.maxIndexedDimension else { return }
        let opclass = PostgresMigrations.distance(metric, vectorType).opclass
        let (m, efc) = (options.hnswM, options.hnswEfConstruction)
        let parallel = max(0, min(8, (workers ?? ProcessInfo.processInfo.activeProcessorCount) - 1))
        let memory: Int
        if let memoryMegabytes { memory = max(64, memoryMegabytes) } else {
            memory = indexBuildMemoryMegabytes(rows: try await count(), dimension: dimension)
        }
        try await run("building the search index", timeout: .seconds(86_400)) { [client, logger] in
            try await client.withTransaction(logger: logger) { conn in
                // Integers only are interpolated; the names are fixed.
                _ = try await conn.query(PostgresQuery(unsafeSQL: "SET LOCAL maintenance_work_mem = '\(memory)MB'"), logger: logger)
                _ = try await conn.query(PostgresQuery(unsafeSQL: "SET LOCAL max_parallel_maintenance_workers = \(parallel)"), logger: logger)
                _ = try await conn.query(PostgresQuery(unsafeSQL: """
                    CREATE INDEX IF NOT EXISTS \(Self.searchIndexName) ON siamese_items USING hnsw (vector \(opclass)) WITH (m = \(m), ef_construction = \(efc))
                    """), logger: logger)
            }
        }
    }

    /// `maintenance_work_mem` that holds pgvector's whole graph of `rows` vectors while it builds:
    /// a graph that outgrows it is finished on disk, many times slower (1,000,000 × 384 needs about
    /// 2.3 GB; the old fixed 1 GB sent that build to disk). Per row: the vector, the layer-0
    /// neighbour list (2·m candidates of 16 bytes) and the element itself, plus a quarter for the
    /// upper layers and the allocator. Between 64 MB and 8 GB: the server, not this process,
    /// spends it, once, during the build.
    public func indexBuildMemoryMegabytes(rows: Int, dimension: Int) -> Int {
        let width = vectorType == .halfvec ? 2 : 4
        let perRow = dimension * width + 8 + 2 * options.hnswM * 16 + 160
        let bytes = Double(rows) * Double(perRow) * 1.25
        return min(8192, max(64, Int((bytes / 1_048_576).rounded(.up))))
    }
}
