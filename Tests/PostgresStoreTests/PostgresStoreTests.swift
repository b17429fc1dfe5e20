import EmbeddingStore
import Foundation
import PostgresNIO
@testable import PostgresStore
import Testing
import VectorIndex

/// The PostgreSQL store against the real server the test command starts.
@Suite("PostgreSQL store", .enabled(if: !TestPostgres.disabled, "SIAMESE_NO_POSTGRES=1: no PostgreSQL server on purpose"))
struct PostgresStoreTests {
    /// JSON text as a comparable object (jsonb rewrites spacing and key order).
    func object(_ json: String?) -> NSDictionary? {
        json.flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? NSDictionary }
    }

    @Test("items round-trip: string ids of any characters, text, source, metadata, vectors bit for bit; export pages see each once")
    func roundTrip() async throws {
        try await TestPostgres.withStore { store in
            var g = SplitMix(state: 1)
            let ids = ["python3-ipalib", "é/ü ?%", "", "a'b\"c;--", "line\nbreak", "3", "Ω≈ç√∫"]
            let items = ids.enumerated().map { i, id in
                StoredItem(id: id, text: i % 2 == 0 ? "text \(i) 'quoted'" : nil, source: i == 1 ? "file:///x?y" : nil,
                           metadata: i == 3 ? nil : "{\"n\": \(i), \"lang\": \"é\", \"big\": 9007199254740993, \"nested\": {\"a\": [1, null]}}",
                           vector: g.vector(8))
            }
            let (f0, d0, c0) = (try await store.fingerprint(), try await store.dimension(), try await store.count())
            #expect(f0 == nil && d0 == nil && c0 == 0)
            try await store.upsert(items, fingerprint: "toy@1")
            let (f1, d1, c1) = (try await store.fingerprint(), try await store.dimension(), try await store.count())
            #expect(f1 == "toy@1" && d1 == 8 && c1 == ids.count)
            let back = try await store.items(ids: ids.reversed() + ["missing", "nul\u{0}id"])
            #expect(back.count == ids.count + 2 && back.suffix(2).allSatisfy { $0 == nil })
            for (item, got) in zip(items.reversed(), back) {
                let got = try #require(got, "item \(item.id)")
                #expect(got.id == item.id && got.text == item.text && got.source == item.source && got.vector == item.vector)
                #expect(object(got.metadata) == object(item.metadata), "metadata of \(item.id): \(got.metadata ?? "nil")")
            }
            // Integers beyond 2^53 stay exact.
            #expect(back.first??.metadata?.contains("9007199254740993") == true)

            var seen: [String] = [], cursor: String?
            repeat {
                let page = try await store.page(after: cursor, limit: 3)
                seen += page.items.map(\.id)
                cursor = page.next
            } while cursor != nil
            #expect(seen.sorted() == ids.sorted() && Set(seen).count == ids.count)

            // Upsert replaces by id; remove counts what went; unknown ids are ignored.
            try await store.upsert([StoredItem(id: "3", text: "changed", vector: [Float](repeating: 0.5, count: 8))], fingerprint: "toy@1")
            #expect(try await store.items(ids: ["3"]).first??.text == "changed")
            #expect(try await store.remove(["3", "", "nope"]) == 2)
            #expect(try await store.count() == ids.count - 2)
        }
    }

    @Test("search equals exact top-k for each metric (recall 1.0 at a high ef_search), scores as the in-process index reports them",
          arguments: Metric.allCases)
    func searchMatchesBruteForce(metric: Metric) async throws {
        var options = PostgresStoreOptions(metric: metric)
        options.efSearch = 400
        try await TestPostgres.withStore(options) { store in
            var g = SplitMix(state: 7)
            let d = 16, n = 400, k = 10
            let vectors = (0..<n).map { _ in g.vector(d) }
            try await store.upsert(vectors.enumerated().map { StoredItem(id: "v\($0)", vector: $1) }, fingerprint: "toy@1")
            #expect(store.metric == metric)
            var exact = ExactIndex(dimension: d, metric: metric)
            try exact.add(vectors.flatMap { $0 }, ids: (0..<n).map { UInt64($0) })
            for _ in 0..<10 {
                let q = g.vector(d)
                let expected = try exact.search(q, k: k).map { ("v\($0.id)", $0.score) }
                let got = try await store.search(q, k: k, ef: nil, metadata: nil)
                #expect(got.map(\.id) == expected.map(\.0), "\(metric)")
                for (a, b) in zip(got, expected) { #expect(abs(a.score - b.1) < 1e-3 * max(1, abs(b.1)), "\(metric): \(a.score) vs \(b.1)") }
            }
        }
    }

    @Test("a filter that few rows meet still gets k results from the HNSW index (iterative scan), all of them meeting it")
    func filteredSearchReturnsK() async throws {
        try await TestPostgres.withStore(PostgresStoreOptions(metric: .cosine)) { store in
            var g = SplitMix(state: 3)
            let d = 16, n = 3000
            var items: [StoredItem] = []
            for i in 0..<n {
                items.append(StoredItem(id: "i\(i)", metadata: "{\"group\": \"\(i % 100 == 0 ? "rare" : "common")\", \"n\": \(i)}", vector: g.vector(d)))
            }
            for start in stride(from: 0, to: n, by: 500) { try await store.upsert(Array(items[start..<start + 500]), fingerprint: "toy@1") }
            let filter = try MetadataFilter([("group", .equal(.string("rare")))])
            // A small ef_search: without the iterative scan pgvector would return the few rare
            // rows among the 20 candidates it looked at.
            let query = g.vector(d)
            let hits = try await store.search(query, k: 10, ef: 20, metadata: filter)
            #expect(hits.count == 10)
            #expect(hits.allSatisfy { Int($0.id.dropFirst())! % 100 == 0 }, "\(hits.map(\.id))")
            // The one-query search with text and metadata: the same hits as the search, the same
            // items as a read by id — also after other ef_search values were set on the pool's
            // connections (session settings are set again by every search).
            for ef in [20, 400, 20] {
                let withItems = try await store.searchHits(query, k: 10, ef: ef, metadata: filter)
                let plain = try await store.search(query, k: 10, ef: ef, metadata: filter)
                #expect(withItems.map(\.id) == plain.map(\.id) && withItems.map(\.score) == plain.map(\.score), "ef \(ef)")
                let read = try await store.items(ids: plain.map(\.id))
                #expect(withItems.map(\.metadata) == read.map { $0?.metadata } && withItems.map(\.text) == read.map { $0?.text })
            }
            // Fewer matches than k: all of them.
            let few = try await store.search(g.vector(d), k: 50, ef: 20, metadata: filter)
            #expect(few.count == 30)
        }
    }

    @Test("vectors of another model fingerprint or dimension are refused; an emptied store takes any model again")
    func fingerprintMixingRefused() async throws {
        try await TestPostgres.withStore { store in
            try await store.upsert([StoredItem(id: "a", vector: [1, 2, 3])], fingerprint: "model-A")
            await #expect(throws: StoreError.fingerprintMismatch(store: "model-A", given: "model-B")) {
                try await store.upsert([StoredItem(id: "b", vector: [1, 2, 3])], fingerprint: "model-B")
            }
            await #expect(throws: StoreError.dimensionMismatch(expected: 3, got: 2)) {
                try await store.upsert([StoredItem(id: "b", vector: [1, 2])], fingerprint: "model-A")
            }
            await #expect(throws: StoreError.duplicateID("x")) {
                try await store.upsert([StoredItem(id: "x", vector: [1, 2, 3]), StoredItem(id: "x", vector: [1, 2, 3])], fingerprint: "model-A")
            }
            await #expect(throws: StoreError.invalidVector(id: "n")) {
                try await store.upsert([StoredItem(id: "n", vector: [1, .nan, 3])], fingerprint: "model-A")
            }
            await #expect(throws: StoreError.nulCharacter(field: "metadata", id: "m")) {
                try await store.upsert([StoredItem(id: "m", metadata: "{\"k\": \"a\\u0000b\"}", vector: [1, 2, 3])], fingerprint: "model-A")
            }
            let (c, f) = (try await store.count(), try await store.fingerprint())
            #expect(c == 1 && f == "model-A")
            #expect(try await store.remove(["a"]) == 1)
            let (f2, d2) = (try await store.fingerprint(), try await store.dimension())
            #expect(f2 == nil && d2 == nil)
            try await store.upsert([StoredItem(id: "b", vector: [1, 2])], fingerprint: "model-B")
            let (f3, d3) = (try await store.fingerprint(), try await store.dimension())
            #expect(f3 == "model-B" && d3 == 2)
        }
    }

    @Test("one connection: a search before the items table exists, then after it is made, dropped (last item removed) and made again — the prepared search never keeps an empty answer",
          arguments: [PostgresVectorType.vector, .halfvec])
    func preparedSearchFollowsTheTable(type: PostgresVectorType) async throws {
        var options = PostgresStoreOptions(metric: .l2)
        options.vectorType = type
        options.maxConnections = 1  // every search below runs on the same connection
        try await TestPostgres.withStore(options) { store in
            #expect(try await store.searchHits([1, 0], k: 3, ef: nil, metadata: nil).isEmpty)
            try await store.upsert([StoredItem(id: "a", vector: [1, 0]), StoredItem(id: "b", vector: [0, 2])], fingerprint: "toy@1")
            for _ in 0..<3 {  // more than once: the statement is prepared, then reused
                let hits = try await store.searchHits([1, 0.5], k: 3, ef: nil, metadata: nil)
                #expect(hits.map(\.id) == ["a", "b"])
                #expect(zip(hits.map(\.score), [Float(0.25), 3.25]).allSatisfy { abs($0 - $1) < 1e-5 }, "\(hits.map(\.score))")
            }
            #expect(try await store.remove(["a", "b"]) == 2)
            #expect(try await store.searchHits([1, 0], k: 3, ef: nil, metadata: nil).isEmpty)
            try await store.upsert([StoredItem(id: "c", vector: [3, 0])], fingerprint: "toy@2")
            #expect(try await store.searchHits([1, 0], k: 3, ef: nil, metadata: nil).map(\.id) == ["c"])
        }
    }

    @Test("a database whose schema is newer than this build is refused with a clear error; reopening the current one is fine")
    func newerSchemaRefused() async throws {
        let url = try await TestPostgres.freshDatabase()
        let store = try await PostgresStore.open(url, options: TestPostgres.patient)
        await store.close()
        let again = try await PostgresStore.open(url, options: TestPostgres.patient)
        await again.close()
        try await TestPostgres.withConnection(url) { conn in
            _ = try await conn.query("INSERT INTO siamese_schema_version (version) VALUES (99)", logger: TestPostgres.logger)
        }
        let error = await #expect(throws: StoreError.self) { _ = try await PostgresStore.open(url, options: TestPostgres.patient) }
        #expect("\(error!)".contains("schema is version 99, newer than this siamese knows (\(PostgresStore.schemaVersion))"), "\(error!)")
        try await TestPostgres.drop(url)
    }

    @Test("a database without pgvector: the error says to run CREATE EXTENSION vector")
    func missingExtension() async throws {
        let url = try await TestPostgres.freshDatabase(withVector: false)
        let error = await #expect(throws: StoreError.self) { _ = try await PostgresStore.open(url, options: TestPostgres.patient) }
        #expect("\(error!)".contains("CREATE EXTENSION vector"), "\(error!)")
        try await TestPostgres.drop(url)
    }

    @Test("an unreachable server, an unknown database or user: a clear error naming host and port, in bounded time, no password shown")
    func connectionErrors() async throws {
        var url = try TestPostgres.url()
        // A port nothing listens on: bound, then closed.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        let freePort = Int(UInt16(bigEndian: addr.sin_port))
        close(fd)

        var options = PostgresStoreOptions()
        options.connectTimeout = .seconds(3)
        var unreachable = url
        unreachable.port = freePort
        unreachable.password = "s3cr3t-pw"
        let started = ContinuousClock.now
        let e1 = await #expect(throws: StoreError.self) { _ = try await PostgresStore.open(unreachable, options: options) }
        // Bounded, not fast: the connect timeout is 3 s, but on a 2-core machine running every
        // suite at once this task may wait tens of seconds for a thread (46 s was seen); the bound
        // only rules out hanging on the unreachable port.
        #expect(ContinuousClock.now - started < .seconds(180), "bounded time")
        let m1 = "\(e1!)"
        #expect(m1.contains("127.0.0.1") && m1.contains("port \(freePort)") && !m1.contains("s3cr3t-pw"), "\(m1)")

        url.database = "no_such_database"
        let e2 = await #expect(throws: StoreError.self) { _ = try await PostgresStore.open(url, options: TestPostgres.patient) }
        #expect("\(e2!)".contains("no_such_database") && "\(e2!)".contains("does not exist"), "\(e2!)")

        var user = try TestPostgres.url()
        user.user = "nobody_here"
        let e3 = await #expect(throws: StoreError.self) { _ = try await PostgresStore.open(user, options: TestPostgres.patient) }
        #expect("\(e3!)".contains("nobody_here"), "\(e3!)")
    }

    @Test("metadata filters select the same items as in the SQLite store (exact search over all items)")
    func filtersMatchSQLite() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pg-parity-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let sqlite = try EmbeddingStore(path: dir.appendingPathComponent("s.sqlite").path)
        let local = SQLiteVectorStore(try sqlite.openIndex(metric: .cosine, dimension: 4))
        var g = SplitMix(state: 5)
        let metadatas = [
            "{\"year\": 2021, \"lang\": \"en\", \"ok\": true}", "{\"year\": \"2021\", \"lang\": \"de\"}", "{\"year\": 2019.5, \"ok\": false}",
            "{\"year\": 9007199254740993, \"lang\": null}", "{\"lang\": \"en\", \"tags\": [1, 2]}", "{}", "{\"year\": 2024, \"lang\": \"fr\", \"ok\": true}",
        ]
        let items = (0..<70).map { StoredItem(id: "m\($0)", metadata: $0 % 8 == 7 ? nil : metadatas[$0 % 7], vector: g.vector(4)) }
        try await local.upsert(items, fingerprint: "toy@1")
        let filters: [[(key: String, condition: MetadataFilter.Condition)]] = [
            [("year", .equal(.string("2021")))], [("year", .equal(.number(.integer(2021))))],
            [("year", .compare(.greaterOrEqual, .integer(2020)))], [("year", .compare(.less, .real(2020)))],
            [("year", .equal(.number(.integer(9007199254740993))))], [("year", .equal(.number(.integer(9007199254740992))))],
            [("lang", .notEqual(.string("en")))], [("lang", .exists(true))], [("lang", .exists(false))],
            [("ok", .equal(.bool(true)))], [("ok", .notEqual(.bool(true)))],
            [("lang", .in([.string("en"), .string("fr")]))], [("year", .in([.number(.integer(2024)), .string("2021")]))], [("lang", .in([]))],
            [("year", .compare(.greater, .integer(2000))), ("lang", .equal(.string("en")))], [("x'; DROP TABLE siamese_items; --", .exists(false))],
        ]
        try await TestPostgres.withStore { pg in
            try await pg.upsert(items, fingerprint: "toy@1")
            for conditions in filters {
                let filter = try MetadataFilter(conditions)
                let q = g.vector(4)
                let a = try await local.search(q, k: 100, ef: 200, metadata: filter).map(\.id)
                let b = try await pg.search(q, k: 100, ef: 200, metadata: filter).map(\.id)
                #expect(Set(a) == Set(b) && a.count == b.count, "\(conditions): SQLite \(a.sorted()) PostgreSQL \(b.sorted())")
            }
            #expect(try await pg.count() == items.count)
        }
    }

    @Test("URL parsing: forms accepted, mistakes named, the password never in the redacted form or in errors")
    func urls() throws {
        let u = try PostgresURL("postgresql://me:p%40ss@db.example:6543/items?sslmode=require")
        #expect(u.user == "me" && u.password == "p@ss" && u.host == "db.example" && u.port == 6543 && u.database == "items" && u.sslMode == .require)
        #expect(u.redacted == "postgres://me@db.example:6543/items?sslmode=require" && !"\(u)".contains("p@ss"))
        let v6 = try PostgresURL("postgres://u@[::1]/d")
        #expect(v6.host == "::1" && v6.port == 5432 && v6.redacted == "postgres://u@[::1]:5432/d")
        let raw = try PostgresURL("postgres://u:raw@pass@h:1/d")
        #expect(raw.password == "raw@pass" && raw.host == "h")
        #expect(PostgresURL.isPostgres("POSTGRES://x") && !PostgresURL.isPostgres("items.sqlite"))
        for (bad, why) in [("postgres://secret@/d", "no host"), ("postgres://u:secret@h:0/d", "port"), ("postgres://u:secret@h:99999/d", "port"),
                           ("postgres://u:secret@h", "no database"), ("postgres://h/d", "no user"), ("mysql://u@h/d", "postgres://"),
                           ("postgres://u:secret@h/d?sslmode=maybe", "sslmode"), ("postgres://u:secret@h/d?password=x", "unknown parameter"),
                           ("postgres://u:secret@h/a/b", "database"), ("postgres://u:secret@h o/d", "host"), ("postgres://u:secret@[::1/d", "IPv6")] {
            #expect(throws: PostgresURLError.self) { try PostgresURL(bad) }
            do { _ = try PostgresURL(bad) } catch {
                #expect(error.message.contains(why) && !error.description.contains("secret"), "\(bad): \(error)")
            }
        }
    }
}
