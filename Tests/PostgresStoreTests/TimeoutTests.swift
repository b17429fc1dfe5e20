import Foundation
import Testing
@testable import PostgresStore

/// A body that ignores cancellation: it waits until the test opens the gate.
private final class StuckGate: @unchecked Sendable {
    private let lock = NSLock()
    private var waiter: CheckedContinuation<Void, Never>?
    private var open = false
    private(set) var finished = false

    func wait() async {
        await withCheckedContinuation { c in
            lock.lock()
            if open { lock.unlock(); c.resume() } else { waiter = c; lock.unlock() }
        }
        lock.withLock { finished = true }
    }

    func release() {
        lock.lock()
        open = true
        let c = waiter
        waiter = nil
        lock.unlock()
        c?.resume()
    }
}

/// The bound on every database call: it must answer at its deadline even when the call ignores
/// cancellation (a query on a connection PostgreSQL dropped was seen never to finish, and a
/// task-group timeout waited for it — holding the service's shutdown for ever).
@Suite("database call time limits") struct TimeoutTests {
    @Test func answersAtTheDeadlineWithoutWaitingForAStuckBody() async throws {
        let gate = StuckGate()
        do {
            _ = try await withTimeout(.milliseconds(50)) { await gate.wait(); return 1 }
            Issue.record("a stuck body returned")
        } catch let e as PostgresTimeout {
            #expect(e.description == "no answer within 0.05 s")
        }
        // The answer came while the body was still waiting: nothing waited for it.
        #expect(!gate.finished)
        gate.release()
    }

    @Test func passesResultsAndErrorsThrough() async throws {
        #expect(try await withTimeout(.seconds(60)) { 42 } == 42)
        struct Boom: Error {}
        await #expect(throws: Boom.self) { try await withTimeout(.seconds(60)) { () async throws -> Int in throw Boom() } }
    }

    @Test func cancellingTheCallerEndsTheWait() async throws {
        let gate = StuckGate()
        let caller = Task { try await withTimeout(.seconds(3600)) { await gate.wait(); return 1 } }
        caller.cancel()
        await #expect(throws: CancellationError.self) { try await caller.value }
        #expect(!gate.finished)
        gate.release()
    }
}
