import Foundation
import PinganConnect
import PinganContracts
import PinganTestSupport
import Testing

/// The gateway killed with SIGKILL right after it answered: every call it answered is in
/// `gateway.access_log` once the gateway is started again on its spool, and none twice.
@Suite("end to end: the access log through a SIGKILL of the gateway")
struct AccessLogKillTests {
    @Test func aGatewayKilledRightAfterItsCallsLosesNoneOfTheirRowsAndRepeatsNone() async throws {
        try await withMesh { mesh, _, _ in
            let method = DivisionServiceMethods.getDivision.path
            func logged(_ subject: String) async throws -> Int {
                try await mesh.count("SELECT count(*) FROM gateway.access_log WHERE subject = 'user:\(subject)' AND method = '\(method)'")
            }
            // A township's window clerk opens its villages, thirty times over.
            var request = Pingan_Grid_V1_GetDivisionRequest()
            request.code = Place.villageA1
            for _ in 0..<30 { _ = try await mesh.call(DivisionServiceMethods.getDivision, request, as: "town-a") }
            await mesh.kill("gateway")
            // The log is written once a second, so most or all of the thirty were on disk only.
            let beforeRestart = try await logged("town-a")
            try await mesh.start("gateway")
            #expect(await eventually(timeout: .seconds(20)) { try await logged("town-a") == 30 }, "\(beforeRestart) were written before the kill")

            // A later call's row is written by a later round; by then a second copy of the
            // spool's file would be there too.
            request.code = Place.villageB1
            _ = try await mesh.call(DivisionServiceMethods.getDivision, request, as: "town-b")
            #expect(await eventually(timeout: .seconds(20)) { try await logged("town-b") == 1 })
            #expect(try await logged("town-a") == 30)
        }
    }
}
