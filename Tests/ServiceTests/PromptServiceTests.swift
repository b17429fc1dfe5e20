import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Testing
@testable import Service

/// Prompts at the API (issue 14): `/v1/embed` takes `"prompt"` or `"role"`, searches embed their
/// query with the model's query prompt, stored items get its document prompt — checked against
/// sentence-transformers' embeddings of the same choices (`Fixtures/prompts_reference.json`, the
/// copy of all-MiniLM-L6-v2 made as `Benchmarks/reference/prompts_reference.py` makes it).
@Suite("Service prompts", .enabled(if: RealTextModel.folder != nil, "all-MiniLM-L6-v2 not found (skipped, not passed)"))
struct PromptServiceTests {
    @Test func embedSearchAndItemsUseTheLibrarysPrompts() async throws {
        let url = RealTextModel.root.appendingPathComponent("Tests/TextEncodersTests/Fixtures/prompts_reference.json")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        let sentences = try #require(json["sentences"] as? [String])
        let table = try #require(json["include_prompt"] as? [String: [[NSNumber]]]).mapValues { $0.map { $0.map(\.floatValue) } }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("siamese-service-prompts-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let folder = dir.appendingPathComponent("model")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: try #require(RealTextModel.folder), to: folder)
        let config: [String: Any] = ["prompts": try #require(json["prompts"]), "default_prompt_name": try #require(json["default_prompt_name"])]
        try JSONSerialization.data(withJSONObject: config).write(to: folder.appendingPathComponent("config_sentence_transformers.json"))
        var c = ServiceConfiguration()
        c.apiKey = TestService.key
        let state = try ServiceState(model: try TextModelAdapter(folder: folder), storePath: dir.appendingPathComponent("s.sqlite").path, indexPath: nil, configuration: c)
        let app = Application(router: ServiceRouter.make(state: state), logger: Logger(label: "test"))
        let quoted = try sentences.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) }
        let inputs = "\"inputs\":[\(quoted.joined(separator: ","))]"
        try await app.test(.router) { client in
            for (extra, key) in [("", "default"), (",\"prompt\":\"query\"", "named_query"), (",\"role\":\"query\"", "role_query"),
                                 (",\"role\":\"document\"", "role_document")] {
                let e = try await client.json("/v1/embed", body: "{\(inputs)\(extra)}")
                #expect(e.status == 200, "\(key): \(e.json)")
                let rows = (e.json["embeddings"] as? [Any] ?? []).map(floats)
                let expected = try #require(table[key])
                var worst: Float = rows.count == expected.count ? 0 : 1
                for (a, b) in zip(rows, expected) {
                    if a.count != b.count { worst = 1; continue }
                    for (x, y) in zip(a, b) { worst = max(worst, abs(x - y)) }
                }
                #expect(rows.count == expected.count && worst <= 1e-5, "\(key): max abs diff \(worst)")
            }
            // Items are documents; a text query is a query: the score is the cosine of those two.
            let item = "{\"items\":[{\"id\":\"d0\",\"text\":\(quoted[0])}]}"
            #expect(try await client.json("/v1/items", body: item, key: TestService.key).status == 200)
            let s = try await client.json("/v1/search", body: "{\"query\":\(quoted[1]),\"k\":1}")
            let hit = try #require((s.json["results"] as? [[String: Any]])?.first)
            let (q, d) = (try #require(table["role_query"])[1], try #require(table["role_document"])[0])
            let expected = zip(q, d).map { Double($0) * Double($1) }.reduce(0, +)
            #expect(abs((hit["score"] as? Double ?? 9) - expected) <= 1e-5, "\(hit) vs \(expected)")
            // Bad choices are 400s naming the field.
            for (body, field) in [("{\(inputs),\"prompt\":\"quey\"}", "prompt"), ("{\(inputs),\"role\":\"reader\"}", "role"),
                                  ("{\(inputs),\"prompt\":\"query\",\"role\":\"query\"}", "role")] {
                let r = try await client.json("/v1/embed", body: body)
                #expect(r.status == 400 && (r.json["error"] as? [String: Any])?["field"] as? String == field, "\(body): \(r.status) \(r.json)")
            }
            let v = try await client.json("/v1/search", body: "{\"vector\":\(String(describing: q)),\"role\":\"query\"}")
            #expect(v.status == 400, "\(v.json)")
        }
    }
}
