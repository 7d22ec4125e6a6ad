@testable import DisputeService
import Foundation
import PinganAccess
import PinganConnect
import PinganContracts
import PinganDomain
import PinganPostgres
import PinganTestSupport
import Testing

/// A centre's list of what falls due (the today page's): every open rung, unanswered summons
/// and unmade return visit of the cases in progress under it, soonest first, and nothing of
/// cases that ended or lie elsewhere.
@Suite("dispute: what falls due under a centre")
struct DueStepsTests {
    static let county = "430724000000"
    static let street = "430724001000"
    static let community = "430724001201"
    static let otherVillage = "430724001202"
    static let elsewhere = "430724002201"

    @Test func aCentreListsItsCasesStepsSoonestFirstAndNothingEndedOrElsewhere() async throws {
        let clock = ManualClock(morningOf: "2026-04-07")
        try await withDispute(now: { clock.now }) { rpc, _ in
            let streetStaff = try TestMesh.principal(centre: Self.street, roles: [.staff, .mediator, .admin])
            let otherStreetStaff = try TestMesh.principal(centre: "430724002000", roles: [.staff, .mediator])
            func intake(_ village: String, _ parties: [String]) async throws -> String {
                var request = Pingan_Dispute_V1_IntakeCaseRequest()
                request.requestID = UUID().wire
                request.villageCode = village
                request.category = .neighbour
                request.source = .walkIn
                request.description_p = "邻里纠纷"
                request.parties = parties.map { name in .with { $0.name = name } }
                let staff = village == Self.elsewhere ? otherStreetStaff : streetStaff
                return try await rpc.call(DisputeServiceMethods.intakeCase, request, headers: [staff]).case.id
            }
            func startRung(_ caseID: String, by staff: (String, String)) async throws -> String {
                var request = Pingan_Dispute_V1_StartRungRequest()
                request.caseID = caseID
                request.rung = .finder
                request.lead = "网格员"
                request.participants = ["双方当事人"]
                return try await rpc.call(DisputeServiceMethods.startRung, request, headers: [staff]).attempt.id
            }

            // A: a rung under way, one department yet to report, one to feed back.
            let a = try await intake(Self.community, ["甲一", "乙一"])
            _ = try await startRung(a, by: streetStaff)
            var departments: [String] = []
            for (name, key) in [("安福派出所", "anfu-police"), ("安福司法所", "anfu-justice")] {
                var register = Pingan_Dispute_V1_RegisterDepartmentRequest()
                register.centreCode = Self.street
                register.name = name
                register.apiKeyName = key
                departments.append(try await rpc.call(DisputeServiceMethods.registerDepartment, register, headers: [streetStaff]).department.id)
            }
            var summon = Pingan_Dispute_V1_SummonDepartmentsRequest()
            summon.caseID = a
            summon.departmentIds = departments
            let summons = try await rpc.call(DisputeServiceMethods.summonDepartments, summon, headers: [streetStaff]).summons
            let police = try #require(summons.first { $0.departmentName == "安福派出所" })
            var reporting = Pingan_Dispute_V1_ReportToSummonsRequest()
            reporting.summonsID = police.id
            _ = try await rpc.call(DisputeServiceMethods.reportToSummons, reporting,
                                   headers: [try TestMesh.principal(centre: Self.street, roles: [.department], subject: "apikey:anfu-police")])

            // B: settled, its return visit due.
            let b = try await intake(Self.otherVillage, ["甲二", "乙二"])
            let attempt = try await startRung(b, by: streetStaff)
            var end = Pingan_Dispute_V1_EndRungRequest()
            end.caseID = b
            end.attemptID = attempt
            end.outcome = .settled
            end.note = "调解成功"
            end.agreement.terms = "双方同意"
            end.agreement.signedOn = "2026-04-07"
            end.agreement.signatories = ["甲二", "乙二"]
            _ = try await rpc.call(DisputeServiceMethods.endRung, end, headers: [streetStaff])

            // C: under the other street. D: ended without a settlement, its rung with it.
            let c = try await intake(Self.elsewhere, ["甲三", "乙三"])
            _ = try await startRung(c, by: otherStreetStaff)
            let d = try await intake(Self.community, ["甲四", "乙四"])
            _ = try await startRung(d, by: streetStaff)
            var resolve = Pingan_Dispute_V1_ResolveCaseRequest()
            resolve.caseID = d
            resolve.outcome = "当事人撤回"
            _ = try await rpc.call(DisputeServiceMethods.resolveCase, resolve, headers: [streetStaff])

            func list(_ division: String, size: Int32 = 0, as caller: (String, String)) async throws -> [Pingan_Dispute_V1_DueStep] {
                try await rpc.call(DisputeServiceMethods.listDueSteps, .with { $0.divisionCode = division; $0.pageSize = size }, headers: [caller]).steps
            }
            let steps = try await list(Self.street, as: streetStaff)
            #expect(Set(steps.map { "\($0.caseID) \($0.kind) \($0.departmentName)" }) == [
                "\(a) rung ", "\(a) summonsReport 安福司法所", "\(a) summonsFeedback 安福派出所", "\(b) returnVisit ",
            ])
            #expect(steps.first { $0.kind == .rung }?.rung == .finder)
            #expect(steps.first { $0.kind == .summonsFeedback }?.deadline == police.feedbackDeadline)
            #expect(steps.map(\.deadline.dueAt) == steps.map(\.deadline.dueAt).sorted())
            #expect(steps.allSatisfy { $0.villageCode == ($0.caseID == a ? Self.community : Self.otherVillage) })
            #expect(try await list(Self.street, size: 2, as: streetStaff) == Array(steps.prefix(2)))
            // Page by page, one step a page, the same list; the last page says there is no more.
            var paged: [Pingan_Dispute_V1_DueStep] = []
            var token = ""
            repeat {
                let page = try await rpc.call(DisputeServiceMethods.listDueSteps, .with {
                    $0.divisionCode = Self.street; $0.pageSize = 1; $0.pageToken = token
                }, headers: [streetStaff])
                #expect(page.steps.count == 1)
                paged += page.steps
                token = page.nextPageToken
            } while !token.isEmpty && paged.count <= steps.count
            #expect(paged == steps)
            await expectCode(.invalidArgument, containing: "page_token") {
                _ = try await rpc.call(DisputeServiceMethods.listDueSteps, .with { $0.divisionCode = Self.street; $0.pageToken = "page two" }, headers: [streetStaff])
            }
            let countyStaff = try TestMesh.principal(centre: Self.county, roles: [.leader])
            #expect(Set(try await list(Self.county, as: countyStaff).map(\.caseID)) == [a, b, c])

            await expectCode(.permissionDenied) { _ = try await list(Self.street, as: otherStreetStaff) }
            await expectCode(.permissionDenied) {
                _ = try await list(Self.street, as: try TestMesh.principal(centre: Self.street, roles: [.department], subject: "apikey:anfu-police"))
            }
            await expectCode(.invalidArgument, containing: "division_code") { _ = try await list("43072400100", as: streetStaff) }
            await expectCode(.invalidArgument, containing: "page_size") { _ = try await list(Self.street, size: 501, as: streetStaff) }
        }
    }

    /// The list is planned for each division it is asked about: a plan made once would serve
    /// the city as it serves a village (150 ms against 5 on a city year).
    @Test func eachCallIsPlannedForItsDivision() async throws {
        try await withDispute { _, database in
            let pool = database.pool(maxConnections: 1)
            let reports = PostgresCaseReports(pool: pool)
            for _ in 0..<8 { _ = try await reports.dueSteps(under: try DivisionCode(validating: Self.street), after: nil, limit: 100) }
            func kept(_ marker: String) async throws -> PostgresRows {
                try await pool.query("SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement LIKE '%\(marker)%' AND statement NOT LIKE '%pg_prepared_statements%'")
            }
            // Run unnamed, it leaves no statement whose plan PostgreSQL could keep for every
            // division, and so no generic plan.
            let plans = try await kept("dispute.return_visits v")
            #expect(plans.isEmpty)
            #expect(try plans.allSatisfy { try $0.decode(Int.self, at: 0) == 0 })
            // The same lookup finds a statement the connection did prepare.
            for _ in 0..<8 { _ = try await pool.query("SELECT count(*) FROM dispute.return_visits v WHERE v.visited_at IS NULL") }
            #expect(try await kept("dispute.return_visits v WHERE v.visited_at IS NULL").count == 1)
            await pool.close()
        }
    }
}
