import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
@testable import Service

/// A service over the demo model in a temporary folder, with a fresh store and a known key.
struct TestService {
    static let key = "test-key-0123456789abcdef"
    let state: ServiceState
    let folder: URL

    init(maxInputs: Int = 256, maxBodyBytes: Int = 1 << 20, apiKey: String? = TestService.key, batchWaitMilliseconds: Int = 2,
         timeoutMilliseconds: Int = 30_000) throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("siamese-service-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let modelFolder = folder.appendingPathComponent("model")
        try DemoModelProvider.build(into: modelFolder)
        let model = try SiameseModelAdapter(folder: modelFolder)
        var c = ServiceConfiguration()
        c.maxInputs = maxInputs
        c.maxBodyBytes = maxBodyBytes
        c.apiKey = apiKey
        c.batchWaitMilliseconds = batchWaitMilliseconds
        c.timeoutMilliseconds = timeoutMilliseconds
        let store = folder.appendingPathComponent("store.sqlite").path
        state = try ServiceState(model: model, storePath: store, indexPath: store + ".hnsw", configuration: c)
    }

    var model: SiameseModelAdapter { state.model as! SiameseModelAdapter }
    var modelFolder: URL { folder.appendingPathComponent("model") }

    func application() -> some ApplicationProtocol {
        Application(router: ServiceRouter.make(state: state), logger: Logger(label: "test"))
    }

    /// Runs `body` against the router (no sockets).
    func test(_ body: @escaping @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        try await application().test(.router, body)
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
func sampleInput(_ seed: Int, dimension: Int = DemoModelProvider.inputDimension) -> [Float] {
    (0..<dimension).map { Float(sin(Double(seed * 31 + $0 * 7))) }
}

/// Cosine similarity in double precision, computed here independently of the service.
func referenceCosine(_ a: [Float], _ b: [Float]) -> Double {
    var d = 0.0, na = 0.0, nb = 0.0
    for i in a.indices { d += Double(a[i]) * Double(b[i]); na += Double(a[i]) * Double(a[i]); nb += Double(b[i]) * Double(b[i]) }
    return d / (na.squareRoot() * nb.squareRoot())
}

func floats(_ any: Any?) -> [Float] { (any as? [Any] ?? []).compactMap { ($0 as? NSNumber)?.floatValue } }
