import DisputeService
import Foundation
import GridService
import IndexService
import PinganAccess
import PinganConnect
import PinganContracts
import PinganTestSupport
import RiskService
import Testing

/// The mesh the index reads from, on one database and one clock: grid, risk and dispute on
/// real ports, index-service in process. `body` gets the index, grid's and dispute's ports
/// and the database.
func withIndexMesh(
    _ clock: ManualClock, _ body: @escaping @Sendable (_ index: InProcessClient, _ peers: [MeshService: String], TestDatabase) async throws -> Void
) async throws {
    try await TestDatabase.with { database in
        let base = try TestMesh.settings(databaseURL: database.url)
        try await withLiveServer({ try GridApp.build(settings: base, now: { clock.now }, onServerRunning: $0) }) { gridPort in
            try await withLiveServer({ try RiskApp.build(settings: RiskSettings(service: base), now: { clock.now }, onServerRunning: $0) }) { riskPort in
                let disputeSettings = DisputeSettings(
                    service: try TestMesh.settings(databaseURL: database.url, peers: [.risk: "http://127.0.0.1:\(riskPort)"]), overdueScanInterval: .seconds(3600)
                )
                try await withLiveServer({ try DisputeApp.build(settings: disputeSettings, now: { clock.now }, onServerRunning: $0) }) { disputePort in
                    let peers: [MeshService: String] = [
                        .grid: "http://127.0.0.1:\(gridPort)", .dispute: "http://127.0.0.1:\(disputePort)", .risk: "http://127.0.0.1:\(riskPort)",
                    ]
                    let settings = IndexSettings(service: try TestMesh.settings(databaseURL: database.url, peers: peers))
                    try await IndexApp.build(settings: settings, now: { clock.now }).test(.router) { client in
                        try await body(InProcessClient(client), peers, database)
                    }
                }
            }
        }
    }
}

/// The port of a peer's `http://127.0.0.1:PORT` URL.
func port(_ url: String?) throws -> Int {
    try #require(url.flatMap { URL(string: $0)?.port })
}
