import Foundation
import Testing
@testable import Service

/// Issue 16: `POST /v1/search` takes MongoDB / Chroma style filters — plain values for equality,
/// `$eq`, `$ne`, `$in`, `$gt`, `$gte`, `$lt`, `$lte`, `$exists` — and every mistake in one is a
/// 400 that names its field.
@Suite("Service search filters") struct SearchFilterTests {
    /// Item i's metadata: lang cycles en / fr / de, year 2015…2024, tag a / b / c, status
    /// open or closed, owner only on even items.
    static func metadata(_ i: Int) -> [String: Any] {
        var m: [String: Any] = ["lang": ["en", "fr", "de"][i % 3], "year": 2015 + i % 10, "tag": ["a", "b", "c"][i % 4 % 3],
                                "status": i % 5 == 0 ? "closed" : "open"]
        if i % 2 == 0 { m["owner"] = "u\(i)" }
        return m
    }

    static let count = 60

    @Test func operatorsSelectWhatAReferenceSelects() async throws {
        let s = try TestService()
        try await s.test { client in
            let items = try (0..<Self.count).map { i in
                let m = String(decoding: try JSONSerialization.data(withJSONObject: Self.metadata(i), options: .sortedKeys), as: UTF8.self)
                return "{\"id\":\"item-\(i)\",\"vector\":\(vectorJSON(sampleInput(i))),\"metadata\":\(m)}"
            }
            let up = try await client.json("/v1/items", body: "{\"items\":[\(items.joined(separator: ","))]}", key: TestService.key)
            #expect(up.status == 200)
            func year(_ i: Int) -> Int { Self.metadata(i)["year"] as! Int }
            func string(_ i: Int, _ k: String) -> String? { Self.metadata(i)[k] as? String }
            let cases: [(String, (Int) -> Bool)] = [
                // The README's example: every kind of condition at once.
                ("{\"lang\": \"en\", \"year\": {\"$gte\": 2020, \"$lt\": 2024}, \"tag\": {\"$in\": [\"a\", \"b\"]}, \"status\": {\"$ne\": \"closed\"}, \"owner\": {\"$exists\": true}}",
                 { i in string(i, "lang") == "en" && (2020..<2024).contains(year(i)) && ["a", "b"].contains(string(i, "tag")!)
                     && string(i, "status") != "closed" && string(i, "owner") != nil }),
                // Each bound on a stored value, so that > and >=, < and <= differ.
                ("{\"year\": {\"$gt\": 2022}}", { year($0) > 2022 }),
                ("{\"year\": {\"$gte\": 2022}}", { year($0) >= 2022 }),
                ("{\"year\": {\"$lt\": 2017}}", { year($0) < 2017 }),
                ("{\"year\": {\"$lte\": 2017}}", { year($0) <= 2017 }),
                ("{\"year\": {\"$lte\": 2016.5}}", { year($0) <= 2016 }),
                ("{\"year\": {\"$in\": [2015, 2019, \"2020\"]}}", { [2015, 2019].contains(year($0)) || year($0) == 2020 }),
                ("{\"year\": 2021}", { year($0) == 2021 }),
                ("{\"year\": \"2021\"}", { year($0) == 2021 }),
                ("{\"lang\": {\"$eq\": \"fr\"}, \"owner\": {\"$exists\": false}}", { string($0, "lang") == "fr" && $0 % 2 == 1 }),
                ("{\"lang\": {\"$ne\": \"de\", \"$in\": [\"de\", \"en\"]}}", { string($0, "lang") == "en" }),
                ("{\"owner\": {\"$ne\": \"u4\"}}", { $0 != 4 }),
            ]
            for (filter, expected) in cases {
                let r = try await client.json("/v1/search", body: "{\"query\":\(vectorJSON(sampleInput(1))),\"k\":1000,\"filter\":\(filter)}")
                #expect(r.status == 200, "\(filter): \(r.json)")
                let got = Set((r.json["results"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String })
                let want = Set((0..<Self.count).filter(expected).map { "item-\($0)" })
                #expect(!want.isEmpty && want.count < Self.count, "the case \(filter) is not trivial")
                #expect(got == want, "\(filter)")
            }
        }
    }

    @Test func badFiltersAre400sNamingTheField() async throws {
        let s = try TestService()
        let v = vectorJSON(sampleInput(3))
        let many = (0..<33).map { "\"k\($0)\": 1" }.joined(separator: ",")
        let long = "[" + (0...1000).map(String.init).joined(separator: ",") + "]"
        let cases: [(String, String, String)] = [
            ("{\"year\": {\"$gte\": \"2020\"}}", "wrong_type", "filter.year.$gte"),
            ("{\"year\": {\"$gte\": true}}", "wrong_type", "filter.year.$gte"),
            ("{\"year\": {\"$regex\": \"x\"}}", "invalid_value", "filter.year.$regex"),
            ("{\"year\": {}}", "invalid_value", "filter.year"),
            ("{\"year\": null}", "wrong_type", "filter.year"),
            ("{\"year\": [2020]}", "wrong_type", "filter.year"),
            ("{\"year\": {\"$eq\": null}}", "wrong_type", "filter.year.$eq"),
            ("{\"tag\": {\"$in\": \"a\"}}", "wrong_type", "filter.tag.$in"),
            ("{\"tag\": {\"$in\": [\"a\", [1]]}}", "wrong_type", "filter.tag.$in[1]"),
            ("{\"tag\": {\"$in\": \(long)}}", "invalid_value", "filter.tag.$in"),
            ("{\"tag\": {\"$ne\": \"a\\u0000b\"}}", "invalid_value", "filter.tag.$ne"),
            ("{\"owner\": {\"$exists\": 1}}", "wrong_type", "filter.owner.$exists"),
            ("{\(many)}", "invalid_value", "filter"),
            ("{\"a\\\"b\": 1}", "invalid_value", "filter"),
            ("{\"\": 1}", "invalid_value", "filter"),
        ]
        try await s.test { client in
            for (filter, code, field) in cases {
                let r = try await client.json("/v1/search", body: "{\"query\":\(v),\"filter\":\(filter)}")
                #expect(r.status == 400, "\(filter)")
                #expect(errorCode(r.json) == code, "\(filter): \(r.json)")
                #expect((r.json["error"] as? [String: Any])?["field"] as? String == field, "\(filter): \(r.json)")
            }
            // NaN is no JSON: the parser refuses it before the filter is read.
            let nan = try await client.json("/v1/search", body: "{\"query\":\(v),\"filter\":{\"year\":{\"$gt\":NaN}}}")
            #expect(nan.status == 400 && errorCode(nan.json) == "malformed_json")
        }
    }

    /// The OpenAPI document describes the operators.
    @Test func theOpenAPIDocumentDescribesTheFilter() throws {
        let s = try TestService()
        let text = String(decoding: OpenAPIDocument.data(state: s.state), as: UTF8.self)
        for op in ["$eq", "$ne", "$in", "$gt", "$gte", "$lt", "$lte", "$exists"] { #expect(text.contains("\"\(op)\""), "\(op)") }
    }
}
