@testable import DisputeService
import Foundation
import Logging
import PinganAccess
import PinganConnect
import PinganContracts
import PinganDomain
import PinganOutbox
import PinganTestSupport
import Testing

/// A county's cases at the city, each mesh on a database of its own: the county's snapshots
/// read with its relay's statement, sent to the city's `ReceiveCases` in the order a broken
/// link might deliver them.
@Suite("federation: a county's cases at the city")
struct FederationTests {
    static let city = "430700000000"

    /// The county's snapshot of its one marked case, as its relay would send it now.
    static func snapshot(_ database: TestDatabase) async throws -> Pingan_Dispute_V1_CaseSnapshot {
        let pool = database.pool()
        let root = try DivisionCode(validating: Place.lixian)
        let rows = try await pool.query(FederationRelay.snapshotSQL, [32, root.rawValue, root.lastInSubtree, 200])
        await pool.close()
        let row = try #require(rows.first)
        return .with {
            $0.caseID = (try? row.decode(UUID.self, at: 0))?.wire ?? ""
            $0.version = Int64((try? row.decode(Int.self, at: 1)) ?? 0)
            $0.villageCode = (try? row.decode(String.self, at: 2)) ?? ""
            $0.rows = (try? row.decode(String.self, at: 3)) ?? ""
        }
    }

    /// In a county's mesh that sends its cases to the city: a walk-in between 王某 and 李某
    /// (`description`) in ``Place/villageA``, its first rung started by its township.
    static func countyCase(_ rpc: InProcessClient, _ database: TestDatabase, description: String) async throws -> (id: String, attempt: String, staff: (String, String)) {
        let pool = database.pool()
        try await pool.query("INSERT INTO dispute.federation_upstream (url) VALUES ('https://city.example')")
        await pool.close()
        let staff = try person(Place.townA, [.staff, .mediator])
        let intake = Pingan_Dispute_V1_IntakeCaseRequest.with {
            $0.requestID = UUID().wire
            $0.villageCode = Place.villageA
            $0.category = .neighbour
            $0.source = .walkIn
            $0.description_p = description
            $0.parties = [.with { $0.name = "王某"; $0.phone = "13800138000" }, .with { $0.name = "李某" }]
        }
        let opened = try await rpc.call(DisputeServiceMethods.intakeCase, intake, headers: [staff]).case
        let attempt = try await rpc.call(DisputeServiceMethods.startRung, .with {
            $0.caseID = opened.id
            $0.rung = .finder
            $0.lead = "网格员"
        }, headers: [staff]).attempt
        return (opened.id, attempt.id, staff)
    }

    /// The township ends the county case's rung: eased, with `note`.
    static func ease(_ rpc: InProcessClient, _ opened: (id: String, attempt: String, staff: (String, String)), note: String) async throws {
        _ = try await rpc.call(DisputeServiceMethods.endRung, .with {
            $0.caseID = opened.id
            $0.attemptID = opened.attempt
            $0.outcome = .eased
            $0.note = note
        }, headers: [opened.staff])
    }

    /// Two snapshots of one county case: after its first rung started, and after it eased.
    static func countySnapshots() async throws -> (older: Pingan_Dispute_V1_CaseSnapshot, newer: Pingan_Dispute_V1_CaseSnapshot) {
        let box = Box()
        try await withDispute { rpc, database in
            let opened = try await countyCase(rpc, database, description: "两户因排水沟争执")
            box.older = try await snapshot(database)
            try await ease(rpc, opened, note: "双方情绪缓和")
            box.newer = try await snapshot(database)
        }
        return (try #require(box.older), try #require(box.newer))
    }

    final class Box: @unchecked Sendable {
        var older: Pingan_Dispute_V1_CaseSnapshot?
        var newer: Pingan_Dispute_V1_CaseSnapshot?
    }

    func send(_ rpc: InProcessClient, _ snapshots: [Pingan_Dispute_V1_CaseSnapshot], as county: String = Place.lixian) async throws -> [Pingan_Dispute_V1_SnapshotOutcome] {
        try await rpc.call(FederationServiceMethods.receiveCases, .with { $0.snapshots = snapshots }, headers: [try person(county, [.federation])]).outcomes
    }

    func timelineCount(_ database: TestDatabase, _ id: String) async throws -> Int {
        let pool = database.pool()
        let count = try await pool.query("SELECT count(*) FROM dispute.timeline WHERE case_id = $1::uuid", [id]).first?.decode(Int.self, at: 0)
        await pool.close()
        return count ?? -1
    }

    @Test func aLateOrRepeatedSnapshotNeverTakesACopyBackAndEachLineIsKeptOnce() async throws {
        let (older, newer) = try await Self.countySnapshots()
        #expect(newer.version > older.version)
        try await withDispute { rpc, database in
            let leader = try person(Self.city, [.leader, .staff, .mediator])
            // The newer arrives first (the older's send failed and is retried later).
            #expect(try await send(rpc, [newer]).map(\.code) == [""])
            let get = Pingan_Dispute_V1_GetCaseRequest.with { $0.caseID = newer.caseID }
            let copy = try await rpc.call(DisputeServiceMethods.getCase, get, headers: [leader])
            #expect(copy.case.federatedFrom == Place.lixian)
            #expect(copy.rungs.map(\.outcome) == [.eased])
            // Not escalated above the county: the parties' names stayed there.
            #expect(copy.case.parties.isEmpty)
            let lines = try await timelineCount(database, newer.caseID)
            #expect(lines >= 3)

            #expect(try await send(rpc, [older, newer]).map(\.code) == ["", ""])
            let after = try await rpc.call(DisputeServiceMethods.getCase, get, headers: [leader])
            #expect(after.rungs.map(\.outcome) == [.eased])
            #expect(try await timelineCount(database, newer.caseID) == lines)

            // No step is taken on the copy here, even one its rules would allow (the township's
            // first rung again after it eased, by an account of the township at the city).
            await expectCode(.failedPrecondition, containing: Place.lixian) {
                _ = try await rpc.call(DisputeServiceMethods.startRung, .with {
                    $0.caseID = newer.caseID
                    $0.rung = .finder
                    $0.lead = "镇调委会"
                }, headers: [try person(Place.townA, [.staff, .mediator])])
            }
        }
    }

    /// A county case mediated and resolved (`resolved`), then its parties erased three years
    /// on (`erased`), the county's clock being `clock`.
    static func erasedCountySnapshots(_ clock: ManualClock) async throws -> (resolved: Pingan_Dispute_V1_CaseSnapshot, erased: Pingan_Dispute_V1_CaseSnapshot) {
        let box = Box()
        try await withDispute(now: { clock.now }) { rpc, database in
            let opened = try await countyCase(rpc, database, description: "王某与李某因排水沟争执")
            try await ease(rpc, opened, note: "王某情绪缓和")
            _ = try await rpc.call(DisputeServiceMethods.resolveCase, .with { $0.caseID = opened.id; $0.outcome = "王某撤回申请" }, headers: [opened.staff])
            box.older = try await snapshot(database)
            let pool = database.pool()
            defer { Task { await pool.close() } }
            clock.advance(by: TimeInterval(PartyDataRetention.defaultDays + 1) * 86_400)
            let retention = PartyDataRetention(pool: pool, outbox: Outbox(schema: "dispute"), keep: TimeInterval(PartyDataRetention.defaultDays) * 86_400)
            #expect(try await retention.run(now: clock.now, limit: 10) == 1)
            box.newer = try await snapshot(database)
        }
        return (try #require(box.older), try #require(box.newer))
    }

    @Test func aCopyWhosePartiesWereErasedOnEitherSideNeverGetsThemBack() async throws {
        let clock = ManualClock(morningOf: "2026-03-02")
        let (resolved, erased) = try await Self.erasedCountySnapshots(clock)
        #expect(erased.version > resolved.version)
        let leader = try person(Self.city, [.leader, .staff])
        let get = Pingan_Dispute_V1_GetCaseRequest.with { $0.caseID = erased.caseID }

        // The county erased first: its snapshot erases the copy, lines already copied included,
        // and the older snapshot arriving late brings nothing back.
        try await withDispute(now: { clock.now }) { rpc, database in
            #expect(try await send(rpc, [resolved]).map(\.code) == [""])
            #expect(try await rowsHolding("王某", in: database).keys.sorted() == ["case_reports", "cases", "rung_attempts", "timeline"])
            #expect(try await send(rpc, [erased, resolved]).map(\.code) == ["", ""])
            #expect(try await rowsHolding("王某", in: database).isEmpty)
            let copy = try await rpc.call(DisputeServiceMethods.getCase, get, headers: [leader])
            #expect(!copy.case.personalDataErasedAt.isEmpty)
            #expect(copy.rungs.map(\.outcome) == [.eased])
            #expect(copy.timeline.first?.kind == PartyDataRetention.timelineKind)
        }

        // The city's own term ended first: a newer snapshot from a county that keeps its
        // parties longer does not bring them back either.
        try await withDispute(now: { clock.now }) { rpc, database in
            #expect(try await send(rpc, [resolved]).map(\.code) == [""])
            let pool = database.pool()
            defer { Task { await pool.close() } }
            let retention = PartyDataRetention(pool: pool, outbox: Outbox(schema: "dispute"), keep: TimeInterval(PartyDataRetention.defaultDays) * 86_400)
            #expect(try await retention.run(now: clock.now, limit: 10) == 1)
            #expect(try await rowsHolding("王某", in: database).isEmpty)
            var kept = resolved
            kept.version = erased.version + 1
            #expect(try await send(rpc, [kept]).map(\.code) == [""])
            #expect(try await rowsHolding("王某", in: database).isEmpty)
            let copy = try await rpc.call(DisputeServiceMethods.getCase, get, headers: [leader])
            #expect(!copy.case.personalDataErasedAt.isEmpty)
            // The copy's erasure is the city's: risk-service at the city holds no keys of it.
            #expect(try await pool.query("SELECT count(*) FROM dispute.outbox WHERE topic = 'case.changed'").first?.decode(Int.self, at: 0) == 0)
        }
    }

    @Test func theCityRefusesWhatIsNotTheSendingCountysToSend() async throws {
        let (_, newer) = try await Self.countySnapshots()
        try await withDispute { rpc, _ in
            // Another county's relay presenting 澧县's case.
            let foreign = try await send(rpc, [newer], as: "430781000000")
            #expect(foreign.map(\.code) == ["invalid_argument"])
            #expect(foreign.first?.message.contains("430781000000") == true)

            // A case of the city's own, named by a county's snapshot.
            let staff = try person(Place.townB, [.staff, .mediator])
            let own = try await rpc.call(DisputeServiceMethods.intakeCase, .with {
                $0.requestID = UUID().wire
                $0.villageCode = Place.villageB
                $0.category = .land
                $0.source = .walkIn
                $0.description_p = "地界争议"
                $0.parties = [.with { $0.name = "赵某" }]
            }, headers: [staff]).case
            var impostor = newer
            impostor.caseID = own.id
            let refused = try await send(rpc, [impostor])
            #expect(refused.map(\.code) == ["invalid_argument"])
            #expect(refused.first?.message.contains("is a case of this mesh") == true)

            // A person, or the mesh's own services, send nothing.
            await expectCode(.permissionDenied) {
                _ = try await rpc.call(FederationServiceMethods.receiveCases, .with { $0.snapshots = [newer] },
                                       headers: [try person(Place.lixian, [.staff, .leader])])
            }
        }
    }

    // MARK: One owner per record

    /// Once 澧县's relay has called, the city records nothing new under 澧县: the county's own
    /// mesh does, and the city holds copies of what it records. A window clerk's walk-in, a
    /// grid report's event alone or in a batch, are refused naming the county; a request the
    /// city took before answers as before, and 临澧县, which runs no mesh, goes on as ever.
    @Test func theCityRecordsNothingNewUnderACountyThatRunsItsOwn() async throws {
        let (_, newer) = try await Self.countySnapshots()
        try await withDispute { rpc, _ in
            let clerk = try person(Self.city, [.staff, .mediator])
            func walkIn(_ village: String, request: String = UUID().wire) -> Pingan_Dispute_V1_IntakeCaseRequest {
                .with {
                    $0.requestID = request
                    $0.villageCode = village
                    $0.category = .neighbour
                    $0.source = .walkIn
                    $0.description_p = "两户因宅基地界址争执，到市中心窗口求助"
                    $0.parties = [.with { $0.name = "周某" }, .with { $0.name = "吴某" }]
                }
            }
            let earlier = UUID().wire
            let before = try await rpc.call(DisputeServiceMethods.intakeCase, walkIn(Place.villageA, request: earlier), headers: [clerk]).case.id

            #expect(try await send(rpc, [newer]).map(\.code) == [""])
            await expectCode(.failedPrecondition, containing: "county \(Place.lixian) runs its own platform") {
                _ = try await rpc.call(DisputeServiceMethods.intakeCase, walkIn(Place.villageB), headers: [clerk])
            }
            #expect(try await rpc.call(DisputeServiceMethods.intakeCase, walkIn(Place.villageA, request: earlier), headers: [clerk]).case.id == before)
            await expectCode(.failedPrecondition, containing: "county \(Place.lixian)") {
                _ = try await rpc.call(DisputeServiceMethods.openCase, openCase(UUID(), village: Place.villageB), headers: try TestMesh.eventDelivery())
            }
            let open = DisputeServiceMethods.openCase.path
            var batch = Pingan_Events_V1_DeliverEventsRequest()
            batch.events = [
                try EventServiceTests.event(UUID(), open, openCase(UUID(), village: "430724101201", party: "郑某")),
                try EventServiceTests.event(UUID(), open, openCase(UUID(), village: Place.villageB, party: "冯某")),
            ]
            let outcomes = try await rpc.call(EventServiceMethods.deliverEvents, batch, headers: [try TestMesh.eventDelivery()[0]]).outcomes
            #expect(outcomes.map(\.code) == ["", "failed_precondition"])
            #expect(try await rpc.call(DisputeServiceMethods.intakeCase, walkIn("430724101201"), headers: [clerk]).case.villageCode == "430724101201")
        }
    }

    // MARK: How complete a county's copies are

    func receive(_ rpc: InProcessClient, _ snapshots: [Pingan_Dispute_V1_CaseSnapshot] = [], completeAsOf: String) async throws -> [Pingan_Dispute_V1_SnapshotOutcome] {
        try await rpc.call(FederationServiceMethods.receiveCases, .with {
            $0.snapshots = snapshots
            $0.completeAsOf = completeAsOf
        }, headers: [try person(Place.lixian, [.federation])]).outcomes
    }

    func counties(_ rpc: InProcessClient, around centre: String, as caller: (String, String)) async throws -> [Pingan_Dispute_V1_FederatedCounty] {
        try await rpc.call(FederationServiceMethods.listFederatedCounties, .with { $0.centreCode = centre }, headers: [caller]).counties
    }

    @Test func theCityTakesACountyAsCompleteOnlyAsFarAsACallThatAllAppliedSays() async throws {
        let (_, newer) = try await Self.countySnapshots()
        let clock = ManualClock(morningOf: "2026-11-01")
        let leader = try person(Self.city, [.leader, .staff])
        try await withDispute(now: { clock.now }) { rpc, _ in
            // Before 澧县 has called, the city knows of no county.
            #expect(try await counties(rpc, around: Self.city, as: leader).isEmpty)

            let first = clock.now.addingTimeInterval(-120)
            #expect(try await receive(rpc, [newer], completeAsOf: first.wireTimestamp).map(\.code) == [""])
            let heard = try #require(try await counties(rpc, around: Self.city, as: leader).first)
            #expect(heard.countyCode == Place.lixian && heard.heardAt == clock.now.wireTimestamp && heard.completeAsOf == first.wireTimestamp)

            // A snapshot refused for good (a case that is not the county's to send) holds nothing back.
            var foreign = newer
            foreign.villageCode = "430724101201"
            clock.advance(by: 60)
            let second = clock.now.addingTimeInterval(-60)
            #expect(try await receive(rpc, [foreign], completeAsOf: second.wireTimestamp).map(\.code) == ["invalid_argument"])
            #expect(try await counties(rpc, around: Self.city, as: leader).map(\.completeAsOf) == [second.wireTimestamp])

            // Never back, and never ahead of the city's clock (a county's clock may run fast).
            _ = try await receive(rpc, completeAsOf: second.addingTimeInterval(-3600).wireTimestamp)
            #expect(try await counties(rpc, around: Self.city, as: leader).map(\.completeAsOf) == [second.wireTimestamp])
            _ = try await receive(rpc, completeAsOf: clock.now.addingTimeInterval(86_400).wireTimestamp)
            #expect(try await counties(rpc, around: Self.city, as: leader).map(\.completeAsOf) == [clock.now.wireTimestamp])
            await expectCode(.invalidArgument, containing: "complete_as_of") {
                _ = try await receive(rpc, completeAsOf: "昨天")
            }

            // The index reads it with the month's facts; a township of 澧县 sees its county,
            // 临澧县 none, and a county's people cannot ask about the city.
            let facts = try await rpc.call(DisputeServiceMethods.caseFacts, .with { $0.rootCode = Self.city; $0.month = "2026-10" }, headers: [leader])
            #expect(facts.counties.map(\.countyCode) == [Place.lixian])
            #expect(try await counties(rpc, around: Place.townA, as: try person(Place.townA, [.staff])).map(\.countyCode) == [Place.lixian])
            #expect(try await counties(rpc, around: "430724000000", as: leader).isEmpty)
            await expectCode(.permissionDenied) {
                _ = try await counties(rpc, around: Self.city, as: try person("430724000000", [.leader, .staff]))
            }
        }
    }

    @Test func aCallWithASnapshotThatFailedForNowSaysNothingOfHowCompleteTheCopiesAre() {
        let said = Date(timeIntervalSince1970: 1_790_000_000)
        let applied = Pingan_Dispute_V1_SnapshotOutcome()
        let refused = Pingan_Dispute_V1_SnapshotOutcome.with { $0.code = "invalid_argument" }
        let unavailable = Pingan_Dispute_V1_SnapshotOutcome.with { $0.code = "unavailable" }
        #expect(FederationServiceHandler.completeAsOf(said, after: []) == said)
        #expect(FederationServiceHandler.completeAsOf(said, after: [applied, refused]) == said)
        #expect(FederationServiceHandler.completeAsOf(said, after: [applied, unavailable]) == nil)
    }

    @Test func theCountySaysItsCopiesAreCompleteOnlyWhenNothingElseWaits() async throws {
        try await withDispute { rpc, database in
            let opened = try await Self.countyCase(rpc, database, description: "两户因排水沟争执")
            let pool = database.pool(maxConnections: 4)
            let relay = FederationRelay(
                client: ConnectClient(baseURL: "http://127.0.0.1:9", transport: CurlTransport()), key: "",
                root: try DivisionCode(validating: Place.lixian), pool: pool, apply: { _ in .init() }, logger: Logger(label: "test")
            )
            let due = try await relay.claim()
            #expect(due.count == 1)
            let read = try #require(try await pool.query("SELECT statement_timestamp()").first?.decode(Date.self, at: 0))
            let complete = try #require(try await relay.completeAsOf(sending: due))
            #expect(complete <= read.addingTimeInterval(-FederationRelay.completenessMargin + 1))
            #expect(complete >= read.addingTimeInterval(-FederationRelay.completenessMargin - 5))
            // Sending nothing leaves the case's mark waiting.
            #expect(try await relay.completeAsOf(sending: []) == nil)

            // A transaction open since before: what it commits dates no later than its start.
            let (started, startedFeed) = AsyncStream<Date>.makeStream()
            let (release, releaseFeed) = AsyncStream<Void>.makeStream()
            let holder = Task {
                try await pool.transaction { transaction in
                    let start = try await transaction.query("SELECT now()").first?.decode(Date.self, at: 0)
                    startedFeed.yield(start ?? .distantFuture)
                    for await _ in release { break }
                }
            }
            var starts = started.makeAsyncIterator()
            let start = try #require(await starts.next())
            let held = try #require(try await relay.completeAsOf(sending: due))
            // (Or earlier still, if one of the service's own transactions was open then too.)
            #expect(held.timeIntervalSince(start.addingTimeInterval(-FederationRelay.completenessMargin)) <= 0.000_01)
            releaseFeed.yield()
            try await holder.value

            // The case changed again after the read: the version in hand is no longer all of it.
            try await Self.ease(rpc, opened, note: "双方情绪缓和")
            #expect(try await relay.completeAsOf(sending: due) == nil)
            #expect(try await relay.completeAsOf(sending: try await relay.claim()) != nil)
            await pool.close()
        }
    }
}
