@testable import DisputeService
import Foundation
import PinganAccess
import PinganConnect
import PinganContracts
import PinganDomain
@testable import PinganOutbox
import PinganPostgres
import PinganRuntime
import PinganTestSupport
import SwiftProtobuf
import Synchronization
import Testing

/// Batched event delivery: a relay's round reaches each consumer in one `DeliverEvents` call,
/// which applies the events in one transaction, each behind its own savepoint.
@Suite("batched event delivery")
struct EventServiceTests {
    static func event(_ id: UUID, _ method: String, _ message: some SwiftProtobuf.Message) throws -> Pingan_Events_V1_Event {
        var event = Pingan_Events_V1_Event()
        event.id = id.wire
        event.method = method
        event.message = try message.serializedData()
        return event
    }

    static func count(_ pool: PostgresPool, _ sql: String) async throws -> Int {
        try await pool.query(sql)[0].decode(Int.self, at: 0)
    }

    /// Cases, applied events and `case.opened` events announced to risk, in that order.
    static func applied(_ pool: PostgresPool) async throws -> [Int] {
        [
            try await count(pool, "SELECT count(*) FROM dispute.cases"),
            try await count(pool, "SELECT count(*) FROM dispute.inbox"),
            try await count(pool, "SELECT count(*) FROM dispute.outbox WHERE topic = 'case.opened'"),
        ]
    }

    @Test func aBatchCommitsItsGoodEventsOnceAndNamesEachBadOne() async throws {
        try await withDispute { rpc, database in
            let open = DisputeServiceMethods.openCase.path
            let (first, second, badVillage, notAnEvent) = (UUID(), UUID(), UUID(), UUID())
            let firstMessage = openCase(UUID(), party: "李四")
            var batch = Pingan_Events_V1_DeliverEventsRequest()
            batch.events = [
                try Self.event(first, open, firstMessage),
                try Self.event(badVillage, open, openCase(UUID(), village: "4307", party: "王五")),
                try Self.event(notAnEvent, DisputeServiceMethods.getCase.path, Pingan_Dispute_V1_GetCaseRequest()),
                try Self.event(second, open, openCase(UUID(), party: "赵六")),
                // The same event twice in one batch applies once.
                try Self.event(first, open, firstMessage),
            ]
            let system = [try TestMesh.eventDelivery()[0]]
            let pool = database.pool()
            for delivery in 1...2 {
                let answer = try await rpc.call(EventServiceMethods.deliverEvents, batch, headers: system)
                #expect(answer.outcomes.map(\.id) == batch.events.map(\.id), "delivery \(delivery)")
                #expect(answer.outcomes.map(\.code) == ["", "invalid_argument", "invalid_argument", "", ""], "delivery \(delivery)")
                #expect(answer.outcomes[1].message.contains("village_code"))
                #expect(answer.outcomes[2].message.contains("consumes no events"))
                // Two cases, each announced to risk once, however often the batch comes.
                #expect(try await Self.applied(pool) == [2, 2, 2])
            }
            await pool.close()
        }
    }

    /// An event that fails inside its change (here PostgreSQL refuses a second case for one
    /// incident, which aborts the transaction) costs only itself: the batch runs again with a
    /// savepoint per event and the events around it commit.
    @Test func anEventFailingInsideItsChangeLeavesTheOthersCommitted() async throws {
        try await withDispute { rpc, database in
            let open = DisputeServiceMethods.openCase.path
            let incident = UUID()
            _ = try await rpc.call(DisputeServiceMethods.openCase, openCase(incident, party: "甲一"), headers: try TestMesh.eventDelivery())
            var batch = Pingan_Events_V1_DeliverEventsRequest()
            batch.events = [
                try Self.event(UUID(), open, openCase(UUID(), party: "乙二")),
                // Another event for the same incident, naming other parties: not a join, a second case.
                try Self.event(UUID(), open, openCase(incident, party: "丙三")),
                try Self.event(UUID(), open, openCase(UUID(), party: "丁四")),
            ]
            let answer = try await rpc.call(EventServiceMethods.deliverEvents, batch, headers: [try TestMesh.eventDelivery()[0]])
            #expect(answer.outcomes.map(\.code.isEmpty) == [true, false, true])
            let pool = database.pool()
            #expect(try await Self.applied(pool) == [3, 3, 3])
            #expect(try await Self.count(pool, "SELECT count(*) FROM dispute.cases WHERE party_names && ARRAY['丙三']") == 0)
            await pool.close()
        }
    }

    /// A batch's incidents are read ahead in one round trip, and each opens or joins as it
    /// would one at a time: an incident naming the party of a case opened or joined earlier
    /// in the same batch joins that case as it is by then.
    @Test func aBatchReadAheadOpensAndJoinsAsOneIncidentAtATimeWould() async throws {
        try await withDispute { rpc, database in
            let open = DisputeServiceMethods.openCase.path
            let earlier = try await rpc.call(DisputeServiceMethods.openCase, openCase(UUID(), party: "甲一"), headers: try TestMesh.eventDelivery())
            var batch = Pingan_Events_V1_DeliverEventsRequest()
            batch.events = [
                try Self.event(UUID(), open, openCase(UUID(), party: "乙二")),
                try Self.event(UUID(), open, openCase(UUID(), party: "甲一")),
                try Self.event(UUID(), open, openCase(UUID(), party: "丙三")),
                // Joins the case the first event of this batch opened.
                try Self.event(UUID(), open, openCase(UUID(), party: "乙二")),
                // Joins the earlier case a second time in this batch.
                try Self.event(UUID(), open, openCase(UUID(), party: "甲一")),
                try Self.event(UUID(), open, openCase(UUID(), party: "丁四")),
            ]
            let answer = try await rpc.call(EventServiceMethods.deliverEvents, batch, headers: [try TestMesh.eventDelivery()[0]])
            #expect(answer.outcomes.allSatisfy { $0.code.isEmpty })
            let pool = database.pool()
            let incidents = try await pool.query(
                "SELECT p.name, c.id, c.incidents FROM dispute.cases c, unnest(c.party_names) AS p (name) ORDER BY p.name"
            ).map { (try $0.decode(String.self, at: 0), try $0.decode(UUID.self, at: 1).wire, try $0.decode(Int.self, at: 2)) }
            #expect(incidents.map(\.0) == ["丁四", "丙三", "乙二", "甲一"])
            #expect(incidents.map(\.2) == [1, 1, 2, 3])
            #expect(incidents.last?.1 == earlier.case.id)
            #expect(try await Self.applied(pool) == [4, 7, 4])
            await pool.close()
        }
    }

    /// The mechanism under it: an event takes the rows read ahead for it (here stale on
    /// purpose: the events' own inbox records, counted before any was written), and from the
    /// first event `keepingWhile` refuses, events read for themselves and see the records
    /// of the events before them and their own.
    @Test func rowsReadAheadAreTakenUpToTheFirstEventRefused() async throws {
        try await withDispute { _, database in
            let pool = database.pool()
            let inbox = EventInbox(pool: pool, outbox: Outbox(schema: "dispute"))
            let sender = Principal(subject: "service:grid", centre: try DivisionCode(validating: Place.townA), roles: [.system], expiresAt: Date().addingTimeInterval(60))
            let ids = (0..<4).map { _ in UUID() }
            let count: EventInbox.Read = ("SELECT count(*) FROM dispute.inbox", [])
            let seen = Mutex<[Int]>([])
            try await inbox.batch { batch in
                seen.withLock { $0 = [] }
                try await inbox.readAhead(ids.map { ($0, [count]) }, in: batch) { index, _ in index < 2 }
                for id in ids {
                    let counted = try await inbox.apply(EventDelivery(id: id, sender: sender, batch: batch), reading: [count]) { change in
                        #expect(change.firstDelivery)
                        return try change.read[0][0].decode(Int.self, at: 0)
                    }
                    seen.withLock { $0.append(counted) }
                }
            }
            #expect(seen.withLock { $0 } == [0, 0, 3, 4])
            #expect(try await Self.count(pool, "SELECT count(*) FROM dispute.inbox") == 4)
            await pool.close()
        }
    }

    /// Events' statements are planned once per connection (generic plans), not on every
    /// event; the setting ends with the batch's transaction, so the same connection plans a
    /// page's statements for their parameters again.
    @Test func eventsRunWithGenericPlansAndTheSettingEndsWithTheirBatch() async throws {
        try await withDispute { _, database in
            let pool = database.pool(maxConnections: 1)
            let inbox = EventInbox(pool: pool, outbox: Outbox(schema: "dispute"))
            let sender = Principal(subject: "service:grid", centre: try DivisionCode(validating: Place.townA), roles: [.system], expiresAt: Date().addingTimeInterval(60))
            let setting: EventInbox.Read = ("SELECT current_setting('plan_cache_mode')", [])
            let inside = try await inbox.batch { batch in
                try await inbox.apply(EventDelivery(id: UUID(), sender: sender, batch: batch), reading: [setting]) { change in
                    try change.read[0][0].decode(String.self, at: 0)
                }
            }
            #expect(inside == "force_generic_plan")
            #expect(try await pool.query("SELECT current_setting('plan_cache_mode')")[0].decode(String.self, at: 0) == "auto")
            await pool.close()
        }
    }

    @Test func onlyTheMeshDeliversAndBatchesAreBounded() async throws {
        try await withDispute { rpc, database in
            var batch = Pingan_Events_V1_DeliverEventsRequest()
            batch.events = [try Self.event(UUID(), DisputeServiceMethods.openCase.path, openCase(UUID(), party: "李四"))]
            let mediator = try TestMesh.principal(centre: Place.townA, roles: [.mediator, .admin, .staff])
            do {
                _ = try await rpc.call(EventServiceMethods.deliverEvents, batch, headers: [mediator])
                Issue.record("a person delivered an event")
            } catch let error as ConnectError {
                #expect(error.code == .permissionDenied)
            }
            batch.events = Array(repeating: batch.events[0], count: EventService.maxEvents + 1)
            do {
                _ = try await rpc.call(EventServiceMethods.deliverEvents, batch, headers: [try TestMesh.eventDelivery()[0]])
                Issue.record("a batch over the limit was accepted")
            } catch let error as ConnectError {
                #expect(error.code == .invalidArgument)
                #expect(error.message.contains("events"))
            }
            let pool = database.pool()
            #expect(try await Self.count(pool, "SELECT count(*) FROM dispute.cases") == 0)
            await pool.close()
        }
    }

    /// Runs `body` with a relay from a fresh outbox schema `schema`, holding what `enqueue`
    /// wrote, to dispute-service on `database` over real HTTP. The relay was made an hour
    /// before it sends: its credentials must be signed when it sends, not when it was made
    /// (a principal lives five minutes).
    static func withRelayToDispute<Enqueued>(
        _ database: TestDatabase, _ pool: PostgresPool, schema: String,
        enqueue: (Outbox, PostgresConnection) async throws -> Enqueued,
        _ body: (DueWorkDispatcher<OutboxRelay>, Enqueued) async throws -> Void
    ) async throws {
        _ = try await Migrator(schema: schema, migrations: [Outbox.migration(version: 1, schema: schema)]).migrate(pool, logger: TestEnvironment.logger)
        let outbox = Outbox(schema: schema)
        let enqueued = try await pool.transaction { try await enqueue(outbox, $0) }
        try await withLiveServer({ running in
            try DisputeApp.build(settings: DisputeSettings(service: try TestMesh.settings(databaseURL: database.url)), onServerRunning: running)
        }) { port in
            let dispute = ConnectClient(baseURL: "http://127.0.0.1:\(port)", transport: CurlTransport())
            let clock = Mutex(Date().addingTimeInterval(-3600))
            let route = try OutboxRelay.rpc(DisputeServiceMethods.openCase, client: dispute, as: .grid, mesh: try TestMesh.mesh()) {
                clock.withLock { $0 }
            }
            clock.withLock { $0 = Date() }
            let relay = DueWorkDispatcher(
                OutboxRelay(schema: schema, consumers: ["incident.reported": route], logger: TestEnvironment.logger),
                pool: pool, wakeup: outbox.wakeup, logger: TestEnvironment.logger
            )
            try await body(relay, enqueued)
        }
    }

    /// A round larger than one call may carry goes out as several calls, and every event in
    /// it is delivered.
    @Test func aRoundLargerThanACallGoesAsSeveralCalls() async throws {
        try await TestDatabase.with { database in
            let pool = database.pool()
            let count = EventService.maxEvents + 4
            try await Self.withRelayToDispute(database, pool, schema: "relay_large", enqueue: { outbox, transaction -> Void in
                for number in 0..<count {
                    try await outbox.enqueue(transaction, topic: "incident.reported", openCase(UUID(), party: "当事人\(number)"))
                }
            }) { (relay: DueWorkDispatcher<OutboxRelay>, _: Void) async throws in
                var relay = relay
                relay.batchSize = count
                #expect(try await relay.round() == count)
                #expect(try await Self.count(pool, "SELECT count(*) FROM relay_large.outbox WHERE delivered_at IS NOT NULL") == count)
                #expect(try await Self.count(pool, "SELECT count(*) FROM dispute.cases") == count)
            }
            await pool.close()
        }
    }

    /// A relay round over real HTTP, an hour after the relay was made: the good events are
    /// delivered in one call, the bad one is parked with the consumer's reason, and an event
    /// whose delivery was applied but never recorded (the relay killed in between) is sent
    /// again without a second effect.
    @Test func aRelayRoundDeliversParksAndRedeliversWithoutDuplicates() async throws {
        try await TestDatabase.with { database in
            let pool = database.pool()
            let goodMessage = openCase(UUID(), party: "李四")
            try await Self.withRelayToDispute(database, pool, schema: "relay_test", enqueue: { outbox, transaction in
                (
                    try await outbox.enqueue(transaction, topic: "incident.reported", goodMessage),
                    try await outbox.enqueue(transaction, topic: "incident.reported", openCase(UUID(), village: "43", party: "王五")),
                    try await outbox.enqueue(transaction, topic: "incident.reported", openCase(UUID(), party: "赵六"))
                )
            }) { relay, events in
                let (good, bad, other) = events
                #expect(try await relay.round() == 3)
                #expect(try await relay.round() == 0)
                let rows = try await pool.query("SELECT id, delivered_at IS NOT NULL, parked_at IS NOT NULL, coalesce(last_error, '') FROM relay_test.outbox")
                var state: [UUID: (delivered: Bool, parked: Bool, error: String)] = [:]
                for row in rows {
                    state[try row.decode(UUID.self, at: 0)] = (try row.decode(Bool.self, at: 1), try row.decode(Bool.self, at: 2), try row.decode(String.self, at: 3))
                }
                #expect(state[good]?.delivered == true && state[other]?.delivered == true)
                #expect(state[bad]?.delivered == false && state[bad]?.parked == true)
                #expect(state[bad]?.error.contains("village_code") == true)
                #expect(try await Self.count(pool, "SELECT count(*) FROM dispute.cases") == 2)

                // Applied, but the relay died before recording it: the next round sends it again.
                try await pool.query("UPDATE relay_test.outbox SET delivered_at = NULL, payload = $2 WHERE id = $1", [good, try goodMessage.serializedData()])
                #expect(try await relay.round() == 1)
                #expect(try await Self.count(pool, "SELECT count(*) FROM dispute.cases") == 2)
                #expect(try await Self.count(pool, "SELECT count(*) FROM relay_test.outbox WHERE delivered_at IS NULL AND parked_at IS NULL") == 0)
            }
            await pool.close()
        }
    }
}
