import EmbeddingStore
import Foundation
import PostgresNIO
@testable import PostgresStore
import Testing
import VectorIndex

/// `store reembed` on PostgreSQL: new vectors staged beside the old ones, then one switch.
@Suite("PostgreSQL re-embedding", .enabled(if: !TestPostgres.disabled, "SIAMESE_NO_POSTGRES=1: no PostgreSQL server on purpose"))
struct PostgresReembedTests {
    /// The "new model": three reproducible components from the text's FNV-1a hash.
    static func embed(_ text: String) -> [Float] {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in text.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        var g = SplitMix(state: h)
        return g.vector(3)
    }

    @Test("reembed: staged while the old vectors serve; items changed meanwhile are embedded again; an interrupted run resumes; then one switch to the new fingerprint, dimension, metric and HNSW index")
    func reembedSwitches() async throws {
        try await TestPostgres.withStore(PostgresStoreOptions(metric: .cosine)) { store in
            var g = SplitMix(state: 5)
            let n = 50
            let old = (0..<n).map { StoredItem(id: String(format: "t%02d", $0), text: "text number \($0)", metadata: "{\"n\": \($0)}", vector: g.vector(8)) }
            try await store.upsert(old, fingerprint: "old@1")

            // 1. A run that fails in its third batch: nothing switched, the old vectors still serve.
            struct Stop: Error {}
            var calls = 0
            await #expect(throws: Stop.self) {
                try await store.reembed(to: "new@1", metric: .l2, batchSize: 10) { texts in
                    calls += 1
                    if calls == 3 { throw Stop() }
                    return texts.map(Self.embed)
                }
            }
            let (f1, d1, hits) = (try await store.fingerprint(), try await store.dimension(), try await store.search(g.vector(8), k: 5, ef: nil, metadata: nil))
            #expect(f1 == "old@1" && d1 == 8 && hits.count == 5)
            #expect(try await Self.scalar(store.url, "SELECT count(*) FROM siamese_reembed") == 20)

            // 2. The old model's writers go on: t05 (already staged) changes, t99 is new.
            try await store.upsert([StoredItem(id: "t05", text: "changed", vector: g.vector(8)),
                                    StoredItem(id: "t99", text: "late", vector: g.vector(8))], fingerprint: "old@1")

            // 3. The rerun embeds only what is not staged or changed, and t00 changed during it.
            var embedded: [String] = []
            let count = try await store.reembed(to: "new@1", metric: .l2, batchSize: 10) { texts in
                if embedded.isEmpty {
                    try await store.upsert([StoredItem(id: "t00", text: "moved on", vector: [Float](repeating: 0.5, count: 8))], fingerprint: "old@1")
                    // Until the switch, the store is the old model's.
                    #expect(try await store.fingerprint() == "old@1")
                }
                embedded += texts
                return texts.map(Self.embed)
            }
            #expect(count == 33 && embedded.count == 33, "30 never staged + t05 + t99 + t00: \(embedded)")
            #expect(Set(["changed", "late", "moved on"]).isSubset(of: embedded) && !embedded.contains("text number 1"))

            // 4. Switched: new fingerprint, dimension and metric; every vector is the new model's.
            let reopened = try await PostgresStore.open(store.url, options: TestPostgres.patient)
            let (f2, d2) = (try await reopened.fingerprint(), try await reopened.dimension())
            #expect(f2 == "new@1" && d2 == 3 && reopened.metric == .l2)
            let ids = old.map(\.id) + ["t99"]
            let items = try await reopened.items(ids: ids)
            let total = try await reopened.count()
            #expect(items.count == n + 1 && total == n + 1)
            for item in items {
                let item = try #require(item)
                #expect(item.vector == Self.embed(item.text ?? ""), "\(item.id)")
                if item.id == "t10" { #expect(item.metadata == "{\"n\": 10}") }
            }
            #expect(items.first??.text == "moved on")
            let (staged, index) = (try await Self.scalar(store.url, "SELECT count(*) FROM siamese_reembed"),
                                   try await Self.text(store.url, "SELECT indexdef FROM pg_indexes WHERE indexname = 'siamese_items_hnsw'"))
            #expect(staged == 0 && index.contains("vector_l2_ops") && index.contains("siamese_items "), "\(staged) \(index)")
            #expect(try await reopened.meta()["reembed_target"] == nil)

            // Searches rank by the new vectors.
            var exact = ExactIndex(dimension: 3, metric: .l2)
            try exact.add(items.flatMap { $0!.vector }, ids: (0..<items.count).map { UInt64($0) })
            for _ in 0..<5 {
                let q = g.vector(3)
                let expected = try exact.search(q, k: 5).map { items[Int($0.id)]!.id }
                #expect(try await reopened.search(q, k: 5, ef: nil, metadata: nil).map(\.id) == expected)
            }
            // The old model is refused now, the new one writes; a second run has nothing to do.
            await #expect(throws: StoreError.fingerprintMismatch(store: "new@1", given: "old@1")) {
                try await reopened.upsert([StoredItem(id: "x", text: "x", vector: g.vector(8))], fingerprint: "old@1")
            }
            try await reopened.upsert([StoredItem(id: "x", text: "x", vector: Self.embed("x"))], fingerprint: "new@1")
            #expect(try await reopened.reembed(to: "new@1", batchSize: 10) { _ in Issue.record("nothing to embed"); return [] } == 0)
            await reopened.close()
        }
    }

    @Test("reembed refuses a store with an item without text before any work, naming the item")
    func missingText() async throws {
        try await TestPostgres.withStore { store in
            try await store.upsert([StoredItem(id: "a", text: "a", vector: [1, 2]), StoredItem(id: "vector-only", vector: [2, 1])], fingerprint: "old@1")
            await #expect(throws: StoreError.missingText(id: "vector-only")) {
                try await store.reembed(to: "new@1") { texts in
                    Issue.record("embedded \(texts)")
                    return texts.map(Self.embed)
                }
            }
            #expect(try await store.fingerprint() == "old@1")
        }
    }

    static func scalar(_ url: PostgresURL, _ sql: String) async throws -> Int {
        try await TestPostgres.withConnection(url) { conn in
            var out = -1
            for try await n in try await conn.query(PostgresQuery(unsafeSQL: sql), logger: TestPostgres.logger).decode(Int64.self) { out = Int(n) }
            return out
        }
    }

    static func text(_ url: PostgresURL, _ sql: String) async throws -> String {
        try await TestPostgres.withConnection(url) { conn in
            var out = ""
            for try await s in try await conn.query(PostgresQuery(unsafeSQL: sql), logger: TestPostgres.logger).decode(String.self) { out = s }
            return out
        }
    }
}
