import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
@testable import Service

@Suite("Service errors and security") struct ErrorTests {
    @Test func writesNeedTheKey() async throws {
        let s = try TestService()
        let body = "{\"items\":[{\"id\":\"a\",\"vector\":\(vectorJSON(sampleInput(0)))}]}"
        try await s.test { client in
            for key in [nil, "wrong", String(TestService.key.dropLast()), TestService.key + "x", "test-key-0123456789abcdeF"] as [String?] {
                let r = try await client.json("/v1/items", body: body, key: key)
                #expect(r.status == 401, "key \(key ?? "none")")
                #expect(errorCode(r.json) == "unauthorized")
            }
            #expect(try await client.json("/v1/items", method: .delete, body: "{\"ids\":[\"a\"]}").status == 401)
            #expect(try await client.json("/v1/admin/save-index", body: "{}").status == 401)
            #expect(try await client.json("/v1/items", body: body, key: TestService.key).status == 200)
            #expect(try await client.json("/v1/admin/save-index", body: "{}", key: TestService.key).status == 200)
        }
        #expect(try s.state.store.count() == 1)
    }

    @Test func withoutAConfiguredKeyWritesAreRefused() async throws {
        let s = try TestService(apiKey: nil)
        try await s.test { client in
            let r = try await client.json("/v1/items", body: "{\"items\":[]}", key: "anything-at-all-long")
            #expect(r.status == 401)
            #expect((r.json["error"] as? [String: Any])?["message"] as? String == "writes are disabled: the server has no API key (start it with --api-key-file FILE)")
        }
    }

    @Test func keyComparison() {
        let k = Array("secret-key-123456".utf8)
        #expect(APIKey.matches(k, expected: k))
        #expect(!APIKey.matches(Array(k.dropLast()), expected: k))
        #expect(!APIKey.matches(k + [0], expected: k))
        #expect(!APIKey.matches([], expected: k))
        var flipped = k
        flipped[0] ^= 1
        #expect(!APIKey.matches(flipped, expected: k))
    }

    @Test func oversizedBodyIs413() async throws {
        let s = try TestService(maxBodyBytes: 2048)
        let big = "{\"inputs\":[" + Array(repeating: vectorJSON(sampleInput(0)), count: 200).joined(separator: ",") + "]}"
        try await s.test { client in
            let r = try await client.json("/v1/embed", body: big)
            #expect(r.status == 413)
            #expect(errorCode(r.json) == "body_too_large")
        }
    }

    @Test func tooManyInputsIs422() async throws {
        let s = try TestService(maxInputs: 4)
        let body = "{\"inputs\":[" + Array(repeating: vectorJSON(sampleInput(0)), count: 5).joined(separator: ",") + "]}"
        try await s.test { client in
            let r = try await client.json("/v1/embed", body: body)
            #expect(r.status == 422)
            #expect(errorCode(r.json) == "too_many_inputs")
            let items = "{\"items\":[" + (0..<5).map { "{\"id\":\"i\($0)\",\"vector\":\(vectorJSON(sampleInput($0)))}" }.joined(separator: ",") + "]}"
            let w = try await client.json("/v1/items", body: items, key: TestService.key)
            #expect(w.status == 422)
            #expect(errorCode(w.json) == "too_many_inputs")
        }
    }

    /// Every malformed request gets a 4xx JSON error with a stable code, naming the field.
    @Test func malformedRequests() async throws {
        let s = try TestService()
        let v = vectorJSON(sampleInput(0))
        let cases: [(String, String, Int, String, String?)] = [
            ("/v1/embed", "", 400, "malformed_json", nil),
            ("/v1/embed", "{", 400, "malformed_json", nil),
            ("/v1/embed", "[1,2]", 400, "malformed_json", nil),
            ("/v1/embed", "{\"inputs\":[\(v)],\"extra\":1}", 400, "unknown_field", "extra"),
            ("/v1/embed", "{}", 400, "missing_field", "inputs"),
            ("/v1/embed", "{\"inputs\":\"x\"}", 400, "wrong_type", "inputs"),
            ("/v1/embed", "{\"inputs\":[]}", 400, "invalid_value", "inputs"),
            ("/v1/embed", "{\"inputs\":[true]}", 400, "wrong_type", "inputs[0]"),
            ("/v1/embed", "{\"inputs\":[[1,2,\"3\",4,5,6,7,8]]}", 400, "wrong_type", "inputs[0][2]"),
            ("/v1/embed", "{\"inputs\":[NaN]}", 400, "malformed_json", nil),
            ("/v1/embed", "{\"inputs\":[[1,2,3,4,5,6,7,1e39]]}", 422, "non_finite_number", "inputs[0][7]"),
            ("/v1/embed", "{\"inputs\":[[1,2,3]]}", 422, "wrong_dimension", "inputs[0]"),
            ("/v1/embed", "{\"inputs\":[\"some text\"]}", 422, "input_kind_mismatch", "inputs[0]"),
            ("/v1/compare", "{\"a\":\(v)}", 400, "missing_field", "b"),
            ("/v1/compare", "{\"a\":\(v),\"b\":{}}", 400, "wrong_type", "b"),
            ("/v1/verify", "{\"a\":\(v),\"b\":\(v),\"threshold\":\"high\"}", 400, "wrong_type", "threshold"),
            ("/v1/search", "{\"query\":\(v),\"k\":0}", 400, "invalid_value", "k"),
            ("/v1/search", "{\"query\":\(v),\"k\":2.5}", 400, "invalid_value", "k"),
            ("/v1/search", "{\"query\":\(v),\"filter\":{\"a\":[1]}}", 400, "wrong_type", "filter.a"),
            ("/v1/search", "{\"query\":\(v),\"filter\":[]}", 400, "wrong_type", "filter"),
            ("/v1/duplicates", "{\"threshold\":2}", 400, "invalid_value", "threshold"),
            ("/v1/duplicates", "{}", 400, "missing_field", "threshold"),
        ]
        try await s.test { client in
            for (uri, body, status, code, field) in cases {
                let r = try await client.json(uri, body: body)
                #expect(r.status == status, "\(uri) \(body)")
                #expect(errorCode(r.json) == code, "\(uri) \(body)")
                if let field { #expect((r.json["error"] as? [String: Any])?["field"] as? String == field, "\(uri) \(body)") }
            }
            let itemCases: [(String, Int, String, String)] = [
                ("{\"items\":[{\"id\":\"a\"}]}", 400, "missing_field", "items[0].vector"),
                ("{\"items\":[{\"id\":\"\",\"vector\":\(v)}]}", 400, "invalid_value", "items[0].id"),
                ("{\"items\":[{\"id\":\"a\",\"vector\":\(v)},{\"id\":\"a\",\"vector\":\(v)}]}", 400, "invalid_value", "items[1].id"),
                ("{\"items\":[{\"id\":\"a\",\"vector\":\(v),\"metadata\":3}]}", 400, "wrong_type", "items[0].metadata"),
                ("{\"items\":[{\"id\":\"a\",\"vector\":\(v),\"color\":\"red\"}]}", 400, "unknown_field", "items[0].color"),
                ("{\"items\":[5]}", 400, "wrong_type", "items[0]"),
            ]
            for (body, status, code, field) in itemCases {
                let r = try await client.json("/v1/items", body: body, key: TestService.key)
                #expect(r.status == status, "\(body)")
                #expect(errorCode(r.json) == code, "\(body)")
                #expect((r.json["error"] as? [String: Any])?["field"] as? String == field, "\(body)")
            }
            let missing = try await client.json("/v1/nothing-here")
            #expect(missing.status == 404)
            #expect(errorCode(missing.json) == "not_found")
        }
        #expect(try s.state.store.count() == 0, "no malformed write may store anything")
    }

    /// A known path with another method is 405 with the allowed methods; an unknown path stays 404.
    @Test func wrongMethodIs405() async throws {
        let s = try TestService()
        let cases: [(String, HTTPRequest.Method, String)] = [
            ("/v1/embed", .get, "POST"), ("/v1/search", .put, "POST"), ("/v1/models", .delete, "GET, HEAD"),
            ("/v1/items", .put, "POST, DELETE"), ("/v1/items/abc", .post, "GET, HEAD, DELETE"), ("/readyz", .post, "GET, HEAD"),
            ("/", .delete, "GET, HEAD"), ("/v1/embed", .head, "POST"),
        ]
        try await s.test { client in
            for (uri, method, allow) in cases {
                try await client.execute(uri: uri, method: method, headers: [.contentType: "application/json"], body: ByteBuffer(string: "{}")) { response in
                    #expect(response.status == .methodNotAllowed, "\(method) \(uri)")
                    #expect(response.headers[.allow] == allow, "\(method) \(uri)")
                    #expect(response.headers[.contentType] == "application/json")
                    // A HEAD answer has the headers but no body.
                    guard method != .head else { #expect(response.body.readableBytes == 0); return }
                    let json = (try? JSONSerialization.jsonObject(with: Data(response.body.readableBytesView))) as? [String: Any] ?? [:]
                    #expect(errorCode(json) == "method_not_allowed", "\(method) \(uri)")
                    #expect((json["error"] as? [String: Any])?["request_id"] as? String == response.headers[.init("X-Request-Id")!])
                }
            }
            for uri in ["/v1/nothing", "/v1/items/a/b", "/v1"] {
                let r = try await client.json(uri, method: .get)
                #expect(r.status == 404, "\(uri)")
                #expect(errorCode(r.json) == "not_found", "\(uri)")
            }
            // A route's own 404 (an unknown item) is not turned into 405.
            #expect(errorCode(try await client.json("/v1/items/unknown", method: .get).json) == "not_found")
        }
    }

    @Test func slowRequestsTimeOutWithAJSONError() async throws {
        // The batch waits 3 s, far past the 20 ms timeout, so a busy machine cannot make the work win.
        let s = try TestService(batchWaitMilliseconds: 3000, timeoutMilliseconds: 20)
        try await s.test { client in
            let r = try await client.json("/v1/embed", body: "{\"inputs\":[\(vectorJSON(sampleInput(0)))]}")
            #expect(r.status == 503)
            #expect(errorCode(r.json) == "timeout")
        }
    }
}
