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

/// The tables a case's parties and the words about them are kept in.
let partyTables = ["cases", "case_reports", "timeline", "rung_attempts", "rung_skips", "agreements", "return_visits", "summons"]

/// How many rows of each of ``partyTables`` hold `needle` anywhere in their text; tables
/// without one are left out.
func rowsHolding(_ needle: String, in database: TestDatabase) async throws -> [String: Int] {
    let pool = database.pool()
    defer { Task { await pool.close() } }
    var found: [String: Int] = [:]
    for table in partyTables {
        let rows = try await pool.query("SELECT count(*) FROM dispute.\(table) t WHERE strpos(t::text, $1) > 0", [needle]).first?.decode(Int.self, at: 0) ?? 0
        if rows > 0 { found[table] = rows }
    }
    return found
}
