import EmbeddingStore
import Foundation
import NIOPosix
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
///
/// The answer comes at the deadline even when `body` ignores its cancellation: a task group would
/// wait for its child to finish, and a query on a connection that PostgreSQL dropped while it was
/// stopped was seen never to finish — which held a request, and with it the service's graceful
/// shutdown, for ever. The body then finishes (or not) in the background, cancelled.
func withTimeout<T: Sendable>(_ limit: Duration, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    // One task for the body and an event loop's scheduled task as the timer: every database call
    // pays for this, so it stays small (the earlier version spent three tasks and a sleeping one
    // per call; a Dispatch timer woke Dispatch's manager thread each time).
    let once = ResumeOnce<T>()
    let work = Task {
        do { once.resume(.success(try await body())) } catch { once.resume(.failure(error)) }
    }
    let c = limit.components
    let seconds = Double(c.seconds) + Double(c.attoseconds) / 1e18
    let timer = MultiThreadedEventLoopGroup.singleton.any().scheduleTask(in: .nanoseconds(Int64(min(seconds, 1e9) * 1e9))) {
        work.cancel()
        once.resume(.failure(PostgresTimeout(seconds: seconds)))
    }
    defer { timer.cancel() }
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { once.set($0) }
    } onCancel: {
        work.cancel()
        once.resume(.failure(CancellationError()))
    }
}

/// A continuation resumed exactly once, by whichever of the body, the timer and cancellation
/// comes first; a result that comes before the continuation is set is kept for it.
/// `@unchecked Sendable`: every access holds `lock`.
final class ResumeOnce<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var continuation: CheckedContinuation<T, Error>?
    private var pending: Result<T, Error>?
    private var finished = false

    func set(_ c: CheckedContinuation<T, Error>) {
        lock.lock()
        if let pending, !finished {
            finished = true
            lock.unlock()
            c.resume(with: pending)
            return
        }
        continuation = c
        lock.unlock()
    }

    func resume(_ result: Result<T, Error>) {
        lock.lock()
        guard !finished, pending == nil else { lock.unlock(); return }
        if let c = continuation {
            finished = true
            continuation = nil
            lock.unlock()
            c.resume(with: result)
        } else {
            pending = result
            lock.unlock()
        }
    }
}

/// An error of ours that a store operation rethrows as it is, not as a ``StoreError`` (the caller
/// inside this module acts on it).
protocol PostgresPassThroughError: Error {}
