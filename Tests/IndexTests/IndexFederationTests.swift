import Foundation
@testable import IndexService
import PinganAccess
import PinganConnect
import PinganContracts
import PinganDomain
import PinganTestSupport
import Testing

/// A month of a county that runs its own mesh, at the city (``withIndexMesh``): 澧县's relay
/// calls the city's dispute-service as the county's federation key would through the gateway.
@Suite("index: a county's month at the city")
struct IndexFederationTests {
    let transport = CurlTransport()

    /// 澧县's relay calling: nothing to send, and its copies complete up to `completeAsOf`.
    func countyCalls(_ dispute: Int, completeAsOf: String) async throws {
        _ = try await ConnectClient(baseURL: "http://127.0.0.1:\(dispute)", transport: transport).call(
            FederationServiceMethods.receiveCases, .with { $0.completeAsOf = completeAsOf },
            options: CallOptions(timeout: .seconds(30), headers: [try person(Place.lixian, [.federation])])
        )
    }

    /// 澧县's index-service sending its counts of `month` (village A's grids and warnings).
    static func counts(
        _ month: String = "2026-10", readAt: String, village: String = Place.villageA, grids: Int32 = 2, screened: Int32 = 31
    ) -> Pingan_Index_V1_ReceiveCountyFactsRequest {
        .with {
            $0.month = month
            $0.readAt = readAt
            $0.villages = [.with {
                $0.villageCode = village
                $0.incidents = 3
                $0.grids = grids
                $0.gridDaysScreened = screened
                $0.nothingFoundDays = 20
                $0.householdsVisited = 140
                $0.warningsRaised = 4
                $0.warningsAcknowledged = 4
                $0.warningsAcknowledgedInTime = 3
            }]
        }
    }

    @Test func anEndedMonthIsFrozenOnlyOnceEveryCountysCopiesArePastItsEnd() async throws {
        let clock = ManualClock(morningOf: "2026-11-01")
        try await withIndexMesh(clock) { index, peers, _ in
            let disputePort = try port(peers[.dispute])
            let cityLeader = try person(TestMesh.root, [.leader])
            let october = Pingan_Index_V1_ComputeMonthlyIndexRequest.with { $0.month = "2026-10" }
            // 澧县's counts of October, read after its end, are in.
            let county = try person(Place.lixian, [.federation])
            _ = try await index.call(IndexFederationServiceMethods.receiveCountyFacts, Self.counts(readAt: "2026-11-01T00:10:00+08:00"), headers: [county])

            // The e-government link went down at 23:30 on 31 October: the city has
            // 澧县's cases up to then, and the morning after, October is not frozen.
            try await countyCalls(disputePort, completeAsOf: "2026-10-31T23:30:00+08:00")
            let waiting = try await index.call(IndexServiceMethods.computeMonthlyIndex, october, headers: [cityLeader])
            #expect(waiting.version.status == .provisional && waiting.version.version == 1)

            // Back at noon: the relay's next call says everything before 11:59 is there.
            clock.advance(by: 4 * 3600)
            try await countyCalls(disputePort, completeAsOf: "2026-11-01T11:59:00+08:00")
            let frozen = try await index.call(IndexServiceMethods.computeMonthlyIndex, october, headers: [cityLeader])
            #expect(frozen.version.status == .frozen && frozen.version.version == 1)
        }
    }

    /// The city holds none of 澧县's grids or warnings: it scores its villages' screening and
    /// warnings from the counts 澧县's index-service sends, and freezes a month only once
    /// those counts were read after its end, as for its cases.
    @Test func aCountysCountsAreScoredInItsVillagesAndHoldItsMonthUntilReadAfterItsEnd() async throws {
        let clock = ManualClock(morningOf: "2026-11-01")
        try await withIndexMesh(clock) { index, peers, _ in
            let disputePort = try port(peers[.dispute])
            let cityLeader = try person(TestMesh.root, [.leader])
            let county = try person(Place.lixian, [.federation])
            let october = Pingan_Index_V1_ComputeMonthlyIndexRequest.with { $0.month = "2026-10" }
            func send(_ request: Pingan_Index_V1_ReceiveCountyFactsRequest, as caller: (String, String)? = nil) async throws -> Bool {
                try await index.call(IndexFederationServiceMethods.receiveCountyFacts, request, headers: [caller ?? county]).taken
            }
            func coverage() async throws -> Double? {
                // Village A's township: the test mesh registers no villages, so its facts count there.
                let ranking = try await index.call(IndexServiceMethods.getRanking, .with { $0.parentCode = Place.lixian; $0.month = "2026-10" }, headers: [cityLeader])
                return ranking.scores.first { $0.code == Place.townA }?.indicators.first { $0.indicator == "screening_coverage" }?.value
            }
            try await countyCalls(disputePort, completeAsOf: "2026-11-01T07:00:00+08:00")

            // Read on 31 October, before the month's end: scored, not frozen.
            #expect(try await send(Self.counts(readAt: "2026-10-31T20:00:00+08:00", screened: 31)))
            #expect(try await index.call(IndexServiceMethods.computeMonthlyIndex, october, headers: [cityLeader]).version.status == .provisional)
            #expect(try await coverage() == 31.0 / 62)

            // Read after the end: the month freezes with the county's last count. An older
            // read arriving late changes nothing.
            #expect(try await send(Self.counts(readAt: "2026-11-01T00:10:00+08:00", screened: 40)))
            #expect(try await send(Self.counts(readAt: "2026-10-31T21:00:00+08:00", screened: 1)) == false)
            #expect(try await index.call(IndexServiceMethods.computeMonthlyIndex, october, headers: [cityLeader]).version.status == .frozen)
            // Rates are kept to four places.
            #expect(try await coverage() == 0.6452)

            // Refused, naming what is wrong; nothing of them is kept.
            await expectCode(.invalidArgument, containing: "villages[0].village_code") {
                _ = try await send(Self.counts(readAt: "2026-11-01T00:20:00+08:00", village: "430724101201"))
            }
            await expectCode(.invalidArgument, containing: "villages[0].grids") {
                _ = try await send(Self.counts(readAt: "2026-11-01T00:20:00+08:00", grids: -1))
            }
            await expectCode(.invalidArgument, containing: "month") {
                _ = try await send(Self.counts("2026-12", readAt: "2026-11-01T00:20:00+08:00"))
            }
            await expectCode(.invalidArgument, containing: "read_at") {
                _ = try await send(Self.counts(readAt: "昨晚"))
            }
            // Only a county's federation key sends counts: not a township's, not a person's.
            await expectCode(.permissionDenied) {
                _ = try await send(Self.counts(readAt: "2026-11-01T00:20:00+08:00"), as: try person(Place.townA, [.federation]))
            }
            await expectCode(.permissionDenied) {
                _ = try await send(Self.counts(readAt: "2026-11-01T00:20:00+08:00"), as: try person(Place.lixian, [.leader, .staff]))
            }
            #expect(try await send(Self.counts(readAt: "2026-11-01T00:30:00+08:00", screened: 40)))
        }
    }

    /// 澧县's half, against the city's index-service: each round sends the running month, and
    /// an ended month until the city has its counts from a read after its end; a round the
    /// city does not answer records nothing, and the next sends what it missed.
    @Test func theCountySendsTheRunningMonthAndAnEndedOneUntilTheCityHasItFromAfterItsEnd() async throws {
        let clock = ManualClock(morningOf: "2026-10-31")
        try await withIndexMesh(clock) { _, peers, database in
            let settings = IndexSettings(service: try TestMesh.settings(databaseURL: database.url, peers: peers))
            try await withLiveServer({ try IndexApp.build(settings: settings, now: { clock.now }, onServerRunning: $0) }) { cityPort in
                let county = try DivisionCode(validating: Place.lixian)
                let countyPeers = IndexPeers(
                    grid: ConnectClient(baseURL: try #require(peers[.grid]), transport: transport),
                    dispute: ConnectClient(baseURL: try #require(peers[.dispute]), transport: transport),
                    risk: ConnectClient(baseURL: try #require(peers[.risk]), transport: transport),
                    verifier: try PrincipalVerifier(meshSecret: TestMesh.secret), root: county
                )
                let pool = database.pool()
                defer { Task { await pool.close() } }
                func relay(to port: Int) throws -> CountyFactsRelay {
                    CountyFactsRelay(
                        client: ConnectClient(baseURL: "http://127.0.0.1:\(port)", transport: transport),
                        credentials: try person(Place.lixian, [.federation]), peers: countyPeers, store: CountyCountsStore(pool: pool), now: { clock.now }
                    )
                }
                // The first round: the running month and the twelve before it, none sent yet.
                let first = try await relay(to: cityPort).round()
                #expect(first.map(\.description) == (0...12).reversed().map { Month(parsing: "2026-10")!.adding(months: -$0).description })
                #expect(try await relay(to: cityPort).round().map(\.description) == ["2026-10"])

                // November begins while the city cannot be reached: nothing is recorded as sent.
                clock.set(morningOf: "2026-11-01")
                await #expect(throws: (any Error).self) { _ = try await relay(to: 9).round() }
                #expect(try await relay(to: cityPort).round().map(\.description) == ["2026-10", "2026-11"])
                #expect(try await relay(to: cityPort).round().map(\.description) == ["2026-11"])
                let read = try #require(try await pool.query(
                    "SELECT read_at FROM index.county_reads WHERE county_code = $1 AND month = '2026-10'", [Place.lixian]
                ).first?.decode(Date.self, at: 0))
                #expect(read >= Month(parsing: "2026-10")!.range.end)
            }
        }
    }
}
