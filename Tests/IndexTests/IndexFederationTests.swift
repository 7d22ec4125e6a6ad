import Foundation
import PinganAccess
import PinganConnect
import PinganContracts
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

    @Test func anEndedMonthIsFrozenOnlyOnceEveryCountysCopiesArePastItsEnd() async throws {
        let clock = ManualClock(morningOf: "2026-11-01")
        try await withIndexMesh(clock) { index, _, disputePort, _ in
            let cityLeader = try person(TestMesh.root, [.leader])
            let october = Pingan_Index_V1_ComputeMonthlyIndexRequest.with { $0.month = "2026-10" }

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
}
