@testable import DisputeService
import Foundation
import PinganAccess
import PinganConnect
import PinganContracts
import PinganDomain
import PinganOutbox
import PinganPostgres
import PinganTestSupport
import Testing

/// What every mediation method enforces beyond the stories: the 1350 minimums, who loads
/// the calendar, and jurisdiction on every method.
extension MediationStoryTests {
    // MARK: Major disputes and reclassification

    @Test func aMajorDisputeNeedsThreeDepartmentsAndFiftyRepresentativesAndReclassifyingTellsRisk() async throws {
        let clock = ManualClock(morningOf: "2026-05-11")
        try await withDispute(clock) { rpc, database in
            let town = try Self.caller("430726001000", [.staff, .mediator])  // 石门县 楚江街道
            var intake = Pingan_Dispute_V1_IntakeCaseRequest()
            intake.requestID = UUID().wire
            intake.villageCode = "430726001201"
            intake.category = .other
            intake.source = .hotline
            intake.description_p = "小区业主与开发商因补偿争议"
            intake.parties = [party("业主代表甲"), party("开发商代表乙")]
            let caseID = try await rpc.call(DisputeServiceMethods.intakeCase, intake, headers: [town]).case.id

            var major = Pingan_Dispute_V1_MarkMajorDisputeRequest()
            major.caseID = caseID
            major.departments = ["住建局", "自然资源局"]
            major.residentRepresentatives = 60
            await expectCode(.invalidArgument, containing: "departments: a major dispute (1350) needs at least 3") {
                _ = try await rpc.call(DisputeServiceMethods.markMajorDispute, major, headers: [town])
            }
            major.departments.append("信访局")
            major.residentRepresentatives = 49
            await expectCode(.invalidArgument, containing: "resident_representatives:") {
                _ = try await rpc.call(DisputeServiceMethods.markMajorDispute, major, headers: [town])
            }
            major.residentRepresentatives = 50
            let marked = try await rpc.call(DisputeServiceMethods.markMajorDispute, major, headers: [town]).case
            #expect(marked.major && marked.residentRepresentatives == 50 && marked.majorDepartments.count == 3)

            var reclassify = Pingan_Dispute_V1_ReclassifyCaseRequest()
            reclassify.caseID = caseID
            reclassify.category = .demolitionCompensation
            reclassify.reason = "实为征拆补偿纠纷"
            #expect(try await rpc.call(DisputeServiceMethods.reclassifyCase, reclassify, headers: [town]).case.category == .demolitionCompensation)
            #expect(try await count(database, "SELECT count(*) FROM dispute.outbox WHERE topic = 'case.changed'") == 1)
            reclassify.category = .unspecified
            await expectCode(.invalidArgument, containing: "category:") {
                _ = try await rpc.call(DisputeServiceMethods.reclassifyCase, reclassify, headers: [town])
            }
        }
    }

    /// Issue 24: eight identical loads at once all succeed (four to seven of them answered
    /// `internal` on a unique violation before), and the year holds the notice's days once.
    @Test func concurrentLoadsOfTheSameCalendarAllSucceed() async throws {
        let clock = ManualClock(morningOf: "2026-12-30")
        try await withDispute(clock) { rpc, database in
            var load = Pingan_Dispute_V1_LoadCalendarRequest()
            load.csv = "date,kind,holiday,holiday_zh\n2027-01-01,holiday,New Year's Day,元旦\n2027-02-06,workday,Spring Festival,春节\n"
            let admin = try Self.caller("430700000000", [.admin])
            let request = load
            let answers = try await withThrowingTaskGroup(of: [Int32].self) { group in
                for _ in 0..<8 { group.addTask { try await rpc.call(DisputeServiceMethods.loadCalendar, request, headers: [admin]).years } }
                return try await group.reduce(into: [[Int32]]()) { $0.append($1) }
            }
            #expect(answers == Array(repeating: [2027], count: 8))
            #expect(try await count(database, "SELECT count(*) FROM dispute.calendar_days WHERE day >= '2027-01-01' AND day < '2028-01-01'") == 2)
        }
    }

    @Test func onlyTheCitysAdministratorsLoadALaterYearsCalendar() async throws {
        let clock = ManualClock(morningOf: "2026-12-30")
        try await withDispute(clock) { rpc, _ in
            var load = Pingan_Dispute_V1_LoadCalendarRequest()
            load.csv = "date,kind,holiday,holiday_zh\n2027-01-01,holiday,New Year's Day,元旦\n"
            await expectCode(.permissionDenied) {
                _ = try await rpc.call(DisputeServiceMethods.loadCalendar, load, headers: [try Self.caller("430724000000", [.admin])])
            }
            var intake = Pingan_Dispute_V1_IntakeCaseRequest()
            intake.requestID = UUID().wire
            intake.villageCode = "430724001201"
            intake.category = .neighbour
            intake.source = .walkIn
            intake.description_p = "邻里噪音"
            intake.parties = [party("甲"), party("乙")]
            let town = try Self.caller("430724001000", [.staff, .mediator])
            let caseID = try await rpc.call(DisputeServiceMethods.intakeCase, intake, headers: [town]).case.id
            let before = try await rpc.call(DisputeServiceMethods.startRung, rung(caseID, .finder, lead: "x"), headers: [town]).attempt
            #expect(before.deadline.beyondCalendar)
            #expect(before.deadline.dueAt == "2027-01-04T16:00:00.000Z")
            _ = try await rpc.call(DisputeServiceMethods.endRung, end(caseID, before.id, .eased), headers: [town])

            let beforeLoad = try await rpc.get("/metrics").body
            #expect(beforeLoad.contains("pingan_dispute_deadlines_beyond_calendar_total 1"))
            #expect(beforeLoad.contains("pingan_dispute_calendar_last_year 2026"))

            let loaded = try await rpc.call(DisputeServiceMethods.loadCalendar, load, headers: [try Self.caller("430700000000", [.admin])])
            #expect(loaded.years == [2027])
            let after = try await rpc.call(DisputeServiceMethods.startRung, rung(caseID, .finder, lead: "x"), headers: [town]).attempt
            #expect(!after.deadline.beyondCalendar)
            #expect(after.deadline.dueAt == "2027-01-05T16:00:00.000Z")
            #expect(try await rpc.get("/metrics").body.contains("pingan_dispute_calendar_last_year 2027"))
            load.csv = "date,kind\n2027-01-04,workday\n"
            await expectCode(.invalidArgument, containing: "csv: line 2:") {
                _ = try await rpc.call(DisputeServiceMethods.loadCalendar, load, headers: [try Self.caller("430700000000", [.admin])])
            }
        }
    }

    // MARK: Jurisdiction of every mediation method

    @Test func aSiblingTownshipGetsNotFoundAndAnotherCountyPermissionDeniedOnEveryMethod() async throws {
        let clock = ManualClock(morningOf: "2026-06-01")
        let village = "430781103201", township = "430781103000"
        try await withDispute(clock) { rpc, database in
            let owner = try Self.caller(township, [.staff, .mediator, .leader, .admin])
            var intake = Pingan_Dispute_V1_IntakeCaseRequest()
            intake.requestID = UUID().wire
            intake.villageCode = village
            intake.category = .economicDebt
            intake.source = .departmentReferral
            intake.description_p = "借款纠纷"
            intake.parties = [party("甲"), party("乙")]
            let caseID = try await rpc.call(DisputeServiceMethods.intakeCase, intake, headers: [owner]).case.id
            let attempt = try await rpc.call(DisputeServiceMethods.startRung, rung(caseID, .finder, lead: "x"), headers: [owner]).attempt.id
            var register = Pingan_Dispute_V1_RegisterDepartmentRequest()
            register.centreCode = township
            register.name = "白衣司法所"
            register.apiKeyName = "baiyi-justice"
            let department = try await rpc.call(DisputeServiceMethods.registerDepartment, register, headers: [owner]).department.id
            let timelineBefore = try await count(database, "SELECT count(*) FROM dispute.timeline")

            // 药山镇, a sibling township with every role: each method reads as if the case did not exist.
            let sibling = try Self.caller("430781105000", [.staff, .mediator, .leader, .admin])
            let missing = "case \(caseID) not found"
            var get = Pingan_Dispute_V1_GetCaseRequest()
            get.caseID = caseID
            await expectCode(.notFound, containing: missing) { _ = try await rpc.call(DisputeServiceMethods.getCase, get, headers: [sibling]) }
            await expectCode(.notFound, containing: missing) { _ = try await rpc.call(DisputeServiceMethods.startRung, rung(caseID, .finder, lead: "x"), headers: [sibling]) }
            await expectCode(.notFound, containing: missing) { _ = try await rpc.call(DisputeServiceMethods.endRung, end(caseID, attempt, .failed), headers: [sibling]) }
            var visit = Pingan_Dispute_V1_RecordReturnVisitRequest()
            visit.caseID = caseID
            visit.outcome = .confirmed
            visit.note = "x"
            await expectCode(.notFound, containing: missing) { _ = try await rpc.call(DisputeServiceMethods.recordReturnVisit, visit, headers: [sibling]) }
            var summon = Pingan_Dispute_V1_SummonDepartmentsRequest()
            summon.caseID = caseID
            summon.departmentIds = [department]
            // The case is checked before the departments: nothing is learnt about either.
            await expectCode(.notFound, containing: missing) { _ = try await rpc.call(DisputeServiceMethods.summonDepartments, summon, headers: [sibling]) }
            var escalate = Pingan_Dispute_V1_EscalateCaseRequest()
            escalate.caseID = caseID
            escalate.reason = "x"
            await expectCode(.notFound, containing: missing) { _ = try await rpc.call(DisputeServiceMethods.escalateCase, escalate, headers: [sibling]) }
            var handBack = Pingan_Dispute_V1_HandBackCaseRequest()
            handBack.caseID = caseID
            handBack.note = "x"
            await expectCode(.notFound, containing: missing) { _ = try await rpc.call(DisputeServiceMethods.handBackCase, handBack, headers: [sibling]) }
            var major = Pingan_Dispute_V1_MarkMajorDisputeRequest()
            major.caseID = caseID
            major.departments = ["a", "b", "c"]
            major.residentRepresentatives = 50
            await expectCode(.notFound, containing: missing) { _ = try await rpc.call(DisputeServiceMethods.markMajorDispute, major, headers: [sibling]) }
            var reclassify = Pingan_Dispute_V1_ReclassifyCaseRequest()
            reclassify.caseID = caseID
            reclassify.category = .land
            reclassify.reason = "x"
            await expectCode(.notFound, containing: missing) { _ = try await rpc.call(DisputeServiceMethods.reclassifyCase, reclassify, headers: [sibling]) }
            var missingCase = get
            missingCase.caseID = UUID().wire
            await expectCode(.notFound, containing: "case \(missingCase.caseID) not found") { _ = try await rpc.call(DisputeServiceMethods.getCase, missingCase, headers: [sibling]) }

            // 临澧县, another county, names this township's division: refused, as today.
            let foreign = try Self.caller("430724000000", [.staff, .mediator, .leader, .admin])
            var list = Pingan_Dispute_V1_ListCasesRequest()
            list.divisionCode = township
            await expectCode(.permissionDenied, containing: "division_code:") { _ = try await rpc.call(DisputeServiceMethods.listCases, list, headers: [foreign]) }
            var export = Pingan_Dispute_V1_ExportCasesRequest()
            export.divisionCode = township
            export.month = "2026-06"
            await expectCode(.permissionDenied, containing: "division_code:") { _ = try await rpc.call(DisputeServiceMethods.exportCases, export, headers: [foreign]) }
            await expectCode(.permissionDenied, containing: "centre_code:") { _ = try await rpc.call(DisputeServiceMethods.registerDepartment, register, headers: [foreign]) }
            intake.requestID = UUID().wire
            await expectCode(.permissionDenied, containing: "village_code:") { _ = try await rpc.call(DisputeServiceMethods.intakeCase, intake, headers: [foreign]) }

            // Nothing any of them tried was written.
            #expect(try await count(database, "SELECT count(*) FROM dispute.timeline") == timelineBefore)
            #expect(try await count(database, "SELECT count(*) FROM dispute.cases") == 1)
        }
    }
}
