import Foundation
import Testing
@testable import Service

/// Clients that misbehave at the HTTP level, over a real socket (issue 12, findings 8 and 9):
/// idle connections, half-sent heads and slow bodies are closed after their deadlines; chunked
/// bodies over the limit and bad chunk sizes get 413 and 400 with the JSON error body.
@Suite("Service connections") struct ConnectionTests {
    static let embed = "{\"inputs\":[\(vectorJSON(sampleInput(1)))]}"

    /// Seconds until the server closed a connection that did `act` and then stalled (nil: still open at the deadline).
    static func closedAfter(port: Int, within seconds: Int, _ act: @escaping @Sendable (SocketClient) -> Void) async throws -> Double? {
        try await blocking {
            let c = try SocketClient(port: port)
            let clock = ContinuousClock(), start = clock.now
            act(c)
            guard c.readUntilClosed(deadline: start + .seconds(seconds)) != nil else { return nil }
            let elapsed = clock.now - start
            return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        }
    }

    @Test func idleHalfHeadAndSlowBodyConnectionsAreClosed() async throws {
        // Each deadline short and distinct from the others, so that which one closed is visible.
        let s = try TestService(idleTimeoutMilliseconds: 600, headerTimeoutMilliseconds: 300, bodyTimeoutMilliseconds: 300)
        try await s.live { port in
            // A well-behaved request still works.
            let ok = try await blocking { () -> Int in
                let c = try SocketClient(port: port)
                c.send("POST /v1/embed HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: \(Self.embed.utf8.count)\r\n\r\n\(Self.embed)")
                return c.readResponse(deadline: .now + .seconds(120))?.status ?? 0
            }
            #expect(ok == 200)

            let idle = try await Self.closedAfter(port: port, within: 30) { _ in }
            let idleSeconds = try #require(idle, "an idle connection is closed")
            #expect(idleSeconds >= 0.5, "not before the idle timeout")

            let head = try await Self.closedAfter(port: port, within: 30) { $0.send("POST /v1/embed HTTP/1.1\r\nHost: t\r\nContent-Le") }
            #expect(head != nil, "a half-sent head is closed")

            let body = try await Self.closedAfter(port: port, within: 30) {
                $0.send("POST /v1/embed HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 400\r\n\r\n{\"inputs\":")
            }
            #expect(body != nil, "a stalled body is closed")

            // A body trickled a byte at a time (which resets an idle timer) is closed all the same.
            let trickle = try await Self.closedAfter(port: port, within: 30) { c in
                guard c.send("POST /v1/embed HTTP/1.1\r\nHost: t\r\nContent-Length: 400\r\n\r\n") else { return }
                // The client's own pace (not a wait for the server): one byte per 50 ms, at most 4 s.
                for _ in 0..<80 {
                    usleep(50_000)
                    if !c.send(" ") { return }
                }
            }
            #expect((trickle ?? 99) < 4, "a trickled body is closed at the body deadline")

            // After an answer, a kept-alive connection is idle again: closed, not kept for ever.
            let keptAlive = try await Self.closedAfter(port: port, within: 30) { c in
                c.send("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
                _ = c.readResponse(deadline: .now + .seconds(60))
            }
            #expect(keptAlive != nil)
        }
    }

    @Test func chunkedBodyOverTheLimitIs413AndBadChunkSizeIs400() async throws {
        let s = try TestService(maxBodyBytes: 1024)
        try await s.live { port in
            let over = try await blocking { () -> (status: Int, headers: String, body: String)? in
                let c = try SocketClient(port: port)
                var request = "POST /v1/embed HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                for _ in 0..<4 { request += "3e8\r\n" + String(repeating: " ", count: 1000) + "\r\n" }
                request += "0\r\n\r\n"
                c.send(request)
                return c.readResponse(deadline: .now + .seconds(120))
            }
            let o = try #require(over)
            #expect(o.status == 413)
            #expect(o.body.contains("\"body_too_large\""))

            let bad = try await blocking { () -> (status: Int, headers: String, body: String)? in
                let c = try SocketClient(port: port)
                c.send("POST /v1/embed HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nZZZ\r\n{}\r\n0\r\n\r\n")
                return c.readResponse(deadline: .now + .seconds(120))
            }
            let b = try #require(bad)
            #expect(b.status == 400)
            #expect(b.body.contains("\"bad_request\""))
            #expect(b.body.contains("\"request_id\""), "the JSON error body, not an empty one")
        }
    }
}
