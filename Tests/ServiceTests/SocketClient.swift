import Foundation
import Hummingbird
import Logging
@testable import Service
#if canImport(Glibc)
import Glibc
#endif

/// A raw TCP connection to the test server, for clients no HTTP library would be: half-sent
/// heads, stalled or trickled bodies, bad chunk sizes. Every wait has a deadline (poll), none sleeps.
final class SocketClient {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    let fd: Int32

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(fd)
            throw Failure(description: "connect")
        }
    }

    deinit { if !closed.get { close(fd) } }

    private let closed = Box(false)

    /// Closes the connection now (a client that gives up on its request).
    func disconnect() {
        guard !closed.get else { return }
        closed.set(true)
        close(fd)
    }

    /// Sends all of `text`; false when the server has closed the connection.
    @discardableResult
    func send(_ text: String) -> Bool { send(Array(text.utf8)) }

    @discardableResult
    func send(_ bytes: [UInt8]) -> Bool {
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return false }
            sent += n
        }
        return true
    }

    /// What the server sent until it closed the connection (EOF or reset), or nil when it was
    /// still open at `deadline`.
    func readUntilClosed(deadline: ContinuousClock.Instant) -> [UInt8]? {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let left = deadline - ContinuousClock.now
            guard left > .zero else { return nil }
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ms = Int32(min(1000, max(1, left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000)))
            let ready = poll(&p, 1, ms)
            if ready < 0 && errno != EINTR { return received }
            if ready <= 0 { continue }
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 { return received }
            received += buffer[0..<n]
        }
    }

    /// One HTTP response (head and a Content-Length body), or nil if none completed by `deadline`.
    func readResponse(deadline: ContinuousClock.Instant) -> (status: Int, headers: String, body: String)? {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while ContinuousClock.now < deadline {
            let text = String(decoding: received, as: UTF8.self)
            if let range = text.range(of: "\r\n\r\n") {
                let head = String(text[..<range.lowerBound])
                let length = head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
                    .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
                let bodyBytes = Array(received[(text.utf8.distance(from: text.startIndex, to: range.upperBound))...])
                if bodyBytes.count >= length {
                    let status = Int(head.split(separator: " ").dropFirst().first ?? "") ?? 0
                    return (status, head, String(decoding: bodyBytes.prefix(length), as: UTF8.self))
                }
            }
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&p, 1, 50)
            if ready <= 0 { continue }
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 { return nil }
            received += buffer[0..<n]
        }
        return nil
    }
}

extension TestService {
    /// Runs the service's real HTTP server (with its connection deadlines) on a free loopback
    /// port for `body`, then shuts it down.
    func live(_ body: @escaping @Sendable (Int) async throws -> Void) async throws {
        let started = Event<Int>()
        let logger = Logger(label: "test")
        let app = Application(router: ServiceRouter.make(state: state), server: ServiceApp.server(state.configuration),
                              configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              onServerRunning: { channel in started.fire(channel.localAddress?.port ?? -1) }, logger: logger)
        let group = ServiceApp.serviceGroup(state, app, logger: logger, onSignals: false)
        let running = Task {
            defer { started.fire(-1) }  // a server that fails to start still ends the wait
            try await group.run()
        }
        let port = await started.wait()
        guard port > 0 else {
            _ = try? await running.value
            throw SocketClient.Failure(description: "the server did not start")
        }
        do {
            try await body(port)
        } catch {
            await group.triggerGracefulShutdown()
            _ = try? await running.value
            throw error
        }
        await group.triggerGracefulShutdown()
        try await running.value
    }
}

/// Runs blocking socket work on a Dispatch thread, off the cooperative pool the server needs.
func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async { continuation.resume(with: Result { try body() }) }
    }
}
