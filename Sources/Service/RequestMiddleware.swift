import Foundation
import Hummingbird
import Logging
import NIOHTTP1

/// Wraps every request: gives it an id (the `X-Request-Id` response header and the `request_id`
/// of its log line), turns every error into a JSON error body with a stable code, logs one
/// structured line per request and counts it in the metrics.
struct RequestMiddleware: RouterMiddleware {
    typealias Context = ServiceRouter.Context
    let state: ServiceState

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let clock = ContinuousClock(), start = clock.now
        let requestID = context.logger[metadataKey: "hb.request.id"]?.description ?? UUID().uuidString
        var response: Response
        var errorCode: String?
        var route = context.endpointPath ?? "unmatched"
        do {
            response = try await next(request, context)
        } catch {
            var apiError = Self.apiError(for: error)
            var allowed: [HTTPRequest.Method] = []
            if apiError.code == .notFound, !(error is APIError) {
                // The router answers 404 for a known path with another method; say 405 and list the methods.
                allowed = ServiceRouter.methods(forPath: request.uri.path)
                if !allowed.isEmpty {
                    // Counted under the route it was sent to, not with the unknown paths.
                    route = ServiceRouter.pattern(forPath: request.uri.path) ?? route
                    apiError = APIError(.methodNotAllowed, "\(request.method.rawValue) is not allowed on \(request.uri.path); allowed: \(allowed.map(\.rawValue).joined(separator: ", "))")
                }
            }
            errorCode = apiError.code.rawValue
            if apiError.code == .internalError {
                // Only the log gets the details; the client gets the request id to quote.
                context.logger.error("internal error", metadata: ["request_id": .string(requestID), "error": .string(String(describing: error))])
            }
            response = Response(status: apiError.status, headers: [.contentType: "application/json"],
                                body: .init(byteBuffer: ByteBuffer(bytes: apiError.body(requestID: requestID))))
            if apiError.code == .unauthorized { response.headers[.wwwAuthenticate] = "Bearer" }
            if !allowed.isEmpty { response.headers[.allow] = allowed.map(\.rawValue).joined(separator: ", ") }
        }
        if request.method == .head, let length = response.body.contentLength, length > 0 {
            // Errors to a HEAD request carry their headers but no body (the GET routes' own HEAD
            // answers come without one already).
            response.body = .init()
            response.headers[.contentLength] = String(length)
        }
        response.headers[.init("X-Request-Id")!] = requestID
        let elapsed = clock.now - start
        state.metrics.record(method: request.method.rawValue, route: route, status: response.status.code, duration: elapsed)
        var metadata: Logger.Metadata = [
            "request_id": .string(requestID), "method": .string(request.method.rawValue), "path": .string(request.uri.path),
            "status": .stringConvertible(response.status.code),
            "ms": .string(String(format: "%.2f", Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000)),
        ]
        if let errorCode { metadata["error"] = .string(errorCode) }
        context.logger.info("request", metadata: metadata)
        return response
    }

    /// The client-facing form of any error: ours as they are, Hummingbird's by status, and
    /// anything else as an internal error without details.
    static func apiError(for error: any Error) -> APIError {
        switch error {
        case let e as APIError: return e
        case let e as HTTPError:
            switch e.status {
            case .notFound: return APIError(.notFound, "no such route")
            case .methodNotAllowed: return APIError(.methodNotAllowed, "method not allowed on this route")
            case .contentTooLarge: return APIError(.bodyTooLarge, "the request body is too large")
            case .unauthorized: return APIError(.unauthorized, "unauthorized")
            default:
                if (400..<500).contains(e.status.code) { return APIError(.badRequest, e.body ?? e.status.reasonPhrase) }
                return APIError(.internalError, "internal error")
            }
        case let e as HTTPResponseError where e.status == .contentTooLarge: return APIError(.bodyTooLarge, "the request body is too large")
        case is HTTPParserError: return APIError(.badRequest, "the request is not valid HTTP (bad chunk size or framing)")
        case is DecodingError: return APIError(.malformedJSON, "the request body does not match the expected shape")
        default: return APIError(.internalError, "internal error")
        }
    }
}
