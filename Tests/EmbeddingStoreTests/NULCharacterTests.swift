import Foundation
import Testing
@testable import EmbeddingStore
import VectorIndex

/// Issue 12, finding 2: SQLite binds Swift strings as C strings, so a NUL cut them short —
/// `victim\u{0}evil` overwrote `victim`, two ids became one row, `delete victim\u{0}zzz` deleted
/// `victim`, and texts lost everything after a NUL. The store now refuses such ids, texts and
/// sources on write and treats such ids as naming no item on read and delete.
@Suite("Embedding store: NUL characters")
struct NULCharacterTests {
    static let fingerprint = "model-a"

    @Test func twoIdsThatDifferAfterANULAreRefusedNotMerged() throws {
        let t = try TemporaryStore()
        let store = try EmbeddingStore(path: t.db)
        let pair = [StoredItem(id: "x\u{0}one", vector: toyEmbed("one")), StoredItem(id: "x\u{0}two", vector: toyEmbed("two"))]
        #expect(throws: StoreError.nulCharacter(field: "id", id: "x\u{0}one")) { try store.upsert(pair, fingerprint: Self.fingerprint) }
        #expect(try store.count() == 0, "nothing written")
        #expect(try store.item("x") == nil)
    }

    @Test func aNULIdNeitherOverwritesNorDeletesItsPrefix() throws {
        let t = try TemporaryStore()
        let store = try EmbeddingStore(path: t.db)
        let victim = StoredItem(id: "victim", text: "the original", vector: toyEmbed("victim"))
        try store.upsert([victim], fingerprint: Self.fingerprint)
        #expect(throws: StoreError.self) {
            try store.upsert([StoredItem(id: "victim\u{0}evil", text: "replaced", vector: toyEmbed("evil"))], fingerprint: Self.fingerprint)
        }
        #expect(try store.item("victim") == victim)
        #expect(try store.remove(["victim\u{0}zzz"]) == 0)
        #expect(try store.item("victim") == victim, "the prefix item survives a delete of a NUL id")
        #expect(try store.item("victim\u{0}zzz") == nil)
        #expect(try store.items(ids: ["victim\u{0}zzz", "victim"]) == [nil, victim])
        #expect(try store.fingerprint(of: "victim\u{0}") == nil)

        // Through the index too.
        let index = try store.openIndex(metric: .cosine, indexPath: t.index)
        #expect(try index.remove(["victim\u{0}zzz"]) == 0)
        #expect(try store.count() == 1)
    }

    @Test func textsAndSourcesWithANULAreRefusedAndOthersRoundTripExactly() throws {
        let t = try TemporaryStore()
        let store = try EmbeddingStore(path: t.db)
        #expect(throws: StoreError.nulCharacter(field: "text", id: "a")) {
            try store.upsert([StoredItem(id: "a", text: "before\u{0}after", vector: toyEmbed("a"))], fingerprint: Self.fingerprint)
        }
        #expect(throws: StoreError.nulCharacter(field: "source", id: "b")) {
            try store.upsert([StoredItem(id: "b", source: "/tmp/x\u{0}y", vector: toyEmbed("b"))], fingerprint: Self.fingerprint)
        }
        #expect(try store.count() == 0)
        // Other control characters and non-ASCII text are kept exactly.
        let odd = StoredItem(id: "é ?/%\u{1}", text: "tab\there\u{7F}\u{1F600}é", source: "s\u{1}", vector: toyEmbed("c"))
        try store.upsert([odd], fingerprint: Self.fingerprint)
        #expect(try store.item(odd.id) == odd)
        #expect(StoreError.nulCharacter(field: "id", id: "v\u{0}e").description.contains("v\\u0000e"), "the message shows the NUL")
    }

    @Test func aMetadataFilterValueWithANULMatchesNothing() throws {
        let t = try TemporaryStore()
        let store = try EmbeddingStore(path: t.db)
        try store.upsert([StoredItem(id: "a", metadata: "{\"k\": \"v\"}", vector: toyEmbed("a"))], fingerprint: Self.fingerprint)
        #expect(try store.labels(matching: ["k": "v"]).count == 1)
        #expect(try store.labels(matching: ["k": "v\u{0}x"]).isEmpty, "cut at the NUL it would match 'v'")
    }
}
