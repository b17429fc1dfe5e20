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
    /// What in `value` breaks `schema` (the JSON Schema subset the document uses: type, enum,
    /// properties, required, additionalProperties false, items, min/maxItems), as paths.
    static func violations(_ value: Any, _ schema: [String: Any], at path: String = "$") -> [String] {
        var out: [String] = []
        let types: [String] = (schema["type"] as? String).map { [$0] } ?? (schema["type"] as? [String]) ?? []
        // The JSON kinds a parsed value can be (Foundation parses true and 1 alike as NSNumber).
        func kinds(_ v: Any) -> Set<String> {
            if v is NSNull { return ["null"] }
            if v is String { return ["string"] }
            if v is [Any] { return ["array"] }
            if v is [String: Any] { return ["object"] }
            if let n = v as? NSNumber {
                var k: Set<String> = ["number"]
                if n.doubleValue == n.doubleValue.rounded() { k.insert("integer") }
                if n.doubleValue == 0 || n.doubleValue == 1 { k.insert("boolean") }
                return k
            }
            return ["unknown"]
        }
        let k = kinds(value)
        if !types.isEmpty, k.isDisjoint(with: types) {
            return ["\(path): \(k.sorted()), expected \(types)"]
        }
        if let options = schema["enum"] as? [Any], let v = value as? String, !options.contains(where: { ($0 as? String) == v }) {
            out.append("\(path): '\(v)' not in \(options)")
        }
        if let object = value as? [String: Any] {
            let properties = schema["properties"] as? [String: [String: Any]] ?? [:]
            for name in schema["required"] as? [String] ?? [] where object[name] == nil { out.append("\(path).\(name): missing") }
            for (name, v) in object {
                if let sub = properties[name] { out += violations(v, sub, at: "\(path).\(name)") }
                else if schema["additionalProperties"] as? Bool == false { out.append("\(path).\(name): not in the schema") }
            }
        }
        if let array = value as? [Any], let items = schema["items"] as? [String: Any] {
            for (i, v) in array.enumerated() { out += violations(v, items, at: "\(path)[\(i)]") }
        }
        return out
    }

    /// Every JSON route's real answer matches the success schema the document gives it (the
    /// document had empty schemas: a client generator got nothing).
    @Test func successResponsesMatchTheirSchemas() async throws {
        let s = try TestService()
        try await s.test { client in
            let doc = try await client.json("/openapi.json", method: .get).json
            let paths = try #require(doc["paths"] as? [String: [String: Any]])
            func schema(_ method: String, _ path: String) throws -> [String: Any] {
                let operation = try #require(paths[path]?[method] as? [String: Any], "\(method) \(path)")
                let ok = ((operation["responses"] as? [String: Any])?["200"] as? [String: Any])?["content"] as? [String: Any]
                return try #require((ok?["application/json"] as? [String: Any])?["schema"] as? [String: Any], "\(method) \(path) has no JSON schema")
            }
            let a = vectorJSON(sampleInput(1)), b = vectorJSON(sampleInput(2))
            let calls: [(String, String, String, String?, String?)] = [
                ("get", "/healthz", "/healthz", nil, nil),
                ("get", "/readyz", "/readyz", nil, nil),
                ("post", "/v1/embed", "/v1/embed", "{\"inputs\":[\(a)]}", nil),
                ("post", "/v1/compare", "/v1/compare", "{\"a\":\(a),\"b\":\(b)}", nil),
                ("post", "/v1/verify", "/v1/verify", "{\"a\":\(a),\"b\":\(b),\"threshold\":0.5}", nil),
                ("post", "/v1/items", "/v1/items", "{\"items\":[{\"id\":\"x/1\",\"vector\":\(a),\"text\":\"t\",\"metadata\":{\"k\":\"v\"}},{\"id\":\"y\",\"vector\":\(b)}]}", TestService.key),
                ("post", "/v1/search", "/v1/search", "{\"query\":\(a),\"k\":2}", nil),
                ("post", "/v1/duplicates", "/v1/duplicates", "{\"threshold\":-1}", TestService.key),
                ("get", "/v1/items/{id}", "/v1/items/x%2F1", nil, nil),
                ("get", "/v1/models", "/v1/models", nil, nil),
                ("post", "/v1/admin/save-index", "/v1/admin/save-index", nil, TestService.key),
                ("delete", "/v1/items/{id}", "/v1/items/y", nil, TestService.key),
                ("delete", "/v1/items", "/v1/items", "{\"ids\":[\"x/1\"]}", TestService.key),
            ]
            for (method, path, uri, body, key) in calls {
                let r = try await client.json(uri, method: HTTPRequest.Method(rawValue: method.uppercased())!, body: body, key: key)
                #expect(r.status == 200, "\(method) \(uri): \(r.json)")
                let documented = try schema(method, path)
                #expect((documented["properties"] as? [String: Any])?.isEmpty == false, "\(method) \(path): an empty schema says nothing")
                let problems = Self.violations(r.json, documented)
                #expect(problems.isEmpty, "\(method) \(path): \(problems) in \(r.json)")
            }
        }
    }
}
