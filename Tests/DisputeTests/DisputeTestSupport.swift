@testable import DisputeService
import Foundation
import PinganConnect
import PinganContracts
import PinganTestSupport

/// dispute-service in process on a database of its own, its clock `now`, and its overdue scan
/// out of the way (a test runs it when its story needs it).
func withDispute(now: @escaping @Sendable () -> Date = { Date() }, _ body: @escaping @Sendable (InProcessClient, TestDatabase) async throws -> Void) async throws {
    try await TestDatabase.with { database in
        let settings = DisputeSettings(service: try TestMesh.settings(databaseURL: database.url), overdueScanInterval: .seconds(3600))
        let app = try DisputeApp.build(settings: settings, now: now)
        try await app.test(.router) { client in try await body(InProcessClient(client), database) }
    }
}

/// The `OpenCase` event grid-service sends for `incident`: neighbours in `village` quarrelling
/// again over their boundary, reported by a grid worker, with `party` named.
func openCase(_ incident: UUID, village: String = Place.villageA, party: String = "张三丰") -> Pingan_Dispute_V1_OpenCaseRequest {
    var request = Pingan_Dispute_V1_OpenCaseRequest()
    request.incidentID = incident.wire
    request.villageCode = village
    request.category = .neighbour
    request.source = .gridReport
    request.description_p = "两户邻居因宅基地边界反复争吵"
    var person = Pingan_Grid_V1_Party()
    person.name = party
    person.phone = "13812345678"
    request.parties = [person]
    request.repeatIncident = true
    return request
}
