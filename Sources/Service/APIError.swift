import Foundation
import HTTPTypes

/// An error the API reports to its client: an HTTP status, a stable machine-readable code, a
/// message for people, and the JSON field at fault when there is one.
///
/// Every failure of a request ends as one of these (``ErrorMiddleware`` converts the rest), so
/// clients always get `{"error":{"code":…,"message":…}}` and never a stack trace.
public struct APIError: Error, Sendable, CustomStringConvertible {
    /// Stable error codes; clients may switch on them.
    public enum Code: String, Sendable, CaseIterable {
        case malformedJSON = "malformed_json"
        case unknownField = "unknown_field"
        case missingField = "missing_field"
        case wrongType = "wrong_type"
        case invalidValue = "invalid_value"
        case nonFinite = "non_finite_number"
        case wrongDimension = "wrong_dimension"
        case inputKindMismatch = "input_kind_mismatch"
        case tooManyInputs = "too_many_inputs"
        case bodyTooLarge = "body_too_large"
        case unauthorized = "unauthorized"
        case notFound = "not_found"
        case methodNotAllowed = "method_not_allowed"
        case notCalibrated = "not_calibrated"
        /// The service was started without a cross-encoder (`--rerank-model`).
        case noReranker = "no_reranker"
        case storeConflict = "store_conflict"
        case timeout = "timeout"
        case notReady = "not_ready"
        /// A heavy route is at its concurrency limit (429; retry later).
        case busy = "busy"
        case modelUnavailable = "model_unavailable"
        /// The PostgreSQL store cannot be reached or failed (503; retry: the pool reconnects).
        case storeUnavailable = "store_unavailable"
        /// The client closed its connection before the answer (499, as nginx logs it): the work
        /// was stopped; only the request log ever sees this.
        case clientClosed = "client_closed"
        case badRequest = "bad_request"
        case internalError = "internal_error"

        /// The HTTP status each code is sent with.
        public var status: HTTPResponse.Status {
            switch self {
            case .malformedJSON, .unknownField, .missingField, .wrongType, .invalidValue, .badRequest: .badRequest
            case .nonFinite, .wrongDimension, .inputKindMismatch, .tooManyInputs: .unprocessableContent
            case .bodyTooLarge: .contentTooLarge
            case .unauthorized: .unauthorized
            case .notFound: .notFound
            case .methodNotAllowed: .methodNotAllowed
            case .notCalibrated, .noReranker, .storeConflict: .conflict
            case .busy: .tooManyRequests
            case .timeout, .notReady, .modelUnavailable, .storeUnavailable: .serviceUnavailable
            case .clientClosed: HTTPResponse.Status(code: 499, reasonPhrase: "Client Closed Request")
            case .internalError: .internalServerError
            }
        }
    }

    public var code: Code
    public var message: String
    public var field: String?

    public init(_ code: Code, _ message: String, field: String? = nil) {
        self.code = code
        self.message = message
        self.field = field
    }

    public var status: HTTPResponse.Status { code.status }
    public var description: String { "\(code.rawValue): \(message)" }

    /// The JSON body sent to the client.
    func body(requestID: String?) -> Data {
        var error: [String: Any] = ["code": code.rawValue, "message": message]
        if let field { error["field"] = field }
        if let requestID { error["request_id"] = requestID }
        return (try? JSONSerialization.data(withJSONObject: ["error": error], options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data(#"{"error":{"code":"internal_error","message":"unencodable error"}}"#.utf8)
    }
}
