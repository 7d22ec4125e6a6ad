import Hummingbird
import NIOCore

/// The request context of every Pingan service: Hummingbird's basic one, plus the address
/// the connection came from, which sign-in throttling and the access log need.
public struct PinganRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The peer's IP address, without the port; `nil` when the transport has none.
    public let peer: String?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        peer = source.channel.remoteAddress?.ipAddress
    }
}
