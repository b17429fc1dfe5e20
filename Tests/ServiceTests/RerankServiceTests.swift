import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Testing
import TextEncoders
@testable import Service

/// `/v1/rerank` and `"rerank_k"` on `/v1/search` (issue 14): all-MiniLM-L6-v2 retrieves, the tiny
/// cross-encoder fixture reorders with sentence-transformers' `CrossEncoder.predict` scores.
@Suite("Service reranking", .enabled(if: RealTextModel.folder != nil, "all-MiniLM-L6-v2 not found (skipped, not passed)"))
struct RerankServiceTests {
    @Test func rerankRouteAndRerankedSearch() async throws {
        let fixture = RealTextModel.root.appendingPathComponent("Tests/TextEncodersTests/Fixtures/cross-encoders/ce-bert-1")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: fixture.appendingPathComponent("reference.json"))) as? [String: Any])
        let pairs = try #require(json["pairs"] as? [[String]])
        let reference = try #require(json["scores"] as? [[NSNumber]]).map { $0[0].doubleValue }
        let query = pairs[0][0]
        let rows = pairs.indices.filter { pairs[$0][0] == query && !pairs[$0][1].isEmpty }
        let candidates = rows.map { pairs[$0][1] }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("siamese-rerank-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var c = ServiceConfiguration()
        c.apiKey = TestService.key
        let model = try TextModelAdapter(folder: try #require(RealTextModel.folder))
        let state = try ServiceState(model: model, storePath: dir.appendingPathComponent("s.sqlite").path, indexPath: nil, configuration: c,
                                     reranker: try CrossEncoder(folder: fixture))
        let bare = try ServiceState(model: model, storePath: dir.appendingPathComponent("t.sqlite").path, indexPath: nil, configuration: c)
        @Sendable func quoted(_ s: String) throws -> String { String(decoding: try JSONEncoder().encode(s), as: UTF8.self) }
        let list = try candidates.map(quoted).joined(separator: ",")
        try await Application(router: ServiceRouter.make(state: state), logger: Logger(label: "test")).test(.router) { client in
            let r = try await client.json("/v1/rerank", body: "{\"query\":\(try quoted(query)),\"candidates\":[\(list)]}")
            #expect(r.status == 200, "\(r.json)")
            let scores = try #require(r.json["scores"] as? [Double])
            #expect(scores.count == rows.count)
            for (s, i) in zip(scores, rows) { #expect(abs(s - reference[i]) <= 1e-5, "\(s) vs \(reference[i])") }
            #expect(r.json["ranking"] as? [Int] == scores.indices.sorted { scores[$0] > scores[$1] })
            // A search reranked: every candidate stored, the best 3 of 5 by the cross-encoder.
            let items = try candidates.enumerated().map { "{\"id\":\"c\($0.offset)\",\"text\":\(try quoted($0.element))}" }.joined(separator: ",")
            #expect(try await client.json("/v1/items", body: "{\"items\":[\(items)]}", key: TestService.key).status == 200)
            let s = try await client.json("/v1/search", body: "{\"query\":\(try quoted(query)),\"k\":3,\"rerank_k\":5}")
            let hits = try #require(s.json["results"] as? [[String: Any]], "\(s.json)")
            let expected = scores.indices.sorted { scores[$0] > scores[$1] }.prefix(3).map { "c\($0)" }
            #expect(hits.map { $0["id"] as? String ?? "" } == expected)
            for hit in hits {
                let i = Int((hit["id"] as? String ?? "c0").dropFirst())!
                #expect(abs((hit["rerank_score"] as? Double ?? 9) - scores[i]) <= 1e-5 && hit["score"] is Double)
            }
            // Bad requests: a vector query, a non-string candidate.
            let vector = try await client.json("/v1/search", body: "{\"vector\":[\(Array(repeating: "0.1", count: 384).joined(separator: ","))],\"rerank_k\":5}")
            #expect(vector.status == 400 && (vector.json["error"] as? [String: Any])?["field"] as? String == "rerank_k", "\(vector.json)")
            let wrong = try await client.json("/v1/rerank", body: "{\"query\":\"q\",\"candidates\":[\"a\",3]}")
            #expect(wrong.status == 400 && (wrong.json["error"] as? [String: Any])?["field"] as? String == "candidates[1]", "\(wrong.json)")
        }
        // Without a cross-encoder: 409 naming the option.
        try await Application(router: ServiceRouter.make(state: bare), logger: Logger(label: "test")).test(.router) { client in
            let r = try await client.json("/v1/rerank", body: "{\"query\":\"q\",\"candidates\":[\"a\"]}")
            #expect(r.status == 409 && errorCode(r.json) == "no_reranker" && "\(r.json)".contains("--rerank-model"), "\(r.json)")
        }
    }
}
