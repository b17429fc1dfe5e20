import EmbeddingStore
import Foundation
import PostgresNIO
@testable import PostgresStore
import Testing
import VectorIndex

/// The bulk (`COPY`) upsert, the `halfvec` column type, schema migration 2 and the ingest job
/// table, against the real server the test command starts.
@Suite("PostgreSQL bulk load and ingest queue", .enabled(if: !TestPostgres.disabled, "SIAMESE_NO_POSTGRES=1: no PostgreSQL server on purpose"))
struct PostgresBulkIngestTests {
    /// Items whose fields hold every byte COPY's text format gives a meaning (tab, newline,
    /// carriage return, backslash, `\N`), and floats at the edges of float32.
    static func awkwardItems() -> [StoredItem] {
        var g = SplitMix(state: 11)
        let ids = ["tab\there", "line\nbreak", "cr\rx", "back\\slash", "\\N", "", "a'b\"c;--", "Ω≈ç√∫", "plain"]
        return ids.enumerated().map { i, id in
            var v = g.vector(8)
            v[0] = [1e-40, -0.0, 3.4e38, -1.17549435e-38, 0.1, 1, 1e-7, 123456.789, 5][i]
            return StoredItem(id: id, text: i % 3 == 0 ? nil : "text \\N \t\n\\ \(i)", source: i == 2 ? "file:///a\\b" : nil,
                              metadata: i == 4 ? nil : "{\"k\": \"tab\\tq\\\"\\\\ \(i)\", \"n\": \(i), \"big\": 9007199254740993}", vector: v)
        }
    }

    @Test("bulkUpsert (COPY + staging table, or straight into the items table for new ids) stores the same rows as upsert, bit for bit; a second run changes nothing; mixing with upsert replaces by id",
          arguments: [false, true])
    func bulkMatchesUpsert(newIDs: Bool) async throws {
        let items = Self.awkwardItems()
        let viaUpsert = try await TestPostgres.withStore { store in
            try await store.upsert(items, fingerprint: "toy@1")
            return try await store.items(ids: items.map(\.id))
        }
        try await TestPostgres.withStore { store in
            try await store.bulkUpsert(items, fingerprint: "toy@1", newIDs: newIDs)
            // Again, with the hint wrong on purpose: every id is there already (the direct copy is undone).
            try await store.bulkUpsert(items, fingerprint: "toy@1", newIDs: newIDs)
            #expect(try await store.count() == items.count)
            let (f, d) = (try await store.fingerprint(), try await store.dimension())
            #expect(f == "toy@1" && d == 8)
            let back = try await store.items(ids: items.map(\.id))
            for (item, (bulk, single)) in zip(items, zip(back, viaUpsert)) {
                let bulk = try #require(bulk, "item \(item.id.debugDescription)"), single = try #require(single)
                #expect(bulk.id == item.id && bulk.text == item.text && bulk.source == item.source, "\(item.id.debugDescription): \(bulk)")
                #expect(bulk.vector.map(\.bitPattern) == item.vector.map(\.bitPattern), "\(item.id.debugDescription)")
                #expect(bulk.metadata == single.metadata, "\(item.id.debugDescription): \(bulk.metadata ?? "nil") vs \(single.metadata ?? "nil")")
            }
            // Upsert then bulk over the same id: replaced, not duplicated.
            try await store.upsert([StoredItem(id: "plain", text: "old", vector: [Float](repeating: 1, count: 8))], fingerprint: "toy@1")
            try await store.bulkUpsert([StoredItem(id: "plain", text: "new", vector: [Float](repeating: 2, count: 8))], fingerprint: "toy@1", newIDs: newIDs)
            let (replaced, count) = (try await store.items(ids: ["plain"]).first??.text, try await store.count())
            #expect(replaced == "new" && count == items.count)
            // The same refusals as upsert.
            await #expect(throws: StoreError.fingerprintMismatch(store: "toy@1", given: "other@1")) {
                try await store.bulkUpsert([StoredItem(id: "z", vector: [Float](repeating: 1, count: 8))], fingerprint: "other@1")
            }
            await #expect(throws: StoreError.dimensionMismatch(expected: 8, got: 3)) {
                try await store.bulkUpsert([StoredItem(id: "z", vector: [1, 2, 3])], fingerprint: "toy@1")
            }
            #expect(try await store.count() == items.count)
        }
    }

    @Test("rows straight from a matrix (PostgresCopyBatch(ids:vectors:)): the same rows as upsert, bit for bit, for vector and halfvec columns; duplicate ids, NUL in an id, a NaN and a ragged matrix are refused before anything is sent",
          arguments: [PostgresVectorType.vector, .halfvec])
    func matrixRowsMatchUpsert(type: PostgresVectorType) async throws {
        var g = SplitMix(state: 23)
        let ids = (0..<50).map { "m\($0)" } + ["tab\there", "Ω≈ç√∫", "a'b\"c;--"]
        var values = (0..<(ids.count * 6)).flatMap { _ in g.vector(1) }
        values[0] = 1e-40; values[1] = -0.0; values[2] = type == .halfvec ? 65519 : 3.4e38; values[3] = 1e-5  // subnormal, -0, the largest finite values, a half subnormal
        var options = PostgresStoreOptions()
        options.vectorType = type
        let items = ids.enumerated().map { r, id in StoredItem(id: id, vector: Array(values[(r * 6)..<((r + 1) * 6)])) }
        let viaUpsert = try await TestPostgres.withStore(options) { store in
            try await store.upsert(items, fingerprint: "toy@1")
            return try await store.items(ids: ids)
        }
        try await TestPostgres.withStore(options) { store in
            // Two batches, the second with the hint wrong on purpose (its first ids are there already).
            for (range, newIDs) in [(0..<30, true), (20..<ids.count, true)] {
                let batch = try values[(range.lowerBound * 6)..<(range.upperBound * 6)].withUnsafeBufferPointer {
                    try PostgresCopyBatch(ids: ids[range], vectors: $0, dimension: 6, fingerprint: "toy@1", type: store.vectorType)
                }
                #expect(batch.count == range.count && batch.dimension == 6)
                try await store.bulkUpsert(batch, newIDs: newIDs)
            }
            #expect(try await store.count() == ids.count)
            let back = try await store.items(ids: ids)
            for (id, (bulk, single)) in zip(ids, zip(back, viaUpsert)) {
                let bulk = try #require(bulk, "\(id)"), single = try #require(single)
                #expect(bulk.text == nil && bulk.source == nil && bulk.metadata == nil)
                #expect(bulk.vector.map(\.bitPattern) == single.vector.map(\.bitPattern), "\(id): \(bulk.vector) vs \(single.vector)")
            }
        }
        let bad: [(ids: [String], values: [Float], error: StoreError)] = [
            (["a", "b", "a"], [Float](repeating: 1, count: 18), .duplicateID("a")),
            (["a", "b\u{0}"], [Float](repeating: 1, count: 12), .nulCharacter(field: "id", id: "b\u{0}")),
            (["a", "b"], [1, 1, 1, 1, 1, 1, 1, .nan, 1, 1, 1, 1], .invalidVector(id: "b")),
            (["a", "b"], [Float](repeating: 1, count: 11), .invalidVector(id: "a")),
        ]
        for (ids, values, error) in bad {
            #expect(throws: error) {
                try values.withUnsafeBufferPointer { try PostgresCopyBatch(ids: ids[...], vectors: $0, dimension: 6, fingerprint: "toy@1", type: type) }
            }
        }
    }

    @Test("halfvec by option: the column is halfvec(d) with an HNSW index of halfvec ops; searches return the exact top-k of the rounded vectors; the type cannot change under a store")
    func halfvecStore() async throws {
        var options = PostgresStoreOptions(metric: .cosine)
        options.vectorType = .halfvec
        options.efSearch = 400
        let url = try await TestPostgres.freshDatabase()
        var patient = options
        patient.connectTimeout = .seconds(60)
        let store = try await PostgresStore.open(url, options: patient)
        var g = SplitMix(state: 3)
        let d = 16, n = 400, k = 10
        let vectors = (0..<n).map { _ in g.vector(d) }
        try await store.bulkUpsert(vectors.prefix(200).enumerated().map { StoredItem(id: "v\($0)", vector: $1) }, fingerprint: "toy@1")
        try await store.upsert(vectors.dropFirst(200).enumerated().map { StoredItem(id: "v\($0 + 200)", vector: $1) }, fingerprint: "toy@1")
        #expect(store.vectorType == .halfvec)
        let (type, index) = try await TestPostgres.withConnection(url) { conn in
            var type = "", index = ""
            for try await t in try await conn.query("SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'siamese_items'::regclass AND attname = 'vector'",
                                                    logger: TestPostgres.logger).decode(String.self) { type = t }
            for try await i in try await conn.query("SELECT indexdef FROM pg_indexes WHERE indexname = 'siamese_items_hnsw'", logger: TestPostgres.logger).decode(String.self) { index = i }
            return (type, index)
        }
        #expect(type == "halfvec(16)" && index.contains("hnsw") && index.contains("halfvec_cosine_ops"), "\(type) / \(index)")
        // What halfvec keeps: each component rounded to float16.
        let rounded = vectors.map { $0.map { Float(Float16($0)) } }
        #expect(try await store.items(ids: ["v7"]).first??.vector == rounded[7])
        var exact = ExactIndex(dimension: d, metric: .cosine)
        try exact.add(rounded.flatMap { $0 }, ids: (0..<n).map { UInt64($0) })
        for _ in 0..<10 {
            let q = g.vector(d)
            let expected = try exact.search(q.map { Float(Float16($0)) }, k: k).map { "v\($0.id)" }
            let got = try await store.search(q, k: k, ef: nil, metadata: nil).map(\.id)
            #expect(got == expected)
        }
        await store.close()
        // Reopened without a type it stays halfvec; asking for vector is refused, naming both.
        let again = try await PostgresStore.open(url, options: TestPostgres.patient)
        #expect(again.vectorType == .halfvec)
        await again.close()
        var wrong = TestPostgres.patient
        wrong.vectorType = .vector
        let error = await #expect(throws: StoreError.self) { _ = try await PostgresStore.open(url, options: wrong) }
        #expect("\(error!)".contains("halfvec") && "\(error!)".contains("new store"), "\(error!)")
        try await TestPostgres.drop(url)
    }

    @Test("a database at schema version 1 (before the ingest job table and the re-embedding stage) is migrated to 3 when opened")
    func migratesFromVersion1() async throws {
        let url = try await TestPostgres.freshDatabase()
        let store = try await PostgresStore.open(url, options: TestPostgres.patient)
        try await store.upsert([StoredItem(id: "a", vector: [1, 2, 3])], fingerprint: "toy@1")
        await store.close()
        // Back to what a version-1 build left.
        try await TestPostgres.withConnection(url) { conn in
            _ = try await conn.query("DROP TABLE siamese_ingest_chunks", logger: TestPostgres.logger)
            _ = try await conn.query("DROP TABLE siamese_reembed", logger: TestPostgres.logger)
            _ = try await conn.query("DELETE FROM siamese_schema_version WHERE version IN (2, 3)", logger: TestPostgres.logger)
            _ = try await conn.query("DELETE FROM siamese_meta WHERE key = 'vector_type'", logger: TestPostgres.logger)
        }
        let reopened = try await PostgresStore.open(url, options: TestPostgres.patient)
        #expect(reopened.vectorType == .vector)
        #expect(try await reopened.count() == 1)
        await reopened.close()
        let (versions, tables) = try await TestPostgres.withConnection(url) { conn in
            var versions: [Int32] = [], tables = 0
            for try await v in try await conn.query("SELECT version FROM siamese_schema_version ORDER BY version", logger: TestPostgres.logger).decode(Int32.self) { versions.append(v) }
            for try await n in try await conn.query("SELECT count(*) FROM pg_tables WHERE tablename IN ('siamese_ingest_chunks', 'siamese_reembed')", logger: TestPostgres.logger).decode(Int64.self) { tables = Int(n) }
            return (versions, tables)
        }
        #expect(versions == [1, 2, 3] && tables == 2, "\(versions) \(tables)")
        try await TestPostgres.drop(url)
    }

    @Test("ingest queue: chunks registered once; two workers leasing at once never get the same chunk; items and the done mark commit together")
    func leasesAreExclusive() async throws {
        try await TestPostgres.withStore { store in
            let lines = Array(1...95)
            let a = PostgresIngestQueue(store: store, inputSHA256: "sha-x", chunkSize: 5, worker: "A", leaseSeconds: 600)
            let b = PostgresIngestQueue(store: store, inputSHA256: "sha-x", chunkSize: 5, worker: "B", leaseSeconds: 600)
            #expect(try await a.register(lines: lines) == IngestProgress(chunks: 19, doneChunks: 0, doneItems: 0, leasedChunks: 0))
            #expect(try await b.register(lines: lines).chunks == 19)
            // Another chunk size is another registration.
            let other = PostgresIngestQueue(store: store, inputSHA256: "sha-x", chunkSize: 50, worker: "C", leaseSeconds: 600)
            #expect(try await other.register(lines: lines).chunks == 2)

            async let fromA = Self.drain(a)
            async let fromB = Self.drain(b)
            let (got, gotB) = try await (fromA, fromB)
            #expect(Set(got).isDisjoint(with: gotB) && Set(got + gotB) == Set(0..<19), "A \(got) B \(gotB)")
            let (none, leased) = (try await a.lease(), try await a.progress().leasedChunks)
            #expect(none == nil && leased == 19)

            // A failing write (another model's vectors) leaves neither items nor the mark.
            let chunk = IngestChunk(index: 0, firstItem: 0, itemCount: 5, firstLine: 1, lastLine: 5, attempts: 1, takenOverFrom: nil)
            let items = (0..<5).map { StoredItem(id: "i\($0)", vector: [Float($0), 1, 2]) }
            try await store.upsert([StoredItem(id: "other", vector: [1, 1, 1])], fingerprint: "other@1")
            await #expect(throws: StoreError.self) { try await a.complete(chunk, items: items, fingerprint: "toy@1") }
            let (noneDone, one) = (try await a.progress().doneChunks, try await store.count())
            #expect(noneDone == 0 && one == 1)
            _ = try await store.remove(["other"])
            #expect(try await a.complete(chunk, items: items, fingerprint: "toy@1"))
            let (p, five) = (try await a.progress(), try await store.count())
            #expect(p.doneChunks == 1 && p.doneItems == 5 && five == 5)
        }
    }

    /// Leases until none is free; returns the chunk numbers.
    static func drain(_ queue: PostgresIngestQueue) async throws -> [Int] {
        var got: [Int] = []
        while let chunk = try await queue.lease() { got.append(chunk.index) }
        return got
    }

    @Test("an expired lease goes back to the queue and is taken over (naming the worker that held it); the late worker's write duplicates nothing")
    func expiredLeaseTakenOver() async throws {
        try await TestPostgres.withStore { store in
            let dead = PostgresIngestQueue(store: store, inputSHA256: "sha-y", chunkSize: 10, worker: "dead-worker", leaseSeconds: 1)
            let next = PostgresIngestQueue(store: store, inputSHA256: "sha-y", chunkSize: 10, worker: "next-worker", leaseSeconds: 600)
            _ = try await dead.register(lines: Array(1...20))
            let held = try #require(try await dead.lease())
            #expect(held.index == 0 && held.attempts == 1 && held.takenOverFrom == nil)
            // Chunk 0 is held: the other worker gets chunk 1.
            #expect(try await next.lease()?.index == 1)
            // Once the 1 s lease has run out (by the server's clock), chunk 0 is the other's. A
            // renewing worker would have kept it; this one is "dead". Polled, with a deadline.
            let deadline = ContinuousClock.now + .seconds(120)
            var taken: IngestChunk?
            while taken == nil && ContinuousClock.now < deadline {
                taken = try await next.lease()
                if taken == nil { try await Task.sleep(for: .milliseconds(200)) }
            }
            let chunk = try #require(taken, "the expired lease was not taken over within 120 s")
            #expect(chunk.index == 0 && chunk.attempts == 2 && chunk.takenOverFrom == "dead-worker")
            #expect(try await dead.renew(held) == false, "the dead worker's lease is no longer its own")
            let items = (0..<10).map { StoredItem(id: "i\($0)", vector: [Float($0), 1, 2]) }
            #expect(try await next.complete(chunk, items: items, fingerprint: "toy@1"))
            // The slow worker finishes after all: same items again, no second mark, no duplicates.
            #expect(try await dead.complete(held, items: items, fingerprint: "toy@1") == false)
            let (ten, done) = (try await store.count(), try await next.progress().doneChunks)
            #expect(ten == 10 && done == 1)
        }
    }
}
