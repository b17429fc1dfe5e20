import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
@testable import Service

@Suite("OpenAPI document") struct OpenAPITests {
    /// Every route the router serves is in /openapi.json, and every operation there is routed.
    @Test func documentAndRouterAgree() async throws {
        let s = try TestService()
        let router = ServiceRouter.make(state: s.state)
        // Router paths use ":id"; OpenAPI uses "{id}".
        let routed = Set(router.routes.map { route -> String in
            let path = route.path.description.split(separator: "/").map { $0.hasPrefix(":") ? "{\($0.dropFirst())}" : String($0) }
            return "\(route.method.rawValue.lowercased()) /\(path.joined(separator: "/"))"
        })
        try await s.test { client in
            let r = try await client.json("/openapi.json", method: .get)
            #expect(r.status == 200)
            #expect(r.json["openapi"] as? String == "3.1.0")
            let paths = try #require(r.json["paths"] as? [String: [String: Any]])
            var documented = Set<String>()
            for (path, operations) in paths { for method in operations.keys { documented.insert("\(method) \(path)") } }
            #expect(routed.count >= 15)
            #expect(routed.subtracting(documented).isEmpty, "routed but not documented: \(routed.subtracting(documented).sorted())")
            #expect(documented.subtracting(routed).isEmpty, "documented but not routed: \(documented.subtracting(routed).sorted())")
            // Write routes declare the bearer key.
            let items = try #require(paths["/v1/items"]?["post"] as? [String: Any])
            #expect(items["security"] != nil)
            // Inputs are described as the served model takes them: arrays of exactly its input length.
            let compare = try #require(paths["/v1/compare"]?["post"] as? [String: Any])
            let schema = (((compare["requestBody"] as? [String: Any])?["content"] as? [String: Any])?["application/json"] as? [String: Any])?["schema"] as? [String: Any]
            let a = try #require((schema?["properties"] as? [String: Any])?["a"] as? [String: Any])
            #expect(a["type"] as? String == "array")
            #expect(a["minItems"] as? Int == TinyModel.inputDimension && a["maxItems"] as? Int == TinyModel.inputDimension)
        }
    }
}
