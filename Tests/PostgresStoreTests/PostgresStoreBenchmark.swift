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
