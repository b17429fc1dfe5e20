import Hummingbird
import NIOCore

/// The context of every request the service handles: Hummingbird's core context plus the
/// connection the request came on, so that long work (a duplicates search over the store) can
/// see that its client has gone and stop, instead of computing an answer nobody will read.
public struct ServiceRequestContext: RequestContext {
    /// Hummingbird's per-request storage (logger, allocator, parameters).
    public var coreContext: CoreRequestContextStorage
    /// The request's connection; `isActive` turns false once the client has closed it.
    public let channel: any Channel

    /// A context for a request read from `source`'s channel.
    ///
    /// - Parameters:
    ///   - source: the channel and logger Hummingbird gives each request.
    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }

    /// A check that stays true until the request's connection closes — the client left, or sent
    /// its end of the stream while the request was handled (see ``ConnectionDeadlines``). For
    /// long work to call between units; registers one callback on the connection, so only the
    /// heavy routes ask for it.
    func clientConnectedCheck() -> @Sendable () -> Bool {
        let gone = Flag()
        channel.closeFuture.whenComplete { _ in gone.set() }
        return { !gone.isSet }
    }
}
