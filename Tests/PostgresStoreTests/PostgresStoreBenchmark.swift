import EmbeddingStore
import Foundation
import PostgresStore
import Testing
import VectorIndex

/// Import rate and search latency, PostgreSQL vs SQLite (+ in-process HNSW), on the same random
/// vectors. Runs only when asked (it is a measurement, not a check):
///
///     SIAMESE_BENCH_POSTGRES=10000 SIAMESE_TEST_POSTGRES_URL=$(scripts/postgres.sh start) \
///       swift test -c release --filter PostgresStoreBenchmark
@Suite("PostgreSQL store benchmark") struct PostgresStoreBenchmark {
    static let size = ProcessInfo.processInfo.environment["SIAMESE_BENCH_POSTGRES"].flatMap { Int($0) }

    @Test("10k × 384: import items/s and search p50, PostgreSQL vs SQLite", .enabled(if: size != nil, "set SIAMESE_BENCH_POSTGRES=N to measure"))
    func measure() async throws {
        let n = Self.size!, d = 384, batch = 256, queries = 200, k = 10
        var g = SplitMix(state: 42)
        let items = (0..<n).map { StoredItem(id: "item-\($0)", text: "text \($0)", metadata: "{\"group\": \($0 % 10)}", vector: g.vector(d)) }
        let qs = (0..<queries).map { _ in g.vector(d) }
        var exact = ExactIndex(dimension: d, metric: .cosine)
        try exact.add(items.flatMap(\.vector), ids: (0..<n).map { UInt64($0) })
        let truth = try qs.map { try Set(exact.search($0, k: k).map { "item-\($0.id)" }) }

        func run(_ name: String, _ store: any VectorStore) async throws -> String {
            let t0 = ContinuousClock.now
            for start in stride(from: 0, to: n, by: batch) {
                try await store.upsert(Array(items[start..<min(n, start + batch)]), fingerprint: "bench@1")
            }
            let importSeconds = (ContinuousClock.now - t0) / .seconds(1)
            var latencies: [Double] = [], hits = 0
            for (q, t) in zip(qs, truth) {
                let s = ContinuousClock.now
                let found = try await store.search(q, k: k, ef: 40, metadata: nil)
                latencies.append((ContinuousClock.now - s) / .milliseconds(1))
                hits += found.filter { t.contains($0.id) }.count
            }
            latencies.sort()
            return String(format: "%@: import %.0f items/s (%.1f s), search p50 %.2f ms, p90 %.2f ms, recall@10 %.3f (ef_search 40)",
                          name, Double(n) / importSeconds, importSeconds, latencies[latencies.count / 2], latencies[latencies.count * 9 / 10],
                          Double(hits) / Double(queries * k))
        }

        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pg-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let sqlite = SQLiteVectorStore(try EmbeddingStore(path: dir.appendingPathComponent("b.sqlite").path).openIndex(metric: .cosine, dimension: d))
        let a = try await run("SQLite + in-process HNSW", sqlite)
        let b = try await TestPostgres.withStore(PostgresStoreOptions(metric: .cosine)) { try await run("PostgreSQL + pgvector HNSW", $0) }
        print("benchmark (\(n) × \(d), batches of \(batch), \(queries) queries, k \(k)):\n  \(a)\n  \(b)")
    }
}

/// Write rate of the one-statement upsert against the `COPY` bulk path, on the same random
/// 384-d vectors, and what the HNSW index costs (a load without it, then `CREATE INDEX`). Runs
/// only when asked:
///
///     SIAMESE_BENCH_POSTGRES_BULK=20000 SIAMESE_TEST_POSTGRES_URL=$(scripts/postgres.sh start) \
///       swift test -c release --filter PostgresBulkBenchmark
///
/// Measured 2026-12-07, 10,000 × 384, 2 shared cores (load 5): with the HNSW index kept up to
/// date both paths are bound by the index (upsert 316 rows/s, COPY 332 in batches of 256, 364 in
/// batches of 2,000); without it 11,629 (upsert) and 8,390 (COPY) rows/s, and CREATE INDEX after
/// the load takes 5–7 s: loading first and indexing after is the large gain, not COPY itself.
@Suite("PostgreSQL bulk load benchmark") struct PostgresBulkBenchmark {
    static let size = ProcessInfo.processInfo.environment["SIAMESE_BENCH_POSTGRES_BULK"].flatMap { Int($0) }

    @Test("N × 384: rows/s of upsert vs bulkUpsert (COPY), with the HNSW index and without it (then CREATE INDEX)",
          .enabled(if: size != nil, "set SIAMESE_BENCH_POSTGRES_BULK=N to measure"))
    func measure() async throws {
        let n = Self.size!, d = 384
        var g = SplitMix(state: 42)
        let items = (0..<n).map { StoredItem(id: "item-\($0)", text: "text \($0)", metadata: "{\"group\": \($0 % 10)}", vector: g.vector(d)) }
        var lines: [String] = []
        /// Loads every item in batches of `batch` and returns rows/s; `dropIndex` loads into the
        /// table without its HNSW index and builds it at the end (its time reported apart).
        func load(_ name: String, batch: Int, bulk: Bool, dropIndex: Bool = false) async throws {
            let url = try await TestPostgres.freshDatabase()
            let store = try await PostgresStore.open(url, options: TestPostgres.patient)
            try await store.upsert([items[0]], fingerprint: "bench@1")
            if dropIndex {
                try await TestPostgres.withConnection(url) { _ = try await $0.query("DROP INDEX siamese_items_hnsw", logger: TestPostgres.logger) }
            }
            let t0 = ContinuousClock.now
            for start in stride(from: 0, to: n, by: batch) {
                let part = Array(items[start..<min(n, start + batch)])
                if bulk { try await store.bulkUpsert(part, fingerprint: "bench@1") } else { try await store.upsert(part, fingerprint: "bench@1") }
            }
            let seconds = (ContinuousClock.now - t0) / .seconds(1)
            var line = String(format: "%@, batches of %d: %.0f rows/s (%.1f s)", name, batch, Double(n) / seconds, seconds)
            if dropIndex {
                let t1 = ContinuousClock.now
                try await TestPostgres.withConnection(url) {
                    _ = try await $0.query("SET maintenance_work_mem = '512MB'", logger: TestPostgres.logger)
                    _ = try await $0.query("CREATE INDEX siamese_items_hnsw ON siamese_items USING hnsw (vector vector_cosine_ops) WITH (m = 16, ef_construction = 64)", logger: TestPostgres.logger)
                }
                let build = (ContinuousClock.now - t1) / .seconds(1)
                line += String(format: "; then CREATE INDEX (HNSW m 16, ef_construction 64): %.1f s; load + index %.0f rows/s", build, Double(n) / (seconds + build))
            }
            #expect(try await store.count() == n)
            await store.close()
            try await TestPostgres.drop(url)
            lines.append(line)
        }
        try await load("upsert (one INSERT … jsonb_to_recordset, real[])", batch: 256, bulk: false)
        try await load("bulkUpsert (COPY + staging + INSERT … ON CONFLICT)", batch: 256, bulk: true)
        try await load("bulkUpsert (COPY + staging + INSERT … ON CONFLICT)", batch: 2000, bulk: true)
        try await load("upsert, no index during the load", batch: 2000, bulk: false, dropIndex: true)
        try await load("bulkUpsert, no index during the load", batch: 2000, bulk: true, dropIndex: true)
        print("bulk benchmark (\(n) × \(d), cosine, PostgreSQL 18 + pgvector):\n  " + lines.joined(separator: "\n  "))
    }
}
