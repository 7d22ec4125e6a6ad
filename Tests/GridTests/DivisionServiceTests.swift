import PinganAccess
import PinganDomain
import PinganRuntime
import Foundation
@testable import GridService
import PinganConnect
import PinganContracts
import PinganPostgres
import PinganTestSupport
import Testing

/// Runs grid-service on a fresh database and calls it over real HTTP with the libcurl client.
func withGridService<R: Sendable>(_ body: (ConnectClient, TestDatabase) async throws -> R) async throws -> R {
    try await TestDatabase.with { database in
        let settings = try TestMesh.settings(databaseURL: database.url)
        return try await withLiveServer({ onRunning in
            try GridApp.build(settings: settings, onServerRunning: onRunning)
        }) { port in
            var client = ConnectClient.Configuration()
            client.codec = .json
            return try await body(ConnectClient(baseURL: "http://127.0.0.1:\(port)", transport: CurlTransport(), configuration: client), database)
        }
    }
}

let shipped = try! DivisionCSV(parsing: try! GridApp.bundledDivisionsCSV())

@Suite("grid-service DivisionService")
struct DivisionServiceTests {
    @Test func getDivisionAnswersFromTheRealTree() async throws {
        try await withGridService { client, _ in
            var request = Pingan_Grid_V1_GetDivisionRequest()
            request.code = "430723000000"
            let division = try await client.call(DivisionServiceMethods.getDivision, request).division
            #expect(division.name == "澧县")
            #expect(division.level == .county)
            #expect(division.parentCode == "430700000000")

            request.code = "430781103000"
            let township = try await client.call(DivisionServiceMethods.getDivision, request).division
            #expect(township.name == shipped.rows.first { $0.division.code.rawValue == "430781103000" }?.division.name)
            #expect(township.level == .township)

            request.code = "430799999000"
            await expectCode(.notFound, containing: "430799999000") { _ = try await client.call(DivisionServiceMethods.getDivision, request) }
            request.code = "4307"
            await expectCode(.invalidArgument, containing: "code:") { _ = try await client.call(DivisionServiceMethods.getDivision, request) }
            request.code = ""
            await expectCode(.invalidArgument, containing: "code: is required") { _ = try await client.call(DivisionServiceMethods.getDivision, request) }
        }
    }

    /// A page names its rows' villages in one call: the ones that exist come back in code
    /// order, once each; a code no division has is left out, and a bad code is refused by its
    /// position.
    @Test func batchGetDivisionsNamesSeveralAtOnce() async throws {
        try await withGridService { client, _ in
            var request = Pingan_Grid_V1_BatchGetDivisionsRequest()
            request.codes = ["430781103000", "430723000000", "430799999000", "430723000000", "430700000000"]
            let divisions = try await client.call(DivisionServiceMethods.batchGetDivisions, request).divisions
            #expect(divisions.map(\.code) == ["430700000000", "430723000000", "430781103000"])
            #expect(divisions.map(\.name).prefix(2) == ["常德市", "澧县"])
            #expect(divisions[2].name == shipped.rows.first { $0.division.code.rawValue == "430781103000" }?.division.name)
            #expect(divisions[1].level == .county && divisions[1].parentCode == "430700000000")

            request.codes = ["430723000000", "4307"]
            await expectCode(.invalidArgument, containing: "codes[1]:") { _ = try await client.call(DivisionServiceMethods.batchGetDivisions, request) }
            request.codes = []
            await expectCode(.invalidArgument, containing: "codes:") { _ = try await client.call(DivisionServiceMethods.batchGetDivisions, request) }
            request.codes = Array(repeating: "430723000000", count: DivisionServiceHandler.maxBatch + 1)
            await expectCode(.invalidArgument, containing: "at most 500") { _ = try await client.call(DivisionServiceMethods.batchGetDivisions, request) }
        }
    }

    @Test func listChildrenPagesThroughEveryCounty() async throws {
        try await withGridService { client, _ in
            var request = Pingan_Grid_V1_ListChildrenRequest()
            request.code = "430700000000"
            request.pageSize = 3
            var codes: [String] = []
            var pages = 0
            repeat {
                let page = try await client.call(DivisionServiceMethods.listChildren, request)
                #expect(page.divisions.count <= 3)
                #expect(page.divisions.allSatisfy { $0.level == .county && $0.parentCode == "430700000000" })
                codes += page.divisions.map(\.code)
                request.pageToken = page.nextPageToken
                pages += 1
            } while !request.pageToken.isEmpty
            let expected = shipped.rows.filter { $0.division.level == .county }.map(\.division.code.rawValue)
            #expect(codes == expected)
            #expect(pages == 4)
        }
    }

    @Test func listSubtreeReturnsEverythingBelowInCodeOrder() async throws {
        try await withGridService { client, _ in
            var request = Pingan_Grid_V1_ListSubtreeRequest()
            request.code = "430700000000"
            request.pageSize = 500
            let city = try await client.call(DivisionServiceMethods.listSubtree, request)
            #expect(city.divisions.count == 188)
            #expect(city.nextPageToken.isEmpty)
            #expect(city.divisions.map(\.code) == city.divisions.map(\.code).sorted())

            request.code = "430781000000"
            request.pageSize = 4
            var codes: [String] = []
            repeat {
                let page = try await client.call(DivisionServiceMethods.listSubtree, request)
                codes += page.divisions.map(\.code)
                request.pageToken = page.nextPageToken
            } while !request.pageToken.isEmpty
            #expect(codes == shipped.rows.filter { $0.division.code.rawValue.hasPrefix("430781") && $0.division.level == .township }.map(\.division.code.rawValue))
        }
    }

    @Test func pagingInputIsChecked() async throws {
        try await withGridService { client, _ in
            var request = Pingan_Grid_V1_ListSubtreeRequest()
            request.code = "430700000000"
            request.pageSize = 501
            await expectCode(.invalidArgument, containing: "page_size") { _ = try await client.call(DivisionServiceMethods.listSubtree, request) }
            request.pageSize = -1
            await expectCode(.invalidArgument, containing: "page_size") { _ = try await client.call(DivisionServiceMethods.listSubtree, request) }
            request.pageSize = 10
            request.pageToken = "garbage"
            await expectCode(.invalidArgument, containing: "page_token") { _ = try await client.call(DivisionServiceMethods.listSubtree, request) }
            // A token from another subtree is refused too.
            var other = Pingan_Grid_V1_ListSubtreeRequest()
            other.code = "430723000000"
            other.pageSize = 1
            request.code = "430781000000"
            request.pageToken = try await client.call(DivisionServiceMethods.listSubtree, other).nextPageToken
            await expectCode(.invalidArgument, containing: "page_token") { _ = try await client.call(DivisionServiceMethods.listSubtree, request) }
            var children = Pingan_Grid_V1_ListChildrenRequest()
            children.code = "430799999000"
            await expectCode(.notFound) { _ = try await client.call(DivisionServiceMethods.listChildren, children) }
        }
    }

    @Test func importRegistersVillagesIdempotently() async throws {
        try await withGridService { client, database in
            let villages = """
                code,name,level,parent_code
                430723102201,测试村一（生成）,village,430723102000
                430723102202,测试村二（生成）,village,430723102000
                430723102001,测试社区（生成）,village,430723102000
                """
            var request = Pingan_Grid_V1_ImportDivisionsRequest()
            request.csv = villages
            let first = try await client.call(DivisionServiceMethods.importDivisions, request, options: try admin())
            #expect((first.inserted, first.updated, first.unchanged) == (3, 0, 0))
            let again = try await client.call(DivisionServiceMethods.importDivisions, request, options: try admin())
            #expect((again.inserted, again.updated, again.unchanged) == (0, 0, 3))

            request.csv = villages.replacingOccurrences(of: "测试村二（生成）", with: "测试村二改（生成）")
            let renamed = try await client.call(DivisionServiceMethods.importDivisions, request, options: try admin())
            #expect((renamed.inserted, renamed.updated, renamed.unchanged) == (0, 1, 2))

            var get = Pingan_Grid_V1_GetDivisionRequest()
            get.code = "430723102202"
            let village = try await client.call(DivisionServiceMethods.getDivision, get).division
            #expect(village.name == "测试村二改（生成）")
            #expect(village.level == .village)
            var children = Pingan_Grid_V1_ListChildrenRequest()
            children.code = "430723102000"
            #expect(try await client.call(DivisionServiceMethods.listChildren, children).divisions.map(\.code) == ["430723102001", "430723102201", "430723102202"])
        }
    }

    @Test func badImportWritesNothing() async throws {
        try await withGridService { client, database in
            let pool = database.pool(maxConnections: 1)
            let before = try await pool.query("SELECT count(*) FROM grid.divisions")[0].decode(Int.self, at: 0)
            var request = Pingan_Grid_V1_ImportDivisionsRequest()
            // Line 3 hangs off a township that does not exist.
            request.csv = """
                code,name,level,parent_code
                430723102299,好村（生成）,village,430723102000
                430799999201,孤村（生成）,village,430799999000
                """
            await expectCode(.invalidArgument, containing: "line 3") { _ = try await client.call(DivisionServiceMethods.importDivisions, request, options: try admin()) }
            request.csv = "code,name,level,parent_code\n430723102299,好村（生成）,village,430723102000\n43072310229,坏,village,430723102000\n"
            await expectCode(.invalidArgument, containing: "csv: line 3") { _ = try await client.call(DivisionServiceMethods.importDivisions, request, options: try admin()) }
            let after = try await pool.query("SELECT count(*) FROM grid.divisions")[0].decode(Int.self, at: 0)
            #expect(after == before)
            await pool.close()
        }
    }

    @Test func importNeedsAnAdministratorWhoseCentreCoversEveryRow() async throws {
        try await withGridService { client, _ in
            var request = Pingan_Grid_V1_ImportDivisionsRequest()
            request.csv = "code,name,level,parent_code\n430723102201,测试村（生成）,village,430723102000\n"
            await expectCode(.unauthenticated) { _ = try await client.call(DivisionServiceMethods.importDivisions, request) }
            let staff = CallOptions(headers: [try TestMesh.principal(centre: "430700000000", roles: [.staff])])
            await expectCode(.permissionDenied, containing: "roles") { _ = try await client.call(DivisionServiceMethods.importDivisions, request, options: staff) }
            let otherCounty = CallOptions(headers: [try TestMesh.principal(centre: "430781000000", roles: [.admin])])
            await expectCode(.permissionDenied, containing: "line 2") { _ = try await client.call(DivisionServiceMethods.importDivisions, request, options: otherCounty) }
            let forged = CallOptions(headers: [("Pingan-Principal", "eyJ9.AAAA")])
            await expectCode(.unauthenticated) { _ = try await client.call(DivisionServiceMethods.importDivisions, request, options: forged) }
        }
    }

    @Test func readinessAndMigrations() async throws {
        try await withGridService { client, database in
            var health = Grpc_Health_V1_HealthCheckRequest()
            health.service = ""
            #expect(try await client.call(HealthMethods.check, health).status == .serving)
            let ready = try await CurlTransport().get(url: client.baseURL + "/readyz")
            #expect(ready.status == 200)
            let metrics = String(decoding: try await CurlTransport().get(url: client.baseURL + "/metrics").body, as: UTF8.self)
            #expect(metrics.contains("pingan_db_pool_in_use "))
            #expect(metrics.contains("pingan_db_pool_waiting 0"))
            #expect(metrics.contains(#"pingan_rpc_requests_total{method="/grpc.health.v1.Health/Check",code="ok"} 1"#))
            let pool = database.pool(maxConnections: 1)
            let versions = try await pool.query("SELECT version FROM grid.schema_migrations ORDER BY version").map { try $0.decode(Int.self, at: 0) }
            #expect(versions == GridMigrations.all.map(\.version))
            #expect(try await pool.query("SELECT count(*) FROM grid.divisions")[0].decode(Int.self, at: 0) == 189)
            await pool.close()
        }
    }
}

/// A city administrator, who may register divisions anywhere in Changde.
func admin() throws -> CallOptions {
    CallOptions(headers: [try TestMesh.principal(centre: "430700000000", roles: [.admin])])
}
