import Foundation
import GRDB
import Testing
@testable import EmbeddingStore
import VectorIndex

final class TemporaryStore {
    let dir: URL
    init() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("store-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(at: dir) }
    var db: String { dir.appendingPathComponent("items.sqlite").path }
    var index: String { dir.appendingPathComponent("items.hnsw").path }
}

/// A deterministic stand-in for a text encoder: hashed character trigrams, projected by a seed.
func toyEmbed(_ text: String, dim: Int = 16, seed: UInt64 = 1) -> [Float] {
    var v = [Float](repeating: 0, count: dim)
    let chars = Array(text.lowercased().unicodeScalars)
    for i in 0..<max(1, chars.count - 2) {
        var h: UInt64 = seed &* 0x9E37_79B9_7F4A_7C15
        for c in chars[i..<min(chars.count, i + 3)] { h = (h ^ UInt64(c.value)) &* 0x100_0000_01B3 }
        for d in 0..<dim { v[d] += Float(Int64(bitPattern: (h &* UInt64(d + 1)) >> 11) % 1000) / 1000 }
    }
    return v
}

func items(_ n: Int, from start: Int = 0, seed: UInt64 = 1, dim: Int = 16) -> [StoredItem] {
    (start..<(start + n)).map { i in
        let text = "item number \(i) about \(["cats", "dogs", "birds"][i % 3]) and \(i * 7 % 13)"
        return StoredItem(id: "doc-\(i)", text: text, metadata: "{\"kind\": \"\(["cats", "dogs", "birds"][i % 3])\", \"n\": \(i)}",
                          vector: toyEmbed(text, dim: dim, seed: seed))
    }
}

@Suite("Embedding store")
struct EmbeddingStoreTests {
    @Test("WAL with full sync; upserts are visible to a fresh connection at once and after reopening")
    func durability() throws {
        let t = try TemporaryStore()
        let store = try EmbeddingStore(path: t.db)
        try store.upsert(items(50), fingerprint: "toy@1")
        // Another connection (another process would see the same): committed means on disk.
        let other = try EmbeddingStore(path: t.db)
        #expect(try other.count() == 50 && other.item("doc-7") == items(50)[7])
        let (mode, sync) = try store.pool.read { db in
            (try String.fetchOne(db, sql: "PRAGMA journal_mode"), try Int.fetchOne(db, sql: "PRAGMA synchronous"))
        }
        #expect(mode == "wal" && sync == 2, "journal_mode \(mode ?? "?"), synchronous \(sync ?? -1) (2 = FULL)")
        try store.upsert([StoredItem(id: "doc-7", text: "changed", vector: [Float](repeating: 1, count: 16))], fingerprint: "toy@1")
        try store.remove(["doc-8", "nope"])
        let reopened = try EmbeddingStore(path: t.db)
        #expect(try reopened.count() == 49 && reopened.item("doc-7")?.text == "changed" && reopened.item("doc-8") == nil)
        #expect(try reopened.fingerprint() == "toy@1" && reopened.dimension() == 16 && reopened.fingerprint(of: "doc-3") == "toy@1")
    }

    @Test("items(ids:) returns each id's item in the order asked, nil for unknown ids, across query chunks")
    func multiGet() throws {
        let t = try TemporaryStore()
        let store = try EmbeddingStore(path: t.db)
        #expect(try store.items(ids: []).isEmpty)
        let all = items(1200)
        try store.upsert(all, fingerprint: "toy@1")
        // More ids than one query chunk holds (500), shuffled, with repeats and unknown ids mixed in.
        var g = SystemRandomNumberGenerator()
        var asked = (0..<1200).map { "doc-\($0)" }.shuffled(using: &g)
        asked.insert("nope", at: 3)
        asked.insert("doc-42", at: 700)
        asked.append("doc-999999")
        let got = try store.items(ids: asked)
        #expect(got.count == asked.count)
        // Reference: one lookup per id through item(_:).
        for (id, item) in zip(asked, got) {
            #expect(item == (try store.item(id)), "\(id)")
        }
        #expect(got[3] == nil && got.last! == nil)
        #expect(got.compactMap { $0 }.count == 1201)
        try store.remove(["doc-5"])
        #expect(try store.items(ids: ["doc-4", "doc-5", "doc-6"]).map { $0?.id } == ["doc-4", nil, "doc-6"])
    }

    @Test("vectors of another model are refused; so are bad vectors, bad metadata and repeated ids")
    func refusals() throws {
        let t = try TemporaryStore()
        let store = try EmbeddingStore(path: t.db)
        try store.upsert(items(5), fingerprint: "model-a")
        #expect(throws: StoreError.fingerprintMismatch(store: "model-a", given: "model-b")) { try store.upsert(items(1, from: 9), fingerprint: "model-b") }
        #expect(throws: StoreError.dimensionMismatch(expected: 16, got: 8)) { try store.upsert(items(1, from: 9, dim: 8), fingerprint: "model-a") }
        #expect(throws: StoreError.invalidVector(id: "x")) { try store.upsert([StoredItem(id: "x", vector: [.nan])], fingerprint: "model-a") }
        #expect(throws: StoreError.invalidMetadata(id: "x")) {
            try store.upsert([StoredItem(id: "x", metadata: "[1, 2]", vector: [Float](repeating: 1, count: 16))], fingerprint: "model-a")
        }
        #expect(throws: StoreError.duplicateID("doc-0")) { try store.upsert(items(1) + items(1), fingerprint: "model-a") }
        #expect(throws: StoreError.invalidFingerprint("")) { try store.upsert(items(1), fingerprint: "") }
        #expect(try store.count() == 5 && store.fingerprint() == "model-a")
        // An emptied store may take another model.
        try store.remove(items(5).map(\.id))
        try store.upsert(items(2, dim: 8), fingerprint: "model-b")
        #expect(try store.fingerprint() == "model-b" && store.dimension() == 8)
    }

    @Test("re-embed moves every item to the new model in one switch, and resumes after a failure")
    func reembed() async throws {
        let t = try TemporaryStore()
        let store = try EmbeddingStore(path: t.db)
        try store.upsert(items(120), fingerprint: "old")
        let index = try store.openIndex(metric: .cosine, indexPath: t.index)
        try index.save()
        // A failure half-way: the store still serves the old model.
        var calls = 0
        await #expect(throws: CancellationError.self) {
            try await store.reembed(to: "new", batchSize: 50) { texts in
                calls += 1
                if calls == 2 { throw CancellationError() }
                return texts.map { toyEmbed($0, dim: 24, seed: 2) }
            }
        }
        #expect(try store.fingerprint() == "old" && store.dimension() == 16)
        // An old-model upsert meanwhile is re-embedded too; the resumed run skips the finished batch.
        try store.upsert([StoredItem(id: "doc-1", text: "a fresh text for one", vector: toyEmbed("x"))], fingerprint: "old")
        var embeddedTexts: [String] = []
        let n = try await store.reembed(to: "new", batchSize: 50) { texts in
            embeddedTexts += texts
            return texts.map { toyEmbed($0, dim: 24, seed: 2) }
        }
        #expect(n == embeddedTexts.count && n == 71, "70 left after the first batch, plus the changed item: \(n)")
        #expect(try store.fingerprint() == "new" && store.dimension() == 24)
        for item in items(120) where item.id != "doc-1" {
            #expect(try store.item(item.id)?.vector == toyEmbed(item.text!, dim: 24, seed: 2))
            #expect(try store.fingerprint(of: item.id) == "new")
        }
        #expect(try store.item("doc-1")?.vector == toyEmbed("a fresh text for one", dim: 24, seed: 2))
        #expect(try await store.reembed(to: "new") { _ in [] } == 0)
        // The saved index is for the old model: reopening rebuilds for the new one.
        let reopened = try store.openIndex(metric: .cosine, indexPath: t.index)
        #expect(reopened.index.dimension == 24 && reopened.index.count == 120)
        #expect(try reopened.search(toyEmbed(items(120)[33].text!, dim: 24, seed: 2), k: 1).first?.id == "doc-33")
        // Items without text cannot be re-embedded: refused before any work.
        try store.upsert([StoredItem(id: "bare", source: "/data/x.png", vector: [Float](repeating: 1, count: 24))], fingerprint: "new")
        await #expect(throws: StoreError.missingText(id: "bare")) { try await store.reembed(to: "newer") { $0.map { _ in [1] } } }
    }

    @Test("the index is built from the store, saved, reloaded and caught up with later changes")
    func indexLifecycle() throws {
        let t = try TemporaryStore()
        let store = try EmbeddingStore(path: t.db)
        try store.upsert(items(300), fingerprint: "toy")
        let first = try store.openIndex(metric: .cosine, configuration: HNSWConfiguration(m: 8, efConstruction: 64), indexPath: t.index)
        #expect(first.index.count == 300)
        let probe = items(300)[42]
        #expect(try first.search(probe.vector, k: 1, ef: 50).first?.id == "doc-42")
        try first.save()
        // Changes after the save, made through the store index and directly in the store.
        try first.upsert(items(10, from: 300), fingerprint: "toy")
        try first.remove(["doc-42"])
        try store.upsert([StoredItem(id: "doc-5", text: "moved", vector: [Float](repeating: -1, count: 16))], fingerprint: "toy")
        let second = try store.openIndex(metric: .cosine, indexPath: t.index)
        #expect(second.index.count == 309)
        #expect(try second.search(probe.vector, k: 3, ef: 50).allSatisfy { $0.id != "doc-42" })
        #expect(try second.search([Float](repeating: -1, count: 16), k: 1, ef: 50).first?.id == "doc-5")
        #expect(try second.search(items(1, from: 305)[0].vector, k: 1, ef: 50).first?.id == "doc-305")
        // Metadata filters.
        let dogs = try second.search(probe.vector, k: 10, ef: 50, metadata: try MetadataFilter(equal: ["kind": "dogs"]))
        #expect(dogs.count == 10 && dogs.allSatisfy { try! store.item($0.id)!.metadata!.contains("dogs") })
        #expect(try second.search(probe.vector, k: 3, metadata: try MetadataFilter(equal: ["n": "7"])).map(\.id) == ["doc-7"])
        // A damaged index file is ignored: the index is rebuilt.
        try Data("garbage".utf8).write(to: URL(fileURLWithPath: t.index))
        let third = try store.openIndex(metric: .cosine, indexPath: t.index)
        #expect(third.index.count == 309)
        // Another metric than the saved one: rebuilt too.
        try third.save()
        #expect(try store.openIndex(metric: .l2, indexPath: t.index).index.metric == .l2)
        // An empty store needs the dimension.
        let empty = try EmbeddingStore(path: t.dir.appendingPathComponent("empty.sqlite").path)
        #expect(throws: StoreError.self) { try empty.openIndex(metric: .cosine) }
        let e = try empty.openIndex(metric: .cosine, dimension: 16)
        try e.upsert(items(3), fingerprint: "toy")
        #expect(try e.search(items(3)[1].vector, k: 1).first?.id == "doc-1")
    }
}
