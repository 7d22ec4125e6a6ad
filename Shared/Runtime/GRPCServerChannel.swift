import HummingbirdCore
import HummingbirdHTTP2
import Logging
import NIOCore
import NIOHTTP2

/// Cleartext HTTP/2 with prior knowledge, for gRPC clients: Hummingbird's `HTTP2Channel` with
/// one change, that a client's PING is answered and not held against it.
///
/// Hummingbird 2.28's connection manager counts every PING within 30 s of the last as a
/// strike, even while it is answering calls on the connection (gRFC A8 counts only pings the
/// server sent nothing after), and closes the connection at the third. grpcio, grpc-go and
/// grpc-java probe bandwidth with PINGs while data flows, so about one call in a hundred
/// failed with `UNAVAILABLE`. NIOHTTP2 acknowledges every PING itself; this channel keeps the
/// client's PINGs from reaching the connection manager, which still sees the acks to its own
/// (its graceful-close handshake) and still closes idle connections. A client that floods
/// PINGs without reading the acks is stopped by NIOHTTP2's limit on buffered control frames.
struct GRPCServerChannel: ServerChildChannel {
    typealias Value = HTTP2Channel.Value
    let base: HTTP2Channel

    init(responder: @escaping HTTPChannelHandler.Responder, configuration: HTTP2Channel.Configuration) {
        base = HTTP2Channel(responder: responder, configuration: configuration)
    }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        // Runs on the channel's event loop, where the pipeline may be changed synchronously.
        base.setup(channel: channel, logger: logger).flatMapThrowing { value in
            let pipeline = channel.pipeline.syncOperations
            try pipeline.addHandler(ClientPingFilter(), position: .after(try pipeline.handler(type: NIOHTTP2Handler.self)))
            return value
        }
    }

    func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}

extension HTTPServerBuilder {
    /// ``GRPCServerChannel`` as a server for `Application`.
    static func grpc(configuration: HTTP2Channel.Configuration) -> HTTPServerBuilder {
        .init { responder in GRPCServerChannel(responder: responder, configuration: configuration) }
    }
}

/// Drops a client's PING frames (already acknowledged by NIOHTTP2) on their way up the
/// connection's pipeline; everything else, acks included, passes.
private final class ClientPingFilter: ChannelInboundHandler, Sendable {
    typealias InboundIn = HTTP2Frame
    typealias InboundOut = HTTP2Frame

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .ping(_, ack: false) = unwrapInboundIn(data).payload { return }
        context.fireChannelRead(data)
    }
}
