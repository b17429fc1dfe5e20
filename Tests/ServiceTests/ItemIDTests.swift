import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
@testable import Service

/// Item ids at the API (issue 12, findings 2 and 7): NUL and other control characters are refused
/// with 400 (a NUL once cut the id in SQLite, overwriting or deleting another item), and ids with
/// any other character are readable and deletable by path, percent-encoded.
@Suite("Service item ids") struct ItemIDTests {
    static func upsertBody(_ ids: [String], text: String? = nil) throws -> String {
        let items: [[String: Any]] = ids.enumerated().map { i, id in
            var item: [String: Any] = ["id": id, "vector": sampleInput(i).map(Double.init)]
            if let text { item["text"] = text }
            return item
        }
        return String(decoding: try JSONSerialization.data(withJSONObject: ["items": items]), as: UTF8.self)
    }

    @Test func nulIdsAreRefusedAndLeaveOtherItemsAlone() async throws {
        let s = try TestService()
        try await s.test { client in
            #expect(try await client.json("/v1/items", body: try Self.upsertBody(["victim"], text: "original"), key: TestService.key).status == 200)
            let evil = try await client.json("/v1/items", body: try Self.upsertBody(["victim\u{0}evil"], text: "replaced"), key: TestService.key)
            #expect(evil.status == 400)
            #expect(errorCode(evil.json) == "invalid_value")
            #expect((evil.json["error"] as? [String: Any])?["field"] as? String == "items[0].id")
            let two = try await client.json("/v1/items", body: try Self.upsertBody(["x\u{0}one", "x\u{0}two"]), key: TestService.key)
            #expect(two.status == 400, "two ids that differ after a NUL are not acknowledged as two upserts")
            let del = try await client.json("/v1/items", method: .delete, body: "{\"ids\":[\"victim\\u0000zzz\"]}", key: TestService.key)
            #expect(del.status == 400)
            let tab = try await client.json("/v1/items", body: try Self.upsertBody(["a\tb"]), key: TestService.key)
            #expect(tab.status == 400, "control characters have no place in ids")
            let text = try await client.json("/v1/items", body: try Self.upsertBody(["t"], text: "cut\u{0}here"), key: TestService.key)
            #expect(text.status == 400, "a text that the store would cut is refused")
            #expect((text.json["error"] as? [String: Any])?["field"] as? String == "items[0].text")
            let victim = try await client.json("/v1/items/victim", method: .get)
            #expect(victim.status == 200)
            #expect(victim.json["text"] as? String == "original")
            #expect(try s.state.store.count() == 1)
        }
    }

    static let asciiAlphanumerics = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")

    /// Each awkward character in an id, written by POST, then read and deleted by its path.
    @Test func percentEncodedIdsAreReadableAndDeletable() async throws {
        let s = try TestService()
        let ids = ["café", "with space", "a/b", "what?", "100%", "mixed é /?%#+&=", "%41"]
        try await s.test { client in
            #expect(try await client.json("/v1/items", body: try Self.upsertBody(ids), key: TestService.key).status == 200)
            // The raw body keeps the slash as it is: "a/b", not "a\/b".
            let raw = try await client.execute(uri: "/v1/items/a%2Fb", method: .get) { String(decoding: Data($0.body.readableBytesView), as: UTF8.self) }
            #expect(raw.contains("\"a/b\""), "\(raw)")
            for id in ids {
                let path = "/v1/items/" + id.addingPercentEncoding(withAllowedCharacters: Self.asciiAlphanumerics)!
                let got = try await client.json(path, method: .get)
                #expect(got.status == 200, "GET \(path)")
                #expect(got.json["id"] as? String == id)
                let unauthorised = try await client.json(path, method: .delete)
                #expect(unauthorised.status == 401)
                let deleted = try await client.json(path, method: .delete, key: TestService.key)
                #expect(deleted.status == 200, "DELETE \(path)")
                #expect(deleted.json["deleted"] as? Int == 1)
                #expect(try await client.json(path, method: .get).status == 404)
                #expect(try await client.json(path, method: .delete, key: TestService.key).status == 404)
            }
            #expect(try s.state.store.count() == 0)
            let bad = try await client.json("/v1/items/%E9%ZZ", method: .get)
            #expect(bad.status == 400, "invalid percent-encoding is the client's error")
        }
    }
}
