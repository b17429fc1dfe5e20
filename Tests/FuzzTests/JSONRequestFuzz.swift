import Evaluation
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Siamese
import Tensors
import Testing
@testable import Service

/// JSON request bodies of `siamese serve`: the strict parser (`JSONValue.parseObject`) on its own,
/// and whole requests through the router to every JSON route of a service over a tiny model.
///
/// A service input file is `METHOD /path` on its first line, then the body; mutations mostly edit
/// the body, sometimes the route.
struct JSONBodyTarget: FuzzTarget {
    let name = "json-body"
    let quickIterations = 4000

    func mutate(_ seed: [UInt8], pool: [[UInt8]], _ m: inout Mutator) -> [UInt8] {
        m.json(seed, pool: pool, dictionary: ServiceRequestTarget.dictionary)
    }

    func check(_ input: [UInt8]) -> FuzzOutcome {
        let object: JSONObject
        do { object = try JSONValue.parseObject(Data(input)) } catch { return .rejected(kind: "APIError.\(error.code.rawValue)") }
        // What the service writes back (metadata is stored as this text) parses to the same value.
        let text = JSONValue.object(object.fields).jsonText
        do {
            let back = try JSONValue.parseObject(Data(text.utf8))
            guard JSONValue.object(back.fields) == JSONValue.object(object.fields) else { return .violation("jsonText does not round-trip: \(text.prefix(200))") }
        } catch { return .violation("jsonText of an accepted body is refused: \(text.prefix(200))") }
        return .accepted
    }
}

struct ServiceRequestTarget: FuzzTarget {
    let name = "service-request"
    let quickIterations = 1500
    let client: any TestClientProtocol

    static let routes = ["POST /v1/embed", "POST /v1/compare", "POST /v1/verify", "POST /v1/search", "POST /v1/duplicates",
                         "POST /v1/items", "DELETE /v1/items", "GET /v1/items/a", "GET /v1/models", "POST /v1/admin/save-index"]
    static let dictionary = ["\"inputs\"", "\"a\"", "\"b\"", "\"input\"", "\"k\"", "\"threshold\"", "\"limit\"", "\"items\"", "\"id\"",
                             "\"ids\"", "\"metadata\"", "\"filter\"", "\"vector\"", "\"text\"", "[0,0,0,0,0,0,0,0]"]

    static func split(_ input: [UInt8]) -> (route: String, body: [UInt8]) {
        guard let nl = input.firstIndex(of: 0x0A) else { return ("POST /v1/embed", input) }
        return (String(decoding: input[..<nl], as: UTF8.self), Array(input[(nl + 1)...]))
    }

    func mutate(_ seed: [UInt8], pool: [[UInt8]], _ m: inout Mutator) -> [UInt8] {
        var (route, body) = Self.split(seed)
        if m.rng.chance(0.1) { route = m.rng.pick(Self.routes) }
        if m.rng.chance(0.03) { route += m.rng.pick(["%00", "%", "/../x", "?x=%zz", "/é", String(repeating: "a", count: 5000)]) }
        body = m.json(body, pool: pool.map { Self.split($0).body }, dictionary: Self.dictionary)
        return Array(route.utf8) + [0x0A] + body
    }

    func check(_ input: [UInt8]) async -> FuzzOutcome {
        let (route, body) = Self.split(input)
        let parts = route.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, let method = HTTPRequest.Method(String(parts[0])) else { return .rejected(kind: "not a route line") }
        var headers: HTTPFields = [.contentType: "application/json", .authorization: "Bearer \(ServiceFuzz.key)"]
        headers[.accept] = "application/json"
        do {
            let status = try await client.execute(uri: String(parts[1]), method: method, headers: headers, body: ByteBuffer(bytes: body)) {
                Int($0.status.code)
            }
            // Every bad request is the client's error: a 5xx means the service failed on input it should refuse.
            if status >= 500 { return .violation("\(route) answered \(status) to \(String(decoding: body.prefix(300), as: UTF8.self))") }
            return status < 300 ? .accepted : .rejected(kind: "HTTP \(status)")
        } catch {
            return .violation("the request failed in the client: \(error)")
        }
    }
}

/// A service over a tiny calibrated MLP twin (8 features → 16, cosine) in a temporary folder.
enum ServiceFuzz {
    static let key = "fuzz-key-0123456789abcdef"

    static func withService(_ body: @escaping @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        let folder = Fuzz.scratch("service-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        var generator = SeededGenerator(seed: 12)
        let encoder = MLPEncoder(MLPConfiguration(layers: [8, 32], embeddingDimension: 16), generator: &generator)
        let network = SiameseNetwork(encoder: encoder, distance: .cosine)
        network.isTraining = false
        let modelFolder = folder.appendingPathComponent("model")
        try ModelFolder(modelFolder).save(network, featureColumns: (0..<8).map { "x\($0)" })
        try CalibrationRecord(threshold: 0.5, scoreDirection: .higherIsSame, rule: .equalErrorRate, far: 0.1, frr: 0.1, farInterval: nil,
                              frrInterval: nil, genuineCount: 10, impostorCount: 10, dataFingerprint: "sha256:0")
            .save(toModelDirectory: modelFolder)
        var c = ServiceConfiguration()
        c.apiKey = key
        c.maxInputs = 64
        c.maxBodyBytes = 1 << 18
        c.batchWaitMilliseconds = 0
        let store = folder.appendingPathComponent("store.sqlite").path
        let state = try ServiceState(model: try SiameseModelAdapter(folder: modelFolder), storePath: store, indexPath: store + ".hnsw", configuration: c)
        let app = Application(router: ServiceRouter.make(state: state), logger: Logger(label: "fuzz"))
        try await app.test(.router, body)
    }
}

@Suite("fuzz: JSON requests") struct JSONRequestFuzz {
    @Test("corpus replay, then mutated bodies: the strict parser accepts an object that round-trips, or refuses with an APIError")
    func parser() async throws { try await Fuzz.run(JSONBodyTarget()) }

    @Test("corpus replay, then mutated requests to every JSON route: never a 5xx")
    func routes() async throws {
        try await ServiceFuzz.withService { client in try await Fuzz.run(ServiceRequestTarget(client: client)) }
    }
}
