import Foundation
@testable import GridService
import PinganAccess
import PinganConnect
import PinganContracts
import PinganPostgres
import PinganRuntime
import PinganTestSupport
import Testing

/// Text the database cannot hold is refused by field before it gets there: NUL, and lengths
/// counted as PostgreSQL counts them (code points), never an `internal` error and never a
/// half-written record.
@Suite("grid-service text input")
struct GridInputTests {
    /// What a handler did not check, the database refuses; the answer still names the field,
    /// from the column or the check constraint PostgreSQL reports.
    @Test func fieldsAreTrimmedExactlyAsFoundationTrimsWhitespaceAndNewlines() throws {
        let space = (0...0x3000).compactMap(Unicode.Scalar.init).filter { $0.properties.isWhitespace }.map(String.init).joined()
        let texts = [
            "", " ", space, "张三", " 张三 ", "\t\n张 三\r\n", "\u{3000}李四\u{3000}", "\u{00A0}x\u{2029}", space + "王五" + space,
            "a\u{200B}", "\u{FEFF}b", "e\u{301} ", "\u{85}c\u{1680}", "🙂 ", " 🙂",
        ]
        for text in texts {
            #expect(try String.field(text, "f", length: 0...10_000) == text.trimmingCharacters(in: .whitespacesAndNewlines), "\(Array(text.unicodeScalars))")
        }
        #expect(space.unicodeScalars.count == 25)
        // Every code point of the basic plane, alone and beside a letter, trims as Foundation's does.
        // (NUL is refused outright, as the test below checks.)
        let differing = (1...0xFFFF).compactMap(Unicode.Scalar.init).filter { scalar in
            let text = "x" + String(scalar)
            return (try? String.field(text, "f", length: 0...10)) != text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        #expect(differing.isEmpty, "\(differing.prefix(10))")
    }

    @Test func theDatabasesLastLineOfDefenceNamesTheField() async throws {
        try await TestDatabase.with { database in
            let pool = database.pool()
            defer { Task { await pool.close() } }
            try await pool.query("CREATE TABLE parcels (id integer, village_code text NOT NULL, name text CHECK (length(name) < 5))")
            for (statement, field) in [
                ("INSERT INTO parcels VALUES (1, NULL, 'a')", "village_code"),
                ("INSERT INTO parcels VALUES (1, '430723102201', '第一二三四五')", "name"),
            ] {
                do {
                    try await pool.query(statement)
                    Issue.record("\(statement) was accepted")
                } catch let error as PostgresError {
                    #expect(error.field == field)
                    #expect(error.connectError?.message.hasPrefix(field + ": ") == true)
                }
            }
            do {
                try await pool.query("INSERT INTO parcels VALUES (1, '1', $1)", ["第一二三四五"])
                Issue.record("a name of six characters was accepted")
            } catch let error as PostgresError {
                #expect(error.connectError?.code == .invalidArgument)
                #expect(error.connectError?.message == "name: cannot be stored (too long, out of range or not valid text)")
            }
        }
    }

    @Test func nulAndCombiningMarksAreRefusedByFieldAndNothingIsWritten() async throws {
        try await withVillage { client, admin, database in

                var create = Pingan_Grid_V1_CreateGridRequest()
                create.villageCode = "430723102201"
                create.name = "第一\u{0}网格"
                await expectCode(.invalidArgument, containing: "name: contains a NUL character") {
                    _ = try await client.call(GridServiceMethods.createGrid, create, options: CallOptions(headers: [admin]))
                }
                // One character to Swift, 101 to PostgreSQL.
                create.name = "网" + String(repeating: "\u{301}", count: 100)
                #expect(create.name.count == 1)
                await expectCode(.invalidArgument, containing: "name: is longer than 100 characters") {
                    _ = try await client.call(GridServiceMethods.createGrid, create, options: CallOptions(headers: [admin]))
                }
                create.name = "第一网格"
                let grid = try await client.call(GridServiceMethods.createGrid, create, options: CallOptions(headers: [admin])).grid.id

                var add = Pingan_Grid_V1_AddGridMemberRequest()
                add.gridID = grid
                add.role = .gridWorker
                add.name = "王" + String(repeating: "\u{301}", count: 50)
                await expectCode(.invalidArgument, containing: "name: is longer than 50 characters") {
                    _ = try await client.call(GridServiceMethods.addGridMember, add, options: CallOptions(headers: [admin]))
                }
                add.name = "王小明"
                let member = try await client.call(GridServiceMethods.addGridMember, add, options: CallOptions(headers: [admin])).member.id

                var report = Self.neighbourReport(grid: grid, member: member)
                report.parties[0].name = "张\u{0}三"
                await expectCode(.invalidArgument, containing: "parties[0].name: contains a NUL character") {
                    _ = try await client.call(GridServiceMethods.reportIncident, report, options: CallOptions(headers: [admin]))
                }
                let pool = database.pool()
                defer { Task { await pool.close() } }
                let rows = try await pool.query(
                    "SELECT (SELECT count(*) FROM grid.grids) + (SELECT count(*) FROM grid.members) + (SELECT count(*) FROM grid.incidents) + (SELECT count(*) FROM grid.outbox)"
                )[0].decode(Int.self, at: 0)
                #expect(rows == 2)
        }
    }

    /// A phone that retries on a flaky network files one report, one grid, one member.
    @Test func retriesWithTheSameRequestIDCreateNothingTwice() async throws {
        try await withVillage { client, admin, database in

                var create = Pingan_Grid_V1_CreateGridRequest()
                create.villageCode = "430723102201"
                create.name = "第一网格"
                create.requestID = UUID().uuidString.lowercased()
                let grid = try await client.call(GridServiceMethods.createGrid, create, options: CallOptions(headers: [admin])).grid
                let again = try await client.call(GridServiceMethods.createGrid, create, options: CallOptions(headers: [admin])).grid
                #expect(again.id == grid.id && again.name == "第一网格")

                var add = Pingan_Grid_V1_AddGridMemberRequest()
                add.gridID = grid.id
                add.role = .gridWorker
                add.name = "王小明"
                add.requestID = UUID().uuidString.lowercased()
                let member = try await client.call(GridServiceMethods.addGridMember, add, options: CallOptions(headers: [admin])).member.id
                #expect(try await client.call(GridServiceMethods.addGridMember, add, options: CallOptions(headers: [admin])).member.id == member)

                let worker = try TestMesh.principal(centre: "430723102201", roles: [.gridWorker], subject: "user:wang")
                var report = Self.neighbourReport(grid: grid.id, member: member)
                let (first, second) = try await (
                    client.call(GridServiceMethods.reportIncident, report, options: CallOptions(headers: [worker])).incident,
                    client.call(GridServiceMethods.reportIncident, report, options: CallOptions(headers: [worker])).incident
                )
                #expect(first.id == second.id && first.reportedAt == second.reportedAt)
                // Someone else's key is not theirs to replay, and a key is not a UUID refused by field.
                await expectCode(.invalidArgument, containing: "request_id: was already used for another request") {
                    _ = try await client.call(GridServiceMethods.reportIncident, report, options: CallOptions(headers: [admin]))
                }
                report.requestID = "retry-1"
                await expectCode(.invalidArgument, containing: "request_id: is not a UUID") {
                    _ = try await client.call(GridServiceMethods.reportIncident, report, options: CallOptions(headers: [worker]))
                }
                #expect(try await Self.rowCounts(database, ["grid.grids", "grid.members", "grid.incidents", "grid.outbox"]) == [1, 1, 1, 1])
                // Filed by the signed-in worker, on record beside the member named as reporter.
                let pool = database.pool()
                defer { Task { await pool.close() } }
                #expect(try await pool.query("SELECT filed_by FROM grid.incidents")[0].decode(String.self, at: 0) == "user:wang")
                // What the report says about its people goes on in the event, to the case that
                // keeps it for mediation; grid-service keeps the count of people, not the words.
                let words = report.description_p
                #expect(try await pool.query("SELECT count(*) FROM grid.incidents i WHERE strpos(i::text, $1) > 0", [words])[0].decode(Int.self, at: 0) == 0)
                let event = try await pool.query("SELECT payload FROM grid.outbox")[0].decode(Data.self, at: 0)
                #expect(try Pingan_Dispute_V1_OpenCaseRequest(serializedBytes: event).description_p == words)
        }
    }

    /// A report is written before its grid and reporter are checked, in one round trip with
    /// them; a refused one leaves nothing behind: no incident, no event, no claimed key.
    @Test func aRefusedReportLeavesNothingBehind() async throws {
        try await withVillage { client, admin, database in
            var create = Pingan_Grid_V1_CreateGridRequest()
            create.villageCode = "430723102201"
            create.name = "第一网格"
            let grid = try await client.call(GridServiceMethods.createGrid, create, options: CallOptions(headers: [admin])).grid
            var add = Pingan_Grid_V1_AddGridMemberRequest()
            add.gridID = grid.id
            add.role = .gridWorker
            add.name = "王小明"
            let member = try await client.call(GridServiceMethods.addGridMember, add, options: CallOptions(headers: [admin])).member.id

            var report = Self.neighbourReport(grid: grid.id, member: UUID().uuidString.lowercased())
            let worker = try TestMesh.principal(centre: "430723102201", roles: [.gridWorker], subject: "user:wang")
            await expectCode(.invalidArgument, containing: "reporter_member_id: is not a member of grid") {
                _ = try await client.call(GridServiceMethods.reportIncident, report, options: CallOptions(headers: [worker]))
            }
            // A sibling township's worker: the grid reads as missing, as one that never existed.
            report.reporterMemberID = member
            let sibling = try TestMesh.principal(centre: "430723103000", roles: [.gridWorker], subject: "user:li")
            await expectCode(.notFound, containing: "grid \(grid.id) not found") {
                _ = try await client.call(GridServiceMethods.reportIncident, report, options: CallOptions(headers: [sibling]))
            }
            report.gridID = UUID().uuidString.lowercased()
            await expectCode(.notFound, containing: "not found") {
                _ = try await client.call(GridServiceMethods.reportIncident, report, options: CallOptions(headers: [worker]))
            }
            #expect(try await Self.rowCounts(database, ["grid.incidents", "grid.outbox", "grid.requests"]) == [0, 0, 0])
            // The same key then files the report once the right member sends it.
            report.gridID = grid.id
            let filed = try await client.call(GridServiceMethods.reportIncident, report, options: CallOptions(headers: [worker])).incident
            #expect(filed.villageCode == "430723102201" && filed.reporterMemberID == member)
        }
    }

    /// How many rows each of `tables` holds, in one query.
    static func rowCounts(_ database: TestDatabase, _ tables: [String]) async throws -> [Int] {
        let pool = database.pool()
        defer { Task { await pool.close() } }
        let row = try await pool.query("SELECT " + tables.map { "(SELECT count(*) FROM \($0))" }.joined(separator: ", "))[0]
        return try tables.indices.map { try row.decode(Int.self, at: $0) }
    }

    /// A neighbour dispute naming one party, reported from `grid` by `member`, with a new
    /// request id.
    static func neighbourReport(grid: String, member: String) -> Pingan_Grid_V1_ReportIncidentRequest {
        var report = Pingan_Grid_V1_ReportIncidentRequest()
        report.gridID = grid
        report.reporterMemberID = member
        report.category = .neighbour
        report.description_p = "邻里因噪音争执"
        var party = Pingan_Grid_V1_Party()
        party.name = "张三"
        report.parties = [party]
        report.requestID = UUID().uuidString.lowercased()
        return report
    }

    /// grid-service on a fresh database with the generated village 小渡口一村 registered;
    /// `body` gets a client, the city administrator and the database.
    func withVillage(_ body: @escaping @Sendable (ConnectClient, (String, String), TestDatabase) async throws -> Void) async throws {
        try await TestDatabase.with { database in
            let settings = try TestMesh.settings(databaseURL: database.url)
            try await withLiveServer({ try GridApp.build(settings: settings, onServerRunning: $0) }) { port in
                let client = ConnectClient(baseURL: "http://127.0.0.1:\(port)", transport: CurlTransport())
                let admin = try TestMesh.principal(centre: TestMesh.root, roles: [.admin, .staff])
                var divisions = Pingan_Grid_V1_ImportDivisionsRequest()
                divisions.csv = "code,name,level,parent_code\n430723102201,小渡口一村（生成）,village,430723102000\n"
                _ = try await client.call(DivisionServiceMethods.importDivisions, divisions, options: CallOptions(headers: [admin]))
                try await body(client, admin, database)
            }
        }
    }
}
