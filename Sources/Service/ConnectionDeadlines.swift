import HummingbirdCore
import NIOCore
import NIOHTTPTypes

/// Closes connections whose client is too slow, so that idle or trickling clients cannot hold
/// the server's sockets (a slowloris):
///
/// - **idle**: no byte of a next request within ``Timeouts/idle`` of the connection opening or
///   of the last response;
/// - **header**: the request head not complete within ``Timeouts/header`` of its first byte;
/// - **body**: the body not complete within ``Timeouts/body`` of the head.
///
/// While a request is being handled, no deadline runs (the request timeout applies there), and
/// the connection is read once more: NIO's pipelining assistance stops reading until the answer
/// is out, so without that read a client that has gone is not noticed until then. A client that
/// ends its stream while its request is handled is taken to have left (as nginx's 499): the
/// connection is closed, and work that watches it (``ServiceRequestContext``) stops.
///
/// Hummingbird's own `HTTP1Channel` idle timeout is not enough: it is reset by every body part
/// (a client sending one byte a second keeps the connection forever) and cannot tell an idle
/// connection from a half-sent head. This handler sits after the HTTP decoder (it sees heads,
/// body parts and ends) and puts a small companion at the front of the pipeline that tells it
/// when raw bytes arrive (the first byte of a head, which the decoder does not report).
final class ConnectionDeadlines: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    /// The three limits, from ``ServiceConfiguration``.
    struct Timeouts: Sendable {
        var idle: TimeAmount
        var header: TimeAmount
        var body: TimeAmount
    }

    enum Phase { case idle, header, body, handling }

    let timeouts: Timeouts
    private(set) var phase = Phase.idle
    /// The response went out before the request's end was read (an early error such as 413):
    /// the end then starts the idle wait, as no response will follow it.
    private var answeredEarly = false
    private var timer: Scheduled<Void>?
    private var context: ChannelHandlerContext?
    private var watcher: ByteWatcher?

    init(_ timeouts: Timeouts) { self.timeouts = timeouts }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        // Raw bytes pass the front of the pipeline before the decoder sees a complete head.
        let watcher = ByteWatcher(owner: self)
        self.watcher = watcher
        try? context.pipeline.syncOperations.addHandler(watcher, position: .first)
        if context.channel.isActive { enter(.idle) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        cancelTimer()
        self.context = nil
        watcher = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        enter(.idle)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        cancelTimer()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            answeredEarly = false
            enter(.body)
        case .body: break
        case .end:
            enter(answeredEarly ? .idle : .handling)
            answeredEarly = false
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) {
            if phase == .handling { enter(.idle) } else { answeredEarly = true }
        }
        context.write(data, promise: promise)
    }

    /// Called by ``ByteWatcher`` for every read from the socket.
    func bytesArrived() {
        if phase == .idle { enter(.header) }
    }

    private func enter(_ next: Phase) {
        cancelTimer()
        phase = next
        let limit: TimeAmount
        switch next {
        case .idle: limit = timeouts.idle
        case .header: limit = timeouts.header
        case .body: limit = timeouts.body
        case .handling:
            // One read: it brings the end of the stream if the client has gone (or at most one
            // read's worth of a pipelined request, which the pipeline handler keeps for later).
            watcher?.readOnce()
            return
        }
        guard let context else { return }
        let expected = next
        timer = context.eventLoop.assumeIsolatedUnsafeUnchecked().scheduleTask(in: limit) { [weak self] in
            guard let self, self.phase == expected, let context = self.context else { return }
            self.timer = nil
            context.close(promise: nil)
        }
    }

    private func cancelTimer() {
        timer?.cancel()
        timer = nil
    }
}

/// Tells ``ConnectionDeadlines`` when bytes arrive, before the HTTP decoder buffers them, and
/// closes the connection when the client ends its stream while a request is being handled.
final class ByteWatcher: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private unowned let owner: ConnectionDeadlines
    private var context: ChannelHandlerContext?

    init(owner: ConnectionDeadlines) { self.owner = owner }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        owner.bytesArrived()
        context.fireChannelRead(data)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .inputClosed? = event as? ChannelEvent, owner.phase == .handling {
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    /// Asks the socket for one read, past the handlers that hold reads back.
    func readOnce() { context?.read() }
}

extension ServiceApp {
    /// HTTP/1.1 with the configured idle, header and body deadlines on every connection.
    static func server(_ configuration: ServiceConfiguration) -> HTTPServerBuilder {
        let timeouts = ConnectionDeadlines.Timeouts(idle: .milliseconds(Int64(configuration.idleTimeoutMilliseconds)),
                                                    header: .milliseconds(Int64(configuration.headerTimeoutMilliseconds)),
                                                    body: .milliseconds(Int64(configuration.bodyTimeoutMilliseconds)))
        return .http1(configuration: .init(additionalChannelHandlers: [ConnectionDeadlines(timeouts)]))
    }
}
