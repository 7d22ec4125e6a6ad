import Foundation
import PinganAccess
import PinganDomain
import PinganConnect
import PinganContracts
import PinganPostgres
import PinganTestSupport
import Testing

@Suite("jurisdiction and bad input at the gateway", .serialized)
struct JurisdictionTests {
    @Test func centresSeeTheirOwnSubtreeOnly() async throws {
        try await withMesh { mesh, setup, _ in
            _ = try await mesh.report(in: Place.villageB1, setup: setup, highRisk: false)
            _ = try await mesh.report(in: Place.villageA2, setup: setup, highRisk: false)
            let opened = await eventually { try await mesh.count("SELECT count(*) FROM dispute.cases") == 2 }
            #expect(opened)
            var list = Pingan_Dispute_V1_ListCasesRequest()
            list.divisionCode = Place.lixian
            let all = try await mesh.call(DisputeServiceMethods.listCases, list, as: "lixian-staff").cases
            let caseB = try #require(all.first { $0.villageCode == Place.villageB1 })
            let caseA2 = try #require(all.first { $0.villageCode == Place.villageA2 })

            // A township cannot read or change a case of its sibling, and cannot tell it exists.
            var get = Pingan_Dispute_V1_GetCaseRequest()
            get.caseID = caseB.id
            await expectCode(.notFound, containing: "case \(caseB.id) not found") { _ = try await mesh.call(DisputeServiceMethods.getCase, get, as: "town-a") }
            let missing = UUID().uuidString
            get.caseID = missing
            await expectCode(.notFound, containing: "case \(missing) not found") { _ = try await mesh.call(DisputeServiceMethods.getCase, get, as: "town-a") }
            var resolve = Pingan_Dispute_V1_ResolveCaseRequest()
            resolve.caseID = caseB.id
            resolve.outcome = "调解成功"
            await expectCode(.notFound) { _ = try await mesh.call(DisputeServiceMethods.resolveCase, resolve, as: "town-a") }
            do { let got = try await mesh.count("SELECT count(*) FROM dispute.cases WHERE status = 'resolved'"); #expect(got == 0) }
            list.divisionCode = Place.townB
            await expectCode(.permissionDenied) { _ = try await mesh.call(DisputeServiceMethods.listCases, list, as: "town-a") }
            // Its own township's case it can resolve.
            resolve.caseID = caseA2.id
            do { let got = try await mesh.call(DisputeServiceMethods.resolveCase, resolve, as: "town-a").case.status; #expect(got == .resolved) }

            // A village cannot read its township's other villages.
            get.caseID = caseA2.id
            await expectCode(.notFound) { _ = try await mesh.call(DisputeServiceMethods.getCase, get, as: "village-a1") }
            list.divisionCode = Place.townA
            await expectCode(.permissionDenied) { _ = try await mesh.call(DisputeServiceMethods.listCases, list, as: "village-a1") }
            list.divisionCode = Place.villageA1
            #expect(try await mesh.call(DisputeServiceMethods.listCases, list, as: "village-a1").cases.isEmpty)

            // A county gateway serves its county only, whatever a city-wide token says.
            let countyPort = try freePort()
            mesh.ports["county-gateway"] = countyPort
            mesh.processes["county-gateway"] = try ChildProcess(
                name: "county-gateway", executable: "\(mesh.bin)/gateway",
                environment: mesh.environment(for: "gateway", extra: ["PORT": String(countyPort), "GATEWAY_CENTRE": Place.lixian]),
                logDirectory: mesh.logDirectory
            )
            let county = "http://127.0.0.1:\(countyPort)"
            do { let got = await eventually { try await mesh.get(county + "/readyz").status == 200 }; #expect(got) }
            list.divisionCode = Place.jinshi
            #expect(try await mesh.call(DisputeServiceMethods.listCases, list, as: "city-admin").cases.isEmpty)
            await expectCode(.permissionDenied) { _ = try await mesh.call(DisputeServiceMethods.listCases, list, as: "city-admin", gateway: county) }
            list.divisionCode = Place.lixian
            do { let got = try await mesh.call(DisputeServiceMethods.listCases, list, as: "city-admin", gateway: county).cases.count; #expect(got == 2) }
            // A user of another county is refused outright at this gateway, even for its own county.
            list.divisionCode = Place.jinshi
            let jinshiCases = try await mesh.call(DisputeServiceMethods.listCases, list, as: "jinshi-staff").cases
            #expect(jinshiCases.isEmpty)
            await expectCode(.permissionDenied, containing: "this gateway serves centre \(Place.lixian)") {
                _ = try await mesh.call(DisputeServiceMethods.listCases, list, as: "jinshi-staff", gateway: county)
            }
        }
    }

    /// Each service runs as its own database role, as deployed: it owns its schema, and
    /// another service's data is out of its reach even with SQL.
    @Test func eachServiceReachesOnlyItsOwnSchema() async throws {
        try await withMesh { mesh, setup, _ in
            #expect(mesh.perServiceRoles, "test.sh creates the service roles (deploy/postgres/roles.sql)")
            _ = try await mesh.report(in: Place.villageA1, setup: setup, highRisk: false)
            #expect(await eventually(timeout: .seconds(30)) { try await mesh.count("SELECT count(*) FROM dispute.cases") == 1 })
            #expect(try await mesh.count("SELECT count(*) FROM pg_namespace WHERE nspname = 'dispute' AND pg_get_userbyid(nspowner) = 'pingan_dispute'") == 1)
            let risk = PostgresPool(configuration: .init(url: mesh.databaseURL(for: "risk"), maxConnections: 1), logger: TestEnvironment.logger)
            defer { Task { await risk.close() } }
            #expect(try await risk.query("SELECT count(*) FROM risk.assessments")[0].decode(Int.self, at: 0) >= 0)
            do {
                _ = try await risk.query("SELECT count(*) FROM dispute.cases")
                Issue.record("risk-service's role read dispute.cases")
            } catch let error as PostgresError {
                #expect(error.message.contains("permission denied"))
            }
            // The bulk imports (risk's warnings, index's surveys, grid's fallback) stage a
            // batch in a temporary table, so each role may create one.
            for service in ["grid", "risk", "index"] {
                let pool = PostgresPool(configuration: .init(url: mesh.databaseURL(for: service), maxConnections: 1), logger: TestEnvironment.logger)
                defer { Task { await pool.close() } }
                try await pool.query("CREATE TEMP TABLE staged (n integer)")
                #expect(try await pool.query("SELECT count(*) FROM staged")[0].decode(Int.self, at: 0) == 0)
            }
        }
    }

    @Test func unauthenticatedAndInternalCallsAreRefused() async throws {
        try await withMesh { mesh, setup, _ in
            var list = Pingan_Dispute_V1_ListCasesRequest()
            list.divisionCode = Place.city
            let gateway = ConnectClient(baseURL: mesh.url("gateway"), transport: mesh.transport)
            await expectCode(.unauthenticated) { _ = try await gateway.call(DisputeServiceMethods.listCases, list) }
            await expectCode(.unauthenticated) {
                _ = try await gateway.call(DisputeServiceMethods.listCases, list, options: .init(headers: [("Authorization", "Bearer forged.token")]))
            }
            var login = Pingan_Gateway_V1_LoginRequest()
            login.username = "town-a"
            login.password = "wrong-password-123"
            await expectCode(.unauthenticated, containing: "wrong username or password") { _ = try await gateway.call(AuthServiceMethods.login, login) }
            login.username = "nobody-here"
            await expectCode(.unauthenticated, containing: "wrong username or password") { _ = try await gateway.call(AuthServiceMethods.login, login) }
            // A department system presents an API key, and acts for its centre only.
            let (status, key) = try await ChildProcess.run(
                "\(mesh.bin)/gateway", ["add-api-key", "lixian-police", Place.lixian, "staff"],
                environment: mesh.environment(for: "gateway"), logPath: "\(mesh.logDirectory)/add-api-key.log"
            )
            #expect(status == 0)
            let apiKey = try #require(key.split(separator: "\n").last.map(String.init))
            #expect(apiKey.hasPrefix("pk_"))
            list.divisionCode = Place.lixian
            let viaKey = try await gateway.call(DisputeServiceMethods.listCases, list, options: .init(headers: [("X-Api-Key", apiKey)]))
            #expect(viaKey.cases.isEmpty)
            list.divisionCode = Place.jinshi
            await expectCode(.permissionDenied) { _ = try await gateway.call(DisputeServiceMethods.listCases, list, options: .init(headers: [("X-Api-Key", apiKey)])) }
            await expectCode(.unauthenticated) { _ = try await gateway.call(DisputeServiceMethods.listCases, list, options: .init(headers: [("X-Api-Key", "pk_wrong")])) }
            // Event deliveries between services are not reachable from outside.
            var open = Pingan_Dispute_V1_OpenCaseRequest()
            open.incidentID = UUID().uuidString
            open.villageCode = Place.villageA1
            await expectCode(.permissionDenied) { _ = try await mesh.call(DisputeServiceMethods.openCase, open, as: "city-admin") }
            // Nor straight at the service without the mesh's signature.
            let dispute = ConnectClient(baseURL: mesh.url("dispute"), transport: mesh.transport)
            await expectCode(.unauthenticated) { _ = try await dispute.call(DisputeServiceMethods.openCase, open) }
            do { let got = try await mesh.count("SELECT count(*) FROM dispute.cases"); #expect(got == 0) }
            _ = setup
        }
    }

    @Test func badInputIsInvalidArgumentNamingTheFieldAndWritesNothing() async throws {
        try await withMesh { mesh, setup, _ in
            let grid = try #require(setup.grids[Place.villageA1])
            let path = GridServiceMethods.reportIncident.path
            let valid = #""gridId":"\#(grid.grid)","reporterMemberId":"\#(grid.member)","parties":[{"name":"张三"}]"#
            let cases: [(String, String)] = [
                (#"{"reporterMemberId":"\#(grid.member)","category":"INCIDENT_CATEGORY_LAND","description":"x","parties":[{"name":"张三"}]}"#, "grid_id"),
                (#"{\#(valid),"description":"x"}"#, "category"),
                (#"{\#(valid),"category":"INCIDENT_CATEGORY_LAND"}"#, "description"),
                (#"{\#(valid),"category":"INCIDENT_CATEGORY_NOT_A_THING","description":"x"}"#, "category"),
                (#"{\#(valid),"category":"INCIDENT_CATEGORY_LAND","description":"x","priorPoliceCalls":"many"}"#, "priorPoliceCalls"),
                (#"{\#(valid),"category":"INCIDENT_CATEGORY_LAND","description":"x","threatOfViolence":"yes"}"#, "threatOfViolence"),
                (#"{\#(valid),"category":"INCIDENT_CATEGORY_LAND","description":"\#(String(repeating: "长", count: 350_000))"}"#, "description"),
                (#"{"gridId":"not-a-uuid","reporterMemberId":"\#(grid.member)","category":"INCIDENT_CATEGORY_LAND","description":"x","parties":[{"name":"张三"}]}"#, "grid_id"),
                (#"{\#(valid),"category":"INCIDENT_CATEGORY_LAND","description":"x","priorPoliceCalls":1000}"#, "prior_police_calls"),
            ]
            for (json, field) in cases {
                await expectCode(.invalidArgument, containing: field) { _ = try await mesh.postJSON(path, json, as: "city-admin") }
            }
            var list = Pingan_Dispute_V1_ListCasesRequest()
            list.divisionCode = "43072310220"
            await expectCode(.invalidArgument, containing: "division_code") { _ = try await mesh.call(DisputeServiceMethods.listCases, list, as: "city-admin") }
            var grid2 = Pingan_Grid_V1_CreateGridRequest()
            grid2.villageCode = Place.townA
            grid2.name = "网格"
            await expectCode(.invalidArgument, containing: "village_code") { _ = try await mesh.call(GridServiceMethods.createGrid, grid2, as: "city-admin") }
            do { let got = try await mesh.count("SELECT count(*) FROM grid.incidents"); #expect(got == 0) }
            do { let got = try await mesh.count("SELECT count(*) FROM grid.outbox"); #expect(got == 0) }
            do { let got = try await mesh.count("SELECT count(*) FROM grid.grids"); #expect(got == 3) }
        }
    }
}
