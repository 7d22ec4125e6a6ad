import SwiftProtobuf

/// Whether a method may be retried, from the `.proto`'s `idempotency_level` option.
public enum Idempotency: Sendable {
    /// Reads only (`NO_SIDE_EFFECTS`).
    case noSideEffects
    /// Repeating it has the same effect as running it once (`IDEMPOTENT`).
    case idempotent
    /// Not safe to repeat.
    case unknown

    public var allowsRetry: Bool { self != .unknown }
}

/// One unary method of a Connect service: its route, message types and retry safety.
///
/// Servers register handlers against it and clients call through it, so the two sides
/// cannot disagree about a method's path or types.
public struct ConnectMethod<Input: SwiftProtobuf.Message, Output: SwiftProtobuf.Message>: Sendable {
    /// The fully-qualified service name, e.g. `pingan.grid.v1.DivisionService`.
    public let service: String
    public let name: String
    public let idempotency: Idempotency

    public init(service: String, name: String, idempotency: Idempotency) {
        self.service = service
        self.name = name
        self.idempotency = idempotency
    }

    /// The HTTP path, `/<service>/<method>`.
    public var path: String { "/\(service)/\(name)" }
}
