import HTTPTypes
import Logging
import PinganContracts
import SwiftProtobuf

/// The Connect methods one service serves, keyed by path.
///
/// Build it once at start: ``register(_:handler:)`` ties a ``ConnectMethod`` to the function
/// that implements it, so a newcomer finds a method's code from its proto name in one step.
public struct ConnectRoutes: Sendable {
    /// Decodes the request, runs the handler, encodes the response.
    typealias Erased = @Sendable (_ body: [UInt8], _ codec: ConnectCodec, _ context: ConnectContext) async throws -> [UInt8]

    private(set) var handlers: [String: Erased] = [:]
    private(set) var fallback: Erased?
    /// Decides, from the path and headers alone, whether a body may be read at all and how
    /// much of it: the gateway refuses a caller without credentials before reading anything.
    private(set) var admission: (@Sendable (_ path: String, _ headers: HTTPFields, _ peer: String?) throws -> Int?)?

    public init() {}

    /// Registers `handler` for `method`, replacing any earlier registration of the same path.
    public mutating func register<Input, Output>(
        _ method: ConnectMethod<Input, Output>,
        handler: @escaping @Sendable (Input, ConnectContext) async throws -> Output
    ) {
        handlers[method.path] = { body, codec, context in
            let input: Input
            do {
                input = try codec.decode(Input.self, from: body)
            } catch {
                throw ConnectError.undecodable(error, codec: codec, body: body, as: Input.self)
            }
            return try codec.encode(try await handler(input, context))
        }
    }

    /// The handler registered for `path`, taking and answering binary protobuf: for a method
    /// that serves calls arriving inside another call, as `EventService` serves event methods.
    public func protoHandler(for path: String) -> (@Sendable (_ body: [UInt8], _ context: ConnectContext) async throws -> [UInt8])? {
        guard let handler = handlers[path] else { return nil }
        return { body, context in try await handler(body, .proto, context) }
    }

    /// Checks each call before its body is read: throw to refuse it, or return the most bytes
    /// of body it may send (`nil` for the server's limit). `peer` is the caller's address, so
    /// a refusal can be recorded like any other call.
    public mutating func admit(_ check: @escaping @Sendable (_ path: String, _ headers: HTTPFields, _ peer: String?) throws -> Int?) {
        admission = check
    }

    /// Serves every path no method claims, with the raw body; the gateway forwards through
    /// this. The handler reads `context.path` and returns the response body in `codec`.
    public mutating func fallback(
        _ handler: @escaping @Sendable (_ body: [UInt8], _ codec: ConnectCodec, _ context: ConnectContext) async throws -> [UInt8]
    ) {
        fallback = handler
    }
}
