import EmbeddingStore
import Foundation
import PostgresNIO

/// Readable reasons for postgres-nio's errors, whose own description hides everything (it may
/// hold query text); these name the server's message and SQLSTATE, or the socket error, and
/// never a password (none is ever part of them).
enum PostgresErrors {
    /// The server's message and SQLSTATE, or what went wrong with the connection.
    static func reason(_ error: any Error) -> String {
        if let e = error as? PostgresTransactionError {
            if let inner = e.closureError ?? e.commitError ?? e.beginError { return reason(inner) }
            return "the transaction failed"
        }
        if let e = error as? PSQLError {
            if let info = e.serverInfo {
                var s = info[.message] ?? "server error"
                if let state = info[.sqlState] { s += " (SQLSTATE \(state))" }
                if let detail = info[.detail] { s += ": \(detail)" }
                return s
            }
            if let underlying = e.underlying { return "\(e.code): \(reason(underlying))" }
            return "\(e.code)"
        }
        if error is CancellationError { return "cancelled" }
        return String(describing: error)
    }

    /// The SQLSTATE of a server error, if it is one.
    static func sqlState(_ error: any Error) -> String? {
        (unwrap(error) as? PSQLError)?.serverInfo?[.sqlState]
    }

    /// The error inside a failed transaction (what its body, COMMIT or BEGIN threw), else `error`.
    static func unwrap(_ error: any Error) -> any Error {
        guard let e = error as? PostgresTransactionError else { return error }
        return e.closureError ?? e.commitError ?? e.beginError ?? error
    }

    /// True when the error means the items table does not exist (yet, or any more).
    static func isMissingTable(_ error: any Error) -> Bool { sqlState(error) == "42P01" }
}

/// An operation that ran past its time limit.
struct PostgresTimeout: Error, CustomStringConvertible {
    let seconds: Double
    var description: String { "no answer within \(seconds) s" }
}

/// Runs `body`, failing with ``PostgresTimeout`` when it has not finished after `limit` (the
/// body is then cancelled). Bounds every call into the database, so that an unreachable or
/// stopped server gives an error rather than a hang.
func withTimeout<T: Sendable>(_ limit: Duration, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: limit)
            let c = limit.components
            throw PostgresTimeout(seconds: Double(c.seconds) + Double(c.attoseconds) / 1e18)
        }
        defer { group.cancelAll() }
        guard let first = try await group.next() else { throw CancellationError() }
        return first
    }
}
