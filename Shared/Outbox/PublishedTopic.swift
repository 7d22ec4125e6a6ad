import Foundation
import PinganConnect
import PinganContracts
import PinganPostgres
import PinganRuntime
import SwiftProtobuf

/// A topic a service publishes: its name in the outbox, and the peer's method its relay
/// delivers it to, whose input is the topic's payload. Declaring the two together means a
/// topic cannot be enqueued with one message and delivered as another.
public struct PublishedTopic<Payload: SwiftProtobuf.Message, Reply: SwiftProtobuf.Message>: Sendable {
    public let name: String
    public let deliveredTo: ConnectMethod<Payload, Reply>

    public init(name: String, deliveredTo: ConnectMethod<Payload, Reply>) {
        self.name = name
        self.deliveredTo = deliveredTo
    }
}

extension Outbox {
    /// Enqueues `payload` on `topic` inside `transaction`: it leaves when the transaction commits.
    /// - Returns: the event's id, which the consumer uses as its idempotency key.
    @discardableResult
    public func enqueue<Payload, Reply>(_ transaction: PostgresConnection, _ topic: PublishedTopic<Payload, Reply>, _ payload: Payload) async throws -> UUID {
        try await enqueue(transaction, topic: topic.name, payload)
    }
}

extension OutboxRelay {
    /// The route that delivers `topic`'s events to its method on `client`, signed as `service`.
    public static func route<Payload, Reply>(
        _ topic: PublishedTopic<Payload, Reply>, client: ConnectClient, as service: MeshService, mesh: MeshSettings
    ) throws -> (topic: String, route: Route) {
        (topic.name, try rpc(topic.deliveredTo, client: client, as: service, mesh: mesh))
    }
}
