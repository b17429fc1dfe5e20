import Evaluation
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Siamese
import Tensors
import Testing
@testable import Service

/// Cosine similarity of two embeddings in double precision, computed here.
private func cosine(_ a: [Float], _ b: [Float]) -> Double { referenceCosine(a, b) }

@Suite("Service demo model") struct DemoModelTests {
    func temporaryFolder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("siamese-demo-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// The default path of `siamese serve` (no --model): the signature verifier is trained once,
    /// cached, reloaded without training, and its calibrated threshold decides /v1/verify.
    @Test func defaultModelIsTheTrainedSignatureVerifier() async throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        var configuration = ServiceConfiguration()
        configuration.demoCache = folder.appendingPathComponent("cache").path
        configuration.store = folder.appendingPathComponent("store.sqlite").path
        let state = try ServiceApp.makeState(configuration, logger: Logger(label: "test"))
        let model = try #require(state.model as? SiameseModelAdapter)
        #expect(model.name == "signature-demo" && model.kind == .vector)
        #expect(model.inputDimension == 3 * SignatureDemo.Configuration.standard.steps)

        // Cached: the folder holds the model and its calibration, and loading again trains nothing.
        let modelFolder = URL(fileURLWithPath: configuration.demoCache!)
            .appendingPathComponent(DemoModelProvider.folderName(DemoModelProvider.configuration, seed: DemoModelProvider.seed))
        let record = try #require(try CalibrationRecord.load(fromModelDirectory: modelFolder))
        #expect(model.fingerprint == (try ModelFolder(modelFolder).fingerprint()))
        let again = try DemoModelProvider.load(cacheDirectory: URL(fileURLWithPath: configuration.demoCache!))
        #expect(!again.trained)
        #expect(again.model.fingerprint == model.fingerprint)
        let staging = try FileManager.default.contentsOfDirectory(atPath: configuration.demoCache!).filter { $0.hasPrefix(".") }
        #expect(staging.isEmpty, "no staging folder is left behind: \(staging)")

        let app = Application(router: ServiceRouter.make(state: state), logger: Logger(label: "test"))
        try await app.test(.router) { client in
            let models = try await client.json("/v1/models", method: .get)
            let m = try #require((models.json["models"] as? [[String: Any]])?.first)
            #expect(m["input_dimension"] as? Int == model.inputDimension)
            let cal = try #require(m["calibration"] as? [String: Any])
            #expect(abs((cal["threshold"] as? Double ?? .nan) - record.threshold) < 1e-12)
            let examples = try #require(m["examples"] as? [[String: Any]])
            #expect(examples.map { $0["name"] as? String } == ["genuine", "skilled_forgery", "other_writer"])
            #expect(examples.map { $0["same"] as? Bool } == [true, false, false])

            // Each example through /v1/verify: the score is the cosine of the model's embeddings
            // (compared in double precision here) and the decision is score ≥ calibrated threshold.
            for example in DemoModelProvider.examples() {
                guard case .vector(let a) = example.a, case .vector(let b) = example.b else { Issue.record("not vectors"); continue }
                let v = try await client.json("/v1/verify", body: "{\"a\":\(vectorJSON(a)),\"b\":\(vectorJSON(b))}")
                #expect(v.status == 200)
                let e = try model.embed([.vector(a), .vector(b)])
                let expected = cosine(e[0], e[1])
                let score = try #require(v.json["score"] as? Double)
                #expect(abs(score - expected) < 1e-5, "\(example.name)")
                #expect(abs((v.json["threshold"] as? Double ?? .nan) - record.threshold) < 1e-12)
                #expect(v.json["same"] as? Bool == (score >= record.threshold), "\(example.name)")
                #expect((v.json["rule"] as? [String: Any])?["kind"] as? String == "eer")
            }
        }

        // The served model verifies signatures of writers it never saw: genuine pairs accepted,
        // skilled forgeries and other writers rejected, far better than chance (counted here
        // over writers after the demo's and the examples' own).
        let generator = SignatureGenerator(steps: DemoModelProvider.configuration.steps, seed: DemoModelProvider.seed)
        var correct = 0, total = 0, genuineScores: [Double] = [], forgeryScores: [Double] = []
        for w in 200..<230 {
            let ref = generator.genuine(writer: w, sample: 0)
            let e = try model.embed([.vector(ref), .vector(generator.genuine(writer: w, sample: 1)),
                                     .vector(generator.forgery(writer: w, sample: 0)), .vector(generator.genuine(writer: w + 1, sample: 0))])
            let scores = (1...3).map { cosine(e[0], e[$0]) }
            genuineScores.append(scores[0])
            forgeryScores.append(scores[1])
            correct += (scores[0] >= record.threshold ? 1 : 0) + (scores[1] < record.threshold ? 1 : 0) + (scores[2] < record.threshold ? 1 : 0)
            total += 3
        }
        let accuracy = Double(correct) / Double(total)
        #expect(accuracy >= 0.8, "accuracy \(accuracy) on 90 pairs of unseen writers")
        let meanGenuine: Double = genuineScores.reduce(0, +) / Double(genuineScores.count)
        let meanForgery: Double = forgeryScores.reduce(0, +) / Double(forgeryScores.count)
        #expect(meanGenuine > meanForgery + 0.05, "mean genuine \(meanGenuine), mean skilled forgery \(meanForgery)")
    }

    /// A cache folder another server finished first is kept; a broken leftover is replaced.
    @Test func publishingKeepsAUsableCacheAndReplacesABrokenOne() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let target = folder.appendingPathComponent("signature-demo-x")
        try TinyModel.build(into: target)
        let first = try ModelFolder(target).fingerprint()

        // A second, different model published onto a usable folder leaves the first in place.
        let staging = folder.appendingPathComponent(".staging")
        try TinyModel.build(into: staging)
        try Data("changed".utf8).write(to: staging.appendingPathComponent("marker"))
        try DemoModelProvider.publish(staging, as: target)
        #expect(try ModelFolder(target).fingerprint() == first)
        #expect(!FileManager.default.fileExists(atPath: target.appendingPathComponent("marker").path))

        // A leftover without calibration (or weights) is replaced by the new folder.
        try FileManager.default.removeItem(at: target.appendingPathComponent(CalibrationRecord.fileName))
        try DemoModelProvider.publish(staging, as: target)
        #expect(FileManager.default.fileExists(atPath: target.appendingPathComponent("marker").path))
        #expect(try CalibrationRecord.load(fromModelDirectory: target) != nil)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted() == ["signature-demo-x"])
    }

    @Test func cacheFolderNameFollowsTheTrainingConfiguration() {
        let standard = DemoModelProvider.folderName(.standard, seed: 7)
        #expect(standard == DemoModelProvider.folderName(.standard, seed: 7))
        #expect(standard != DemoModelProvider.folderName(.standard, seed: 8))
        var changed = SignatureDemo.Configuration.standard
        changed.epochs += 1
        #expect(standard != DemoModelProvider.folderName(changed, seed: 7))
        #expect(standard.hasPrefix("signature-demo-"))
    }
}
