import Evaluation
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Siamese
import Tensors
@testable import Service

/// A tiny calibrated model that keeps most service tests fast (the served demo model is the
/// signature verifier, exercised in `DemoModelTests`): a seeded MLP twin (8 features → 32 → 16,
/// L2-normalised, cosine), calibrated at the equal-error rate on pairs of synthetic Gaussian classes.
enum TinyModel {
    static let inputDimension = 8
    static let seed: UInt64 = 20_261_124

    /// Writes the model and its calibration into `folder`.
    static func build(into folder: URL) throws {
        var generator = SeededGenerator(seed: seed)
        let encoder = MLPEncoder(MLPConfiguration(layers: [inputDimension, 32], embeddingDimension: 16), generator: &generator)
        let network = SiameseNetwork(encoder: encoder, distance: .cosine)
        network.isTraining = false
        try ModelFolder(folder).save(network, featureColumns: (0..<inputDimension).map { "x\($0)" })
        try calibrate(network, generator: &generator).save(toModelDirectory: folder)
    }

    /// An equal-error-rate threshold from 300 genuine and 300 impostor pairs of 12 Gaussian classes.
    static func calibrate(_ network: SiameseNetwork, generator: inout SeededGenerator) throws -> CalibrationRecord {
        let classes = 12, noise: Float = 0.35
        let centres = (0..<classes).map { _ in (0..<inputDimension).map { _ in generator.nextNormal() } }
        func sample(_ c: Int) -> [Float] { centres[c].map { $0 + noise * generator.nextNormal() } }
        var a: [[Float]] = [], b: [[Float]] = [], labels: [Bool] = []
        for i in 0..<600 {
            let c = Int(generator.next() % UInt64(classes))
            var d = c
            if i % 2 == 1 { while d == c { d = Int(generator.next() % UInt64(classes)) } }
            a.append(sample(c))
            b.append(sample(d))
            labels.append(i % 2 == 0)
        }
        let scores = withoutGradients { network.score(Tensor(rows: a), Tensor(rows: b)) }.scalars.map { Double($0) }
        let pairs = try ScoredPairs(scores: scores, labels: labels)
        return try VerificationCurve(pairs, direction: .higherIsSame).calibrate(.equalErrorRate, pairs: pairs)
    }
}

/// A service over the tiny model in a temporary folder, with a fresh store and a known key.
struct TestService {
    static let key = "test-key-0123456789abcdef"
    let state: ServiceState
    let folder: URL

    init(maxInputs: Int = 256, maxBodyBytes: Int = 1 << 20, apiKey: String? = TestService.key, batchWaitMilliseconds: Int = 2,
         timeoutMilliseconds: Int = 30_000, drainMilliseconds: Int = 0, idleTimeoutMilliseconds: Int = 30_000,
         headerTimeoutMilliseconds: Int = 10_000, bodyTimeoutMilliseconds: Int = 30_000) throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("siamese-service-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let modelFolder = folder.appendingPathComponent("model")
        try TinyModel.build(into: modelFolder)
        let model = try SiameseModelAdapter(folder: modelFolder)
        var c = ServiceConfiguration()
        c.maxInputs = maxInputs
        c.maxBodyBytes = maxBodyBytes
        c.apiKey = apiKey
        c.batchWaitMilliseconds = batchWaitMilliseconds
        c.timeoutMilliseconds = timeoutMilliseconds
        c.drainMilliseconds = drainMilliseconds
        c.idleTimeoutMilliseconds = idleTimeoutMilliseconds
        c.headerTimeoutMilliseconds = headerTimeoutMilliseconds
        c.bodyTimeoutMilliseconds = bodyTimeoutMilliseconds
        let store = folder.appendingPathComponent("store.sqlite").path
        c.store = store
        state = try ServiceState(model: model, storePath: store, indexPath: store + ".hnsw", configuration: c)
    }

    var model: SiameseModelAdapter { state.model as! SiameseModelAdapter }
    var modelFolder: URL { folder.appendingPathComponent("model") }

    func application(logger: Logger = Logger(label: "test")) -> some ApplicationProtocol {
        Application(router: ServiceRouter.make(state: state), logger: logger)
    }

    /// Runs `body` against the router (no sockets).
    func test(logger: Logger = Logger(label: "test"), _ body: @escaping @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        try await application(logger: logger).test(.router, body)
    }
}

extension TestClientProtocol {
    /// POSTs (or sends with `method`) a JSON body and returns status and parsed JSON.
    func json(_ uri: String, method: HTTPRequest.Method = .post, body: String? = nil, key: String? = nil) async throws -> (status: Int, json: [String: Any]) {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let key { headers[.authorization] = "Bearer \(key)" }
        return try await execute(uri: uri, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) }) { response in
            let data = Data(response.body.readableBytesView)
            let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
            return (Int(response.status.code), object)
        }
    }
}

/// The stable error code of an error body.
func errorCode(_ json: [String: Any]) -> String? { (json["error"] as? [String: Any])?["code"] as? String }

func vectorJSON(_ v: [Float]) -> String { "[" + v.map { "\($0)" }.joined(separator: ",") + "]" }

/// A deterministic demo-sized input.
func sampleInput(_ seed: Int, dimension: Int = TinyModel.inputDimension) -> [Float] {
    (0..<dimension).map { Float(sin(Double(seed * 31 + $0 * 7))) }
}

/// Cosine similarity in double precision, computed here independently of the service.
func referenceCosine(_ a: [Float], _ b: [Float]) -> Double {
    var d = 0.0, na = 0.0, nb = 0.0
    for i in a.indices { d += Double(a[i]) * Double(b[i]); na += Double(a[i]) * Double(a[i]); nb += Double(b[i]) * Double(b[i]) }
    return d / (na.squareRoot() * nb.squareRoot())
}

func floats(_ any: Any?) -> [Float] { (any as? [Any] ?? []).compactMap { ($0 as? NSNumber)?.floatValue } }
