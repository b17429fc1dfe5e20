import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix

/// Builds the service's router: the `/v1` JSON API, health and readiness, metrics, the OpenAPI
/// document and the web page.
public enum ServiceRouter {
    public typealias Context = ServiceRequestContext

    /// One route of the API, as the router serves it and the OpenAPI document describes it.
    struct Route: Sendable {
        let method: HTTPRequest.Method
        /// Path in OpenAPI form (`/v1/items/{id}`).
        let path: String
        let requiresKey: Bool
    }

    public static func make(state: ServiceState) -> Router<Context> {
        // HEAD on every GET route answers like GET without the body (not 405).
        let router = Router(context: Context.self, options: .autoGenerateHeadEndpoints)
        router.add(middleware: RequestMiddleware(state: state))

        router.get("/healthz") { _, _ in try json(["status": "ok"]) }
        router.get("/readyz") { _, _ in
            if state.isShuttingDown { throw APIError(.notReady, "the server is shutting down") }
            do { _ = try await state.vectorStore.fingerprint() } catch { throw APIError(.notReady, "the store cannot be read") }
            return try json(["status": "ready"])
        }
        router.get("/metrics") { _, _ in
            let text = state.metrics.exposition(batcher: state.batcher.statistics, storeItems: (try? await state.vectorStore.count()) ?? 0)
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(string: text)))
        }
        router.get("/openapi.json") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"],
                     body: .init(byteBuffer: ByteBuffer(bytes: OpenAPIDocument.data(state: state))))
        }
        router.get("/") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8", .contentSecurityPolicy: WebPage.contentSecurityPolicy],
                     body: .init(byteBuffer: ByteBuffer(string: WebPage.html)))
        }

        router.post("/v1/embed") { request, context in
            try await handle(request, context, state) { try await state.embed($0) }
        }
        router.post("/v1/compare") { request, context in
            try await handle(request, context, state) { try await state.compare($0) }
        }
        router.post("/v1/verify") { request, context in
            try await handle(request, context, state) { try await state.verify($0) }
        }
        router.post("/v1/search") { request, context in
            try await handle(request, context, state) { try await state.search($0) }
        }
        router.post("/v1/rerank") { request, context in
            try await handle(request, context, state) { try await state.rerank($0) }
        }
        router.post("/v1/duplicates") { request, context in
            // Over the whole store it is the heaviest route: it needs the key when one is configured.
            // It also stops, between tiles, once the client has closed its connection.
            let connected = context.clientConnectedCheck()
            return try await handle(request, context, state) {
                try await state.duplicates($0, authorizeStore: { try authorize(request, state) }, clientConnected: connected)
            }
        }
        router.post("/v1/items") { request, context in
            try authorize(request, state)
            return try await handle(request, context, state) { try await state.upsert($0) }
        }
        router.delete("/v1/items") { request, context in
            try authorize(request, state)
            return try await handle(request, context, state) { try await state.delete($0) }
        }
        router.get("/v1/items/:id") { request, context in
            let id = try pathID(context)
            return try await timed(state) { try encode(try await state.item(id)) }
        }
        router.delete("/v1/items/:id") { request, context in
            try authorize(request, state)
            let id = try pathID(context)
            return try await timed(state) { try encode(try await state.deleteItem(id)) }
        }
        router.get("/v1/models") { _, _ in try encode(try await state.models()) }
        router.post("/v1/admin/save-index") { request, _ in
            try authorize(request, state)
            return try await timed(state) {
                try await state.write { try state.flush() }
                return try json(["saved": state.sqliteIndex?.indexPath != nil ? "true" : "false"])
            }
        }
        return router
    }

    /// Every route, for the OpenAPI document and its test.
    static let routes: [Route] = [
        Route(method: .get, path: "/", requiresKey: false),
        Route(method: .get, path: "/healthz", requiresKey: false),
        Route(method: .get, path: "/readyz", requiresKey: false),
        Route(method: .get, path: "/metrics", requiresKey: false),
        Route(method: .get, path: "/openapi.json", requiresKey: false),
        Route(method: .post, path: "/v1/embed", requiresKey: false),
        Route(method: .post, path: "/v1/compare", requiresKey: false),
        Route(method: .post, path: "/v1/verify", requiresKey: false),
        Route(method: .post, path: "/v1/search", requiresKey: false),
        Route(method: .post, path: "/v1/rerank", requiresKey: false),
        Route(method: .post, path: "/v1/duplicates", requiresKey: false),
        Route(method: .post, path: "/v1/items", requiresKey: true),
        Route(method: .delete, path: "/v1/items", requiresKey: true),
        Route(method: .get, path: "/v1/items/{id}", requiresKey: false),
        Route(method: .delete, path: "/v1/items/{id}", requiresKey: true),
        Route(method: .get, path: "/v1/models", requiresKey: false),
        Route(method: .post, path: "/v1/admin/save-index", requiresKey: true),
    ]

    /// The methods of the routes whose pattern matches `path` (`{id}` matches one segment).
    /// The route pattern a path matches, in the router's form (`/v1/items/:id`), whatever the
    /// method: the label a 405 is counted under in `/metrics`.
    static func pattern(forPath path: String) -> String? {
        let segments = path.split(separator: "/")
        return routes.first { route in
            let pattern = route.path.split(separator: "/")
            return pattern.count == segments.count
                && zip(pattern, segments).allSatisfy { p, s in p.hasPrefix("{") && p.hasSuffix("}") || p == s }
        }.map { route in
            route.path == "/" ? "/" : "/" + route.path.split(separator: "/").map { $0.hasPrefix("{") ? ":" + $0.dropFirst().dropLast() : String($0) }.joined(separator: "/")
        }
    }

    static func methods(forPath path: String) -> [HTTPRequest.Method] {
        let segments = path.split(separator: "/")
        return routes.filter { route in
            let pattern = route.path.split(separator: "/")
            return pattern.count == segments.count
                && zip(pattern, segments).allSatisfy { p, s in p.hasPrefix("{") && p.hasSuffix("}") || p == s }
        }.flatMap { route -> [HTTPRequest.Method] in route.method == .get ? [.get, .head] : [route.method] }
    }

    /// The `{id}` of an item path, percent-decoded (the router hands the segment over as sent),
    /// so that ids with `é`, spaces, `/`, `?` or `%` can be named as `%C3%A9`, `%20`, `%2F`, `%3F`, `%25`.
    static func pathID(_ context: Context) throws -> String {
        let raw = try context.parameters.require("id")
        guard let id = raw.removingPercentEncoding else {
            throw APIError(.invalidValue, "the id in the path is not valid percent-encoding: '\(raw)'", field: "id")
        }
        return id
    }

    /// Reads the body (within the size limit), parses it, runs `body` under the request timeout
    /// and encodes its answer.
    static func handle(_ request: Request, _ context: Context, _ state: ServiceState,
                       _ body: @escaping @Sendable (JSONObject) async throws -> any Encodable) async throws -> Response {
        let limit = state.configuration.maxBodyBytes
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > limit {
            throw APIError(.bodyTooLarge, "the body is \(length) bytes; the limit is \(limit)")
        }
        let buffer: ByteBuffer
        do { buffer = try await request.body.collect(upTo: limit) } catch let e as HTTPResponseError where e.status == .contentTooLarge {
            // A chunked body has no Content-Length to refuse up front: collecting stops at the limit
            // (NIOTooManyBytesError, which is not an HTTPError).
            throw APIError(.bodyTooLarge, "the body is larger than the limit of \(limit) bytes")
        } catch is HTTPParserError {
            throw APIError(.badRequest, "the request body is not valid HTTP (bad chunk size or framing)")
        }
        let object = try JSONValue.parseObject(Data(buffer.readableBytesView))
        return try await timed(state) { try encode(try await body(object)) }
    }

    /// Runs `body`, answering with a timeout error if it takes longer than the configured
    /// request timeout (the work itself may finish later; its result is dropped).
    static func timed(_ state: ServiceState, _ body: @escaping @Sendable () async throws -> Response) async throws -> Response {
        let milliseconds = state.configuration.timeoutMilliseconds
        let once = Once()
        // The timer is an event loop's scheduled task, cancelled once the request has its answer
        // (a sleeping task per request, never cancelled, kept every request's timer alive for the
        // whole timeout — 15,000 of them at 500 requests/s and 30 s — and cost a wake-up each).
        var timer: Scheduled<Void>?
        defer { timer?.cancel() }
        return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Response, any Error>) in
            // The work sees `once` (``RequestScope/current``) so that a store write can take it
            // over before it begins: a write is either not started (timeout answered) or finished
            // and answered, never answered 503 and applied anyway.
            let work = RequestScope.$current.withValue(once) { Task {
                do {
                    let r = try await body()
                    if once.claim() { continuation.resume(returning: r) }
                } catch {
                    if once.claim() { continuation.resume(throwing: error) }
                }
            } }
            timer = MultiThreadedEventLoopGroup.singleton.any().scheduleTask(in: .milliseconds(Int64(milliseconds))) {
                if once.claimForTimeout() {
                    work.cancel()
                    continuation.resume(throwing: APIError(.timeout, "the request took longer than \(milliseconds) ms"))
                }
            }
        }
    }

    /// Checks the bearer token in constant time; writes are refused when no key is configured.
    static func authorize(_ request: Request, _ state: ServiceState) throws {
        guard let key = state.configuration.apiKey else {
            throw APIError(.unauthorized, "writes are disabled: the server has no API key (start it with --api-key-file FILE)")
        }
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer ") else {
            throw APIError(.unauthorized, "this route needs the header 'Authorization: Bearer <API key>'")
        }
        guard APIKey.matches(Array(header.utf8.dropFirst(7)), expected: Array(key.utf8)) else {
            throw APIError(.unauthorized, "the API key is not valid")
        }
    }

    static func encode(_ value: any Encodable) throws -> Response {
        if let direct = value as? any DirectJSON, let text = direct.directJSON {
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: text)))
        }
        // Ids and paths keep their slashes ("a/b", not "a\\/b"), as every JSON this product writes.
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        let data = try encoder.encode(value)
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func json(_ value: [String: String]) throws -> Response { try encode(value) }
}

/// API key comparison.
public enum APIKey {
    /// Compares a presented key with the expected one in time that depends only on the expected
    /// key's length, so response times reveal nothing about how much of a guess was right.
    public static func matches(_ presented: [UInt8], expected: [UInt8]) -> Bool {
        var difference = UInt8(presented.count == expected.count ? 0 : 1)
        for i in 0..<expected.count {
            difference |= (i < presented.count ? presented[i] : 0) ^ expected[i]
        }
        return difference == 0
    }
}

/// Who answers a request: its work or its timeout, exactly one of them. Once the work has begun
/// a store write (``beginWrite()``), the timeout no longer answers: the client gets the write's
/// real outcome.
final class Once: @unchecked Sendable {
    private enum State { case open, writing, claimed }
    private let lock = NSLock()
    private var state = State.open

    /// The work's answer: true for the first claim.
    func claim() -> Bool { lock.withLock { defer { state = .claimed }; return state != .claimed } }

    /// The timeout's answer: true unless the work answered or is writing.
    func claimForTimeout() -> Bool {
        lock.withLock {
            guard state == .open else { return false }
            state = .claimed
            return true
        }
    }

    /// Called before a store write: false when the timeout has already answered (do not write).
    func beginWrite() -> Bool {
        lock.withLock {
            switch state {
            case .open, .writing:
                state = .writing
                return true
            case .claimed: return false
            }
        }
    }
}

/// The answer-once state of the request the current task works for (nil outside ``ServiceRouter/timed(_:_:)``).
enum RequestScope {
    @TaskLocal static var current: Once?
}
