import Evaluation
import Foundation
import Hummingbird
import HummingbirdTesting
import Siamese
import Testing
@testable import Service

/// The tiny MLP's embedding computed here in double precision from its weights
/// (x·W0ᵀ + b0 → ReLU → ·W1ᵀ + b1 → L2-normalise), independently of the tensor engine.
func referenceEmbedding(_ network: SiameseNetwork, _ x: [Float]) -> [Double] {
    let p = Dictionary(uniqueKeysWithValues: network.namedParameters.map { ($0.name, $0.parameter.value) })
    func linear(_ h: [Double], _ layer: Int) -> [Double] {
        let w = p["encoder.layers.\(layer).weight"]!, b = p["encoder.layers.\(layer).bias"]!.scalars
        let (out, inp) = (w.shape[0], w.shape[1]), ws = w.scalars
        return (0..<out).map { o in (0..<inp).reduce(Double(b[o])) { $0 + Double(ws[o * inp + $1]) * h[$1] } }
    }
    let h = linear(linear(x.map(Double.init), 0).map { max(0, $0) }, 1)
    let norm = h.reduce(0) { $0 + $1 * $1 }.squareRoot()
    return h.map { $0 / norm }
}

@Suite("Service API") struct APITests {
    @Test func healthReadyModelsAndPage() async throws {
        let s = try TestService()
        try await s.test { client in
            #expect(try await client.json("/healthz", method: .get).json["status"] as? String == "ok")
            #expect(try await client.json("/readyz", method: .get).json["status"] as? String == "ready")
            let models = try await client.json("/v1/models", method: .get)
            #expect(models.status == 200)
            let m = try #require((models.json["models"] as? [[String: Any]])?.first)
            #expect(m["kind"] as? String == "vector")
            #expect(m["dimension"] as? Int == 16)
            #expect(m["input_dimension"] as? Int == TinyModel.inputDimension)
            #expect(m["examples"] == nil, "only the demo model lists example pairs")
            #expect(m["fingerprint"] as? String == (try ModelFolder(s.modelFolder).fingerprint()))
            let record = try #require(try CalibrationRecord.load(fromModelDirectory: s.modelFolder))
            let cal = try #require(m["calibration"] as? [String: Any])
            #expect(abs((cal["threshold"] as? Double ?? 0) - record.threshold) < 1e-12)
            #expect(cal["rule"] as? String == "eer")
            try await client.execute(uri: "/", method: .get) { response in
                #expect(response.status == .ok)
                let html = String(buffer: response.body)
                #expect(html.contains("id=\"compare-form\"") && html.contains("id=\"search-form\""))
                #expect(html.contains("id=\"search-k\"") && html.contains("id=\"search-filter\""), "the search takes k and a metadata filter")
                #expect(!html.contains("http://") && !html.contains("https://"), "the page must not load anything from the network")
            }
            // A 405 is counted under the route it was sent to (it was "unmatched", with the 404s).
            #expect(try await client.json("/v1/models", method: .post).status == 405)
            #expect(try await client.json("/v1/items/abc", method: .put).status == 405)
            try await client.execute(uri: "/metrics", method: .get) { response in
                let text = String(buffer: response.body)
                #expect(text.contains("siamese_http_requests_total"))
                #expect(text.contains(#"method="POST",route="/v1/models",status="405""#), "\(text)")
                #expect(text.contains(#"method="PUT",route="/v1/items/:id",status="405""#), "\(text)")
            }
        }
    }

    @Test func embedMatchesAnIndependentReference() async throws {
        let s = try TestService()
        let inputs = (0..<3).map { sampleInput($0) }
        try await s.test { client in
            let r = try await client.json("/v1/embed", body: "{\"inputs\":[\(inputs.map(vectorJSON).joined(separator: ","))]}")
            #expect(r.status == 200)
            let rows = (r.json["embeddings"] as? [Any] ?? []).map(floats)
            #expect(rows.count == 3)
            for (row, x) in zip(rows, inputs) {
                let reference = referenceEmbedding(s.model.network, x)
                #expect(row.count == reference.count)
                for (a, b) in zip(row, reference) { #expect(abs(Double(a) - b) < 1e-5) }
            }
        }
    }

    @Test func compareAndVerifyUseTheModelScoreAndCalibration() async throws {
        let s = try TestService()
        let record = try #require(try CalibrationRecord.load(fromModelDirectory: s.modelFolder))
        let (a, b) = (sampleInput(1), sampleInput(2))
        let expected = { () -> Double in
            let (ea, eb) = (referenceEmbedding(s.model.network, a), referenceEmbedding(s.model.network, b))
            return zip(ea, eb).reduce(0) { $0 + $1.0 * $1.1 }
        }()
        try await s.test { client in
            let body = "{\"a\":\(vectorJSON(a)),\"b\":\(vectorJSON(b))}"
            let c = try await client.json("/v1/compare", body: body)
            #expect(c.status == 200)
            let score = try #require(c.json["score"] as? Double)
            #expect(abs(score - expected) < 1e-5)
            #expect(c.json["score_direction"] as? String == "higher_is_same")
            let v = try await client.json("/v1/verify", body: body)
            #expect(v.status == 200)
            #expect(abs((v.json["threshold"] as? Double ?? 0) - record.threshold) < 1e-12)
            #expect(v.json["same"] as? Bool == (expected >= record.threshold))
            #expect((v.json["rule"] as? [String: Any])?["kind"] as? String == "eer")
            // Identical inputs are "same"; a threshold above 1 makes nothing same.
            let same = try await client.json("/v1/verify", body: "{\"a\":\(vectorJSON(a)),\"b\":\(vectorJSON(a))}")
            #expect(same.json["same"] as? Bool == true)
            let strict = try await client.json("/v1/verify", body: "{\"a\":\(vectorJSON(a)),\"b\":\(vectorJSON(a)),\"threshold\":1.5}")
            #expect(strict.json["same"] as? Bool == false)
            #expect((strict.json["rule"] as? [String: Any])?["source"] as? String == "request")
        }
    }

    @Test func upsertThenSearchFindsItThenDeleteRemovesIt() async throws {
        let s = try TestService()
        try await s.test { client in
            let items = (0..<20).map { i in
                "{\"id\":\"item-\(i)\",\"text\":\"number \(i)\",\"vector\":\(vectorJSON(sampleInput(i))),\"metadata\":{\"parity\":\"\(i % 2 == 0 ? "even" : "odd")\",\"n\":\(i)}}"
            }
            let up = try await client.json("/v1/items", body: "{\"items\":[\(items.joined(separator: ","))]}", key: TestService.key)
            #expect(up.status == 200)
            #expect(up.json["upserted"] as? Int == 20)
            // The stored item comes back as sent.
            let got = try await client.json("/v1/items/item-7", method: .get)
            #expect(got.json["text"] as? String == "number 7")
            #expect((got.json["metadata"] as? [String: Any])?["n"] as? Int == 7)
            // Querying with item 7's own input finds item 7 first, with cosine 1.
            let q = try await client.json("/v1/search", body: "{\"query\":\(vectorJSON(sampleInput(7))),\"k\":5}")
            #expect(q.status == 200)
            let results = q.json["results"] as? [[String: Any]] ?? []
            #expect(results.count == 5)
            #expect(results.first?["id"] as? String == "item-7")
            #expect(abs((results.first?["score"] as? Double ?? 0) - 1) < 1e-4)
            #expect(results.first?["text"] as? String == "number 7")
            // A metadata filter keeps only matching items.
            let f = try await client.json("/v1/search", body: "{\"query\":\(vectorJSON(sampleInput(7))),\"k\":20,\"filter\":{\"parity\":\"even\"}}")
            let filtered = f.json["results"] as? [[String: Any]] ?? []
            #expect(filtered.count == 10)
            #expect(filtered.allSatisfy { (($0["metadata"] as? [String: Any])?["parity"] as? String) == "even" })
            let n = try await client.json("/v1/search", body: "{\"query\":\(vectorJSON(sampleInput(7))),\"k\":20,\"filter\":{\"n\":3}}")
            #expect((n.json["results"] as? [[String: Any]])?.map { $0["id"] as? String } == ["item-3"])
            // Searching with item 7's embedding ("vector") gives the same hits as its input; "ef"
            // is taken per request; each malformed vector search is a 400 naming the field.
            let embedded = try await client.json("/v1/embed", body: "{\"inputs\":[\(vectorJSON(sampleInput(7)))]}")
            let embedding = (embedded.json["embeddings"] as? [[Double]])?.first ?? []
            #expect(!embedding.isEmpty)
            let byVector = try await client.json("/v1/search", body: "{\"vector\":\(embedding),\"k\":5,\"ef\":64}")
            #expect(byVector.status == 200)
            #expect((byVector.json["results"] as? [[String: Any]])?.map { $0["id"] as? String } == results.map { $0["id"] as? String })
            for (body, field) in [
                ("{\"vector\":\(Array(embedding.dropLast()))}", "vector"),
                ("{\"vector\":\(embedding),\"query\":\(vectorJSON(sampleInput(7)))}", "vector"),
                ("{\"vector\":\"text\"}", "vector"),
                ("{\"k\":3}", "query"),
                ("{\"vector\":\(embedding),\"ef\":0}", "ef"),
            ] {
                let bad = try await client.json("/v1/search", body: body)
                #expect(bad.status == 400, "\(body)")
                #expect((bad.json["error"] as? [String: Any])?["field"] as? String == field, "\(body)")
            }
            // Delete, then it is gone from search and from the store.
            let del = try await client.json("/v1/items", method: .delete, body: "{\"ids\":[\"item-7\",\"nope\"]}", key: TestService.key)
            #expect(del.json["deleted"] as? Int == 1)
            let after = try await client.json("/v1/search", body: "{\"query\":\(vectorJSON(sampleInput(7))),\"k\":20}")
            #expect(!(after.json["results"] as? [[String: Any]] ?? []).contains { $0["id"] as? String == "item-7" })
            #expect(try await client.json("/v1/items/item-7", method: .get).status == 404)
        }
        #expect(try s.state.store.count() == 19)
    }

    @Test func duplicatesAmongInputsAndInTheStore() async throws {
        let s = try TestService()
        let base = sampleInput(3)
        let near = base.map { $0 + 0.001 }
        let inputs = [base, sampleInput(9), near]
        try await s.test { client in
            let r = try await client.json("/v1/duplicates", body: "{\"inputs\":[\(inputs.map(vectorJSON).joined(separator: ","))],\"threshold\":0.999}")
            #expect(r.status == 200)
            let pairs = r.json["pairs"] as? [[String: Any]] ?? []
            // Reference: pairs whose embeddings' cosine (computed here) is ≥ 0.999.
            let e = inputs.map { referenceEmbedding(s.model.network, $0) }
            var expected: [String] = []
            for i in 0..<3 { for j in (i + 1)..<3 where zip(e[i], e[j]).reduce(0, { $0 + $1.0 * $1.1 }) >= 0.999 { expected.append("\(i)-\(j)") } }
            #expect(expected.contains("0-2"))
            #expect(Set(pairs.map { "\($0["a"] as? String ?? "")-\($0["b"] as? String ?? "")" }) == Set(expected))
            let items = "{\"items\":[{\"id\":\"x\",\"vector\":\(vectorJSON(base))},{\"id\":\"y\",\"vector\":\(vectorJSON(near))},{\"id\":\"z\",\"vector\":\(vectorJSON(sampleInput(9)))}]}"
            #expect(try await client.json("/v1/items", body: items, key: TestService.key).status == 200)
            // Over the store, the key is needed when the server has one.
            let refused = try await client.json("/v1/duplicates", body: "{\"threshold\":0.999}")
            #expect(refused.status == 401)
            let st = try await client.json("/v1/duplicates", body: "{\"threshold\":0.999}", key: TestService.key)
            let storePairs = st.json["pairs"] as? [[String: Any]] ?? []
            #expect(storePairs.count == expected.count)
            #expect(storePairs.contains { Set([$0["a"] as? String, $0["b"] as? String]) == Set(["x", "y"]) })
        }
    }
}
