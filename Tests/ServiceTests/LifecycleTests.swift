import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Testing
@testable import Service
import VectorIndex
#if canImport(Glibc)
import Glibc
#endif

/// A minimal HTTP/1.1 client over a POSIX socket (`Connection: close`), run on a Dispatch thread so
/// that its blocking calls never hold one of the few cooperative threads the server needs.
enum RawHTTP {
    struct Failure: Error { let call: String }

    static func request(port: Int, method: String, path: String, body: String = "", headers: [String: String] = [:]) async throws -> (status: Int, body: String) {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try blocking(port: port, method: method, path: path, body: body, headers: headers) })
            }
        }
    }

    static func blocking(port: Int, method: String, path: String, body: String, headers: [String: String] = [:]) throws -> (status: Int, body: String) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(call: "socket") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw Failure(call: "connect") }
        let request = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: application/json\r\n" +
            headers.map { "\($0.key): \($0.value)\r\n" }.joined() + "Content-Length: \(body.utf8.count)\r\n\r\n\(body)"
        let bytes = Array(request.utf8)
        guard send(fd, bytes, bytes.count, 0) == bytes.count else { throw Failure(call: "send") }
        var response: [UInt8] = [], buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 { break }
            response += buffer[0..<n]
        }
        let text = String(decoding: response, as: UTF8.self)
        guard let statusText = text.split(separator: " ").dropFirst().first, let status = Int(statusText) else { throw Failure(call: "parse") }
        let bodyText = text.components(separatedBy: "\r\n\r\n").dropFirst().joined(separator: "\r\n\r\n")
        return (status, bodyText)
    }
}

/// Values handed from server callbacks and log handlers to the test.
final class Box<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: T
    init(_ value: T) { self.value = value }
    func set(_ v: T) { lock.withLock { value = v } }
    func update(_ body: (inout T) -> Void) { lock.withLock { body(&value) } }
    var get: T { lock.withLock { value } }
}

/// A one-shot event: fired once from any thread (a server callback, a probe on a worker
/// thread), awaited by the test. Waiting on it instead of polling a flag against a short
/// deadline keeps a test correct on a busy 2-core machine, where the waiter may not run for
/// many seconds.
final class Event<T: Sendable>: @unchecked Sendable {
    private let condition = NSCondition()
    private var value: T?
    private var waiters: [CheckedContinuation<T, Never>] = []

    init() {}

    /// Sets the value (the first call wins) and wakes every waiter.
    func fire(_ v: T) {
        condition.lock()
        guard value == nil else { condition.unlock(); return }
        value = v
        let woken = waiters
        waiters = []
        condition.broadcast()
        condition.unlock()
        for w in woken { w.resume(returning: v) }
    }

    /// The value once fired, or nil.
    var current: T? { condition.lock(); defer { condition.unlock() }; return value }

    /// Suspends until fired.
    func wait() async -> T {
        await withCheckedContinuation { c in
            condition.lock()
            if let value {
                condition.unlock()
                c.resume(returning: value)
            } else {
                waiters.append(c)
                condition.unlock()
            }
        }
    }

    /// Blocks this (non-cooperative) thread until fired or `seconds` pass; nil on timeout. The
    /// bound only keeps a failing test from hanging for ever.
    func waitBlocking(seconds: Double) -> T? {
        let deadline = Date(timeIntervalSinceNow: seconds)
        condition.lock()
        defer { condition.unlock() }
        while value == nil && condition.wait(until: deadline) {}
        return value
    }
}

extension Event where T == Void {
    /// Fires a `Void` event.
    func fire() { fire(()) }
}

@Suite("Service lifecycle and logs") struct LifecycleTests {
    @Test func readinessIs503OnceShutdownBegins() async throws {
        let s = try TestService()
        try await s.test { client in
            #expect(try await client.json("/readyz", method: .get).status == 200)
            s.state.beginShutdown()
            let r = try await client.json("/readyz", method: .get)
            #expect(r.status == 503)
            #expect(errorCode(r.json) == "not_ready")
            // Liveness is unaffected: the process is healthy, only leaving.
            #expect(try await client.json("/healthz", method: .get).status == 200)
        }
    }

    /// Graceful shutdown over a real socket: readiness turns 503 during the drain, a request in
    /// flight when shutdown began still gets its answer, then the listener closes and the index
    /// is saved.
    @Test func gracefulShutdownDrainsAndFinishesInFlightRequests() async throws {
        // The batcher holds the in-flight embed until the test has seen readiness turn (a gate,
        // not a timed window: a loaded 2-core CI machine may not run this test for seconds at a
        // time). The drain lasts 8 s, long enough to deliver the signal and answer the polls.
        let s = try TestService(drainMilliseconds: 8000)
        let started = Event<Int>()
        let logger = Logger(label: "test")
        let app = Application(router: ServiceRouter.make(state: s.state),
                              configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              onServerRunning: { channel in started.fire(channel.localAddress?.port ?? -1) }, logger: logger)
        let group = ServiceApp.serviceGroup(s.state, app, logger: logger, onSignals: false)
        let running = Task {
            defer { started.fire(-1) }  // a server that fails to start still ends the wait
            try await ServiceApp.serve(group, state: s.state, logger: logger)
        }
        let p = await started.wait()
        try #require(p > 0, "the server did not start")
        #expect(try await RawHTTP.request(port: p, method: "GET", path: "/readyz").status == 200)
        let stored = try await RawHTTP.request(port: p, method: "POST", path: "/v1/items", body: "{\"items\":[{\"id\":\"kept\",\"vector\":\(vectorJSON(sampleInput(2)))}]}",
                                               headers: ["Authorization": "Bearer \(TestService.key)"])
        #expect(stored.status == 200, "\(stored.body)")
        let indexPath = s.folder.appendingPathComponent("store.sqlite.hnsw").path
        try? FileManager.default.removeItem(atPath: indexPath)

        let reachedModel = Event<Int>()
        let release = DispatchSemaphore(value: 0)
        defer { release.signal() }  // never leave the inference thread held, even on a failed check
        s.state.batcher.beforeBatch = { requests in
            reachedModel.fire(requests)
            release.wait()
        }
        let inFlight = Task { try await RawHTTP.request(port: p, method: "POST", path: "/v1/embed", body: "{\"inputs\":[\(vectorJSON(sampleInput(1)))]}") }
        // Shutdown begins once the request is held on its way into the model.
        let batched = await reachedModel.wait()
        try #require(batched == 1, "the request reached the model")
        await group.triggerGracefulShutdown()
        // The shutdown reaches the service asynchronously: poll readiness until it turns (within
        // the drain, while the listener is still open).
        var ready = try await RawHTTP.request(port: p, method: "GET", path: "/readyz")
        let deadline = ContinuousClock.now + .milliseconds(7500)
        while ready.status == 200 && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
            ready = try await RawHTTP.request(port: p, method: "GET", path: "/readyz")
        }
        #expect(ready.status == 503)
        #expect(ready.body.contains("\"not_ready\""))

        release.signal()
        let answer = try await inFlight.value
        #expect(answer.status == 200, "the request in flight when shutdown began must be answered")
        #expect(answer.body.contains("\"embeddings\""))
        try await running.value
        await #expect(throws: RawHTTP.Failure.self) { try await RawHTTP.request(port: p, method: "GET", path: "/healthz") }
        // Shutdown saved the index, with the item stored before it.
        let saved = try HNSWIndex.load(from: indexPath)
        #expect(saved.count == 1)
    }

    /// With `--log-format json` each request is one JSON line carrying the id the client got in
    /// `X-Request-Id` (and in error bodies).
    @Test func requestLogLinesAreJSONWithTheRequestID() async throws {
        let lines = Box<[String]>([])
        var logger = Logger(label: "siamese.serve") { label in JSONLogHandler(label: label) { line in lines.update { $0.append(line) } } }
        logger.logLevel = .info
        let s = try TestService()
        let ids = Box<[String]>([])
        try await s.test(logger: logger) { client in
            try await client.execute(uri: "/healthz", method: .get) { response in ids.set([response.headers[.init("X-Request-Id")!] ?? ""]) }
            let bad = try await client.json("/v1/embed", body: "{")
            let badID = (bad.json["error"] as? [String: Any])?["request_id"] as? String ?? "?"
            ids.update { $0.append(badID) }
        }
        let records = lines.get.compactMap { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] }
        #expect(records.count == lines.get.count, "every line is a JSON object")
        let requests = records.filter { $0["message"] as? String == "request" }
        let (okID, badID) = (ids.get[0], ids.get[1])
        #expect(!okID.isEmpty && okID != badID)
        let ok = try #require(requests.first { $0["request_id"] as? String == okID })
        #expect(ok["path"] as? String == "/healthz" && ok["status"] as? String == "200" && ok["level"] as? String == "info")
        #expect(ok["label"] as? String == "siamese.serve")
        let stamp = ok["timestamp"] as? String ?? ""
        #expect(stamp.range(of: #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$"#, options: .regularExpression) != nil, "\(stamp)")
        let failed = try #require(requests.first { $0["request_id"] as? String == badID })
        #expect(failed["status"] as? String == "400" && failed["error"] as? String == "malformed_json")
    }

    @Test func logSettingsResolveLikeTheOthers() throws {
        let c = try ServiceConfiguration.resolve(flags: ["log_format": "json"], environment: ["SIAMESE_LOG_LEVEL": "warning", "SIAMESE_DRAIN_MS": "250"])
        #expect(c.logFormat == .json && c.logLevel == "warning" && c.drainMilliseconds == 250)
        #expect(throws: ConfigurationError.self) { try ServiceConfiguration.resolve(flags: ["log_format": "xml"], environment: [:]) }
        #expect(throws: ConfigurationError.self) { try ServiceConfiguration.resolve(flags: [:], environment: ["SIAMESE_LOG_LEVEL": "loud"]) }
    }
}
