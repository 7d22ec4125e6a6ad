import Foundation
import PinganAccess
import PinganConnect
import PinganContracts

/// The events one service consumes, each applied by a function that is handed its
/// ``EventDelivery`` (and with it the batch it runs in).
///
/// ``register(into:)`` serves each event method alone, as a batch of one, and
/// `EventService/DeliverEvents`, through which a relay sends many events in one call that are
/// applied in one transaction. Either way an event runs through the same function, with the
/// same checks.
public struct EventConsumers: Sendable {
    /// Decodes one event's binary message and applies it.
    typealias Apply = @Sendable (_ message: [UInt8], _ event: EventDelivery, _ context: ConnectContext) async throws -> Void
    /// Reads, before a batch's events run, what they will read (``EventInbox/readAhead(_:in:keepingWhile:)``).
    public typealias ReadAhead = @Sendable (_ events: [Pingan_Events_V1_Event], _ batch: EventBatch) async throws -> Void

    let inbox: EventInbox
    let verifier: PrincipalVerifier
    private var appliers: [String: Apply] = [:]
    private var registrations: [@Sendable (inout ConnectRoutes, EventInbox, PrincipalVerifier) -> Void] = []
    private var readAhead: ReadAhead?

    public init(inbox: EventInbox, verifier: PrincipalVerifier) {
        self.inbox = inbox
        self.verifier = verifier
    }

    /// Consumes the events sent to `method` with `apply`.
    public mutating func on<Input, Output>(
        _ method: ConnectMethod<Input, Output>,
        _ apply: @escaping @Sendable (Input, EventDelivery, ConnectContext) async throws -> Output
    ) {
        appliers[method.path] = { message, event, context in
            let input: Input
            do {
                input = try ConnectCodec.proto.decode(Input.self, from: message)
            } catch {
                throw ConnectError.undecodable(error, codec: .proto, body: message, as: Input.self)
            }
            _ = try await apply(input, event, context)
        }
        registrations.append { routes, inbox, verifier in
            routes.register(method) { input, context in
                let sender = try verifier.system(context)
                guard let text = context.header(EventHeader.name), let id = UUID(uuidString: text) else {
                    throw ConnectError(.invalidArgument, "\(EventHeader.name): an event delivery needs the event's UUID")
                }
                return try await inbox.batch { batch in
                    try await apply(input, EventDelivery(id: id, sender: sender, batch: batch), context)
                }
            }
        }
    }

    /// Reads ahead for each batch before its events run.
    public mutating func readAhead(_ read: @escaping ReadAhead) {
        readAhead = read
    }

    /// Serves each consumed method alone and `EventService/DeliverEvents` for all of them.
    public func register(into routes: inout ConnectRoutes) {
        for registration in registrations { registration(&routes, inbox, verifier) }
        let appliers = appliers, inbox = inbox, verifier = verifier, readAhead = readAhead
        routes.register(EventServiceMethods.deliverEvents) { request, context in
            let sender = try verifier.system(context)
            guard request.events.count <= EventService.maxEvents else {
                throw ConnectError.invalidArgument(field: "events", "at most \(EventService.maxEvents) in one call, got \(request.events.count)")
            }
            let logger = context.logger
            return try await inbox.batch { batch in
                try await readAhead?(request.events, batch)
                var response = Pingan_Events_V1_DeliverEventsResponse()
                for event in request.events {
                    var outcome = Pingan_Events_V1_EventOutcome()
                    outcome.id = event.id
                    do {
                        guard let apply = appliers[event.method] else {
                            throw ConnectError.invalidArgument(field: "events.method", "\(event.method) consumes no events here")
                        }
                        guard let id = UUID(uuidString: event.id) else {
                            throw ConnectError.invalidArgument(field: "events.id", "an event delivery needs the event's UUID")
                        }
                        let eventContext = ConnectContext(
                            path: event.method, headers: context.headers, deadline: context.deadline, trace: context.trace,
                            logger: logger, peer: context.peer
                        )
                        try await apply(Array(event.message), EventDelivery(id: id, sender: sender, batch: batch), eventContext)
                    } catch {
                        let failure = ConnectError.wrapping(error, logger: logger)
                        outcome.code = failure.code.rawValue
                        outcome.message = failure.message
                    }
                    response.outcomes.append(outcome)
                }
                return response
            }
        }
    }
}

/// Limits of batched event delivery.
public enum EventService {
    /// The most events one `DeliverEvents` call carries.
    public static let maxEvents = 256
}
