import Hummingbird
import NIOCore

/// The request context of every Pingan service: Hummingbird's basic one, plus the address
/// the connection came from, which sign-in throttling and the access log need.
public struct PinganRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The client's IP address, without the port; `nil` when the transport has none. The
    /// connection's peer, unless that is a trusted proxy: then ``ServiceResponder`` sets the
    /// client the proxy forwarded for (``TrustedProxies``).
    public internal(set) var peer: String?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        peer = source.channel.remoteAddress?.ipAddress
    }
}
