import DisputeService
import Foundation
import GridService
@testable import IndexService
import PinganAccess
import PinganConnect
import PinganContracts
import PinganDomain
import PinganPostgres
import PinganTestSupport
import RiskService
import SwiftProtobuf
import Testing

/// Story 5 of the seed: the monthly index review of 枫树维吾尔族回族乡 (桃源县), played with
/// grid, dispute and risk running on real ports and index-service in process, all on one
/// clock the test moves through October 2026. Villages are generated, and labelled so.
@Suite("index: the seed's story 5")
struct IndexStoryTests {
    static let county = "430725000000"
    static let township = "430725202000"
    static let star = "430725202201", quiet = "430725202202", lagging = "430725202203"
    static let villages = """
        code,name,level,parent_code
        430725202201,星光村（生成）,village,430725202000
        430725202202,清溪村（生成）,village,430725202000
        430725202203,落后村（生成）,village,430725202000
        """

    let transport = CurlTransport()

    func call<Input, Output>(_ port: Int, _ method: ConnectMethod<Input, Output>, _ request: Input, _ headers: [(String, String)]) async throws -> Output {
        try await ConnectClient(baseURL: "http://127.0.0.1:\(port)", transport: transport).call(method, request, options: CallOptions(timeout: .seconds(30), headers: headers))
    }

    func party(_ name: String) -> Pingan_Grid_V1_Party {
        var party = Pingan_Grid_V1_Party()
        party.name = name
        return party
    }

    @Test func story5TheMonthlyReviewCreatesEachActionWithAnOwnerAndADueDate() async throws {
        let clock = ManualClock(morningOf: "2026-10-01")
        try await withIndexMesh(clock) { index, peers, database in
            try await play(index, clock: clock, grid: try port(peers[.grid]), dispute: try port(peers[.dispute]), database: database)
        }
    }

    func play(_ index: InProcessClient, clock: ManualClock, grid: Int, dispute: Int, database: TestDatabase) async throws {
        let cityAdmin = try person(TestMesh.root, [.admin, .leader])
        let cityLeader = try person(TestMesh.root, [.leader])
        let townLeader = try person(Self.township, [.leader, .staff, .admin])
        let lixianLeader = try person(Place.lixian, [.leader, .staff, .admin])

        var divisions = Pingan_Grid_V1_ImportDivisionsRequest()
        divisions.csv = Self.villages
        _ = try await call(grid, DivisionServiceMethods.importDivisions, divisions, [cityAdmin])
        // Each village has one grid and its grid worker.
        var members: [String: (grid: String, member: String)] = [:]
        for village in [Self.star, Self.quiet, Self.lagging] {
            var create = Pingan_Grid_V1_CreateGridRequest()
            create.villageCode = village
            create.name = "第一网格"
            let gridID = try await call(grid, GridServiceMethods.createGrid, create, [townLeader]).grid.id
            var add = Pingan_Grid_V1_AddGridMemberRequest()
            add.gridID = gridID
            add.name = "网格员"
            add.role = .gridWorker
            members[village] = (gridID, try await call(grid, GridServiceMethods.addGridMember, add, [townLeader]).member.id)
        }

        // The township lets reminder talks run ten days instead of fifteen.
        var rule = try await index.call(IndexServiceMethods.getThresholdRule, {
            var request = Pingan_Index_V1_GetThresholdRuleRequest()
            request.centreCode = Self.township
            return request
        }(), headers: [townLeader]).rule
        #expect(rule.isDefault && rule.shareAt == 98 && rule.remindBelow == 80 && rule.summonBelow == 60)
        rule.remindDays = 10
        var set = Pingan_Index_V1_SetThresholdRuleRequest()
        set.rule = rule
        _ = try await index.call(IndexServiceMethods.setThresholdRule, set, headers: [townLeader])
        set.rule.summonBelow = 90
        await expectCode(.invalidArgument, containing: "rule.summon_below:") {
            _ = try await index.call(IndexServiceMethods.setThresholdRule, set, headers: [townLeader])
        }

        // October: 星光村 screens every day, finds two disputes and settles both at the first
        // rung on time, and visits both; 清溪村 screens every day and finds nothing; 落后村
        // screens four days and its one case is a fight that already turned violent.
        for day in 1...31 {
            let date = String(format: "2026-10-%02d", day)
            clock.set(morningOf: date)
            for village in [Self.star, Self.quiet] + (day <= 4 ? [Self.lagging] : []) {
                var screening = Pingan_Grid_V1_RecordScreeningRequest()
                screening.gridID = members[village]?.grid ?? ""
                screening.reporterMemberID = members[village]?.member ?? ""
                screening.day = date
                screening.householdsVisited = 12
                screening.disputesFound = village == Self.star && (day == 9 || day == 12) ? 1 : 0
                let recorded = try await call(grid, GridServiceMethods.recordScreening, screening, [try person(village, [.gridWorker])])
                #expect(!recorded.corrected && recorded.screening.villageCode == village)
            }
            if day == 9 || day == 12 {
                var intake = Pingan_Dispute_V1_IntakeCaseRequest()
                intake.requestID = UUID().wire
                intake.villageCode = Self.star
                intake.category = .neighbour
                intake.source = .walkIn
                intake.description_p = "邻里因排水沟堵塞争执"
                intake.parties = [party("甲\(day)"), party("乙\(day)")]
                let villageStaff = try person(Self.star, [.staff, .mediator, .gridWorker])
                let caseID = try await call(dispute, DisputeServiceMethods.intakeCase, intake, [villageStaff]).case.id
                var start = Pingan_Dispute_V1_StartRungRequest()
                start.caseID = caseID
                start.rung = .finder
                start.lead = "网格员"
                start.participants = ["双方当事人"]
                start.kind = .peoples
                let attempt = try await call(dispute, DisputeServiceMethods.startRung, start, [villageStaff]).attempt
                var end = Pingan_Dispute_V1_EndRungRequest()
                end.caseID = caseID
                end.attemptID = attempt.id
                end.outcome = .settled
                end.note = "当场调解"
                end.agreement.terms = "疏通排水沟，费用平摊"
                end.agreement.signedOn = date
                end.agreement.signatories = ["甲\(day)", "乙\(day)"]
                _ = try await call(dispute, DisputeServiceMethods.endRung, end, [villageStaff])
                var visit = Pingan_Dispute_V1_RecordReturnVisitRequest()
                visit.caseID = caseID
                visit.outcome = .confirmed
                visit.note = "已履行"
                _ = try await call(dispute, DisputeServiceMethods.recordReturnVisit, visit, [villageStaff])
            }
            if day == 20 {
                var intake = Pingan_Dispute_V1_IntakeCaseRequest()
                intake.requestID = UUID().wire
                intake.villageCode = Self.lagging
                intake.category = .land
                intake.source = .policeTransfer
                intake.description_p = "地界纠纷已动手"
                intake.parties = [party("丙"), party("丁")]
                intake.violenceOccurred = true
                _ = try await call(dispute, DisputeServiceMethods.intakeCase, intake, [try person(Self.lagging, [.staff])])
            }
        }
        // A screening older than a week can no longer be recorded.
        var late = Pingan_Grid_V1_RecordScreeningRequest()
        late.gridID = members[Self.lagging]?.grid ?? ""
        late.reporterMemberID = members[Self.lagging]?.member ?? ""
        late.day = "2026-10-05"
        await expectCode(.invalidArgument, containing: "day: 2026-10-05 is more than 7 days before today") {
            _ = try await call(grid, GridServiceMethods.recordScreening, late, [try person(Self.lagging, [.gridWorker])])
        }

        var survey = Pingan_Index_V1_LoadSurveyResultsRequest()
        survey.month = "2026-10"
        survey.csv = "division_code,respondents,satisfied\n\(Self.star),50,50\n\(Self.quiet),50,40\n"
        #expect(try await index.call(IndexServiceMethods.loadSurveyResults, survey, headers: [townLeader]).rowsLoaded == 2)
        survey.csv = "division_code,respondents,satisfied\n\(Place.villageA),50,50\n"
        await expectCode(.permissionDenied, containing: "csv: line 2:") {
            _ = try await index.call(IndexServiceMethods.loadSurveyResults, survey, headers: [townLeader])
        }

        // While October runs its scores are provisional; two computations at once both land.
        var compute = Pingan_Index_V1_ComputeMonthlyIndexRequest()
        compute.month = "2026-10"
        let running = compute
        async let first = index.call(IndexServiceMethods.computeMonthlyIndex, running, headers: [cityAdmin])
        async let second = index.call(IndexServiceMethods.computeMonthlyIndex, running, headers: [cityLeader])
        let provisional = try await [first, second]
        #expect(provisional.allSatisfy { $0.version.status == .provisional && $0.version.version == 1 })
        #expect(try await actions(index, townLeader).isEmpty)

        // The review on 2 November: October is frozen and its scores call for actions.
        clock.set(morningOf: "2026-11-02")
        let frozen = try await index.call(IndexServiceMethods.computeMonthlyIndex, compute, headers: [cityAdmin])
        #expect(frozen.version.status == .frozen && frozen.version.version == 1 && frozen.version.catalogueVersion == "2026.12-1")

        var ranking = Pingan_Index_V1_GetRankingRequest()
        ranking.parentCode = Self.township
        ranking.month = "2026-10"
        let ranked = try await index.call(IndexServiceMethods.getRanking, ranking, headers: [townLeader])
        #expect(ranked.scores.map(\.code) == [Self.star, Self.quiet, Self.lagging])
        let scores = Dictionary(uniqueKeysWithValues: ranked.scores.map { ($0.code, $0) })
        #expect(try #require(scores[Self.star]).score >= 98)
        #expect((60..<80).contains(try #require(scores[Self.quiet]).score))
        #expect(try #require(scores[Self.lagging]).score < 60)
        #expect(ranked.scores.allSatisfy { $0.enoughData && !$0.changeKnown && $0.rankLow >= 1 && $0.rankHigh >= $0.rankLow })
        let coverage = try #require(scores[Self.quiet]?.indicators.first { $0.indicator == "screening_coverage" })
        #expect(coverage.value == 1 && coverage.enoughData)
        #expect(scores[Self.lagging]?.indicators.first { $0.indicator == "violence_free" }?.normalised == 0)

        let due = try await actions(index, townLeader)
        let byVillage = Dictionary(uniqueKeysWithValues: due.map { ($0.divisionCode, $0) })
        #expect(byVillage[Self.star]?.kind == .shareExperience && byVillage[Self.star]?.dueOn == "2026-12-02")
        #expect(byVillage[Self.quiet]?.kind == .reminderTalk && byVillage[Self.quiet]?.owner == "政法委员" && byVillage[Self.quiet]?.dueOn == "2026-11-12")
        #expect(byVillage[Self.lagging]?.kind == .summons && byVillage[Self.lagging]?.owner == "党委书记" && byVillage[Self.lagging]?.dueOn == "2026-11-09")
        #expect(due.count == 3 && due.allSatisfy { $0.centreCode == Self.township && $0.status == .open })
        // Each action, here and above (the township's own score calls for one from its
        // county), is pushed through notify-service from the same transaction.
        let everyAction = try await count(database, "SELECT count(*) FROM index.actions")
        #expect(everyAction >= 3 && everyAction <= 5)
        #expect(try await noticeTypes(database).filter { $0 == "index.action" }.count == everyAction)
        #expect(try await noticeTypes(database).filter { $0 == "index.published" }.count == 10)

        // The review: a printable page with its chart, and CSV.
        var review = Pingan_Index_V1_GetMonthlyReviewRequest()
        review.centreCode = Self.township
        review.month = "2026-10"
        let page = String(decoding: try await index.call(IndexServiceMethods.getMonthlyReview, review, headers: [townLeader]).body, as: UTF8.self)
        for text in ["星光村（生成）", "清溪村（生成）", "落后村（生成）", "经验交流", "提醒谈话", "约谈", "<svg", "已定稿", "2026-11-09前"] {
            #expect(page.contains(text), "the review page lacks \(text)")
        }
        review.format = .csv
        let csv = String(decoding: try await index.call(IndexServiceMethods.getMonthlyReview, review, headers: [townLeader]).body, as: UTF8.self)
        let rows = csv.split(separator: "\r\n")
        #expect(rows.count == 4)
        #expect(rows.last?.hasPrefix("3,") == true && rows.last?.contains("\(Self.lagging),落后村（生成）") == true && rows.last?.contains(",summons,党委书记,2026-11-09,open") == true)

        // A frozen month: no recomputation without a reason, nor by anyone but the root's
        // administrator; with both it is version 2 and version 1 is kept. Actions are not doubled.
        await expectCode(.invalidArgument, containing: "reason: 2026-10 is frozen (version 1)") {
            _ = try await index.call(IndexServiceMethods.computeMonthlyIndex, compute, headers: [cityAdmin])
        }
        compute.reason = "落后村补录了一份调解记录"
        await expectCode(.permissionDenied, containing: "only an administrator of the root centre") {
            _ = try await index.call(IndexServiceMethods.computeMonthlyIndex, compute, headers: [cityLeader])
        }
        let recomputed = try await index.call(IndexServiceMethods.computeMonthlyIndex, compute, headers: [cityAdmin])
        #expect(recomputed.version.version == 2 && recomputed.version.reason == compute.reason)
        #expect(try await count(database, "SELECT count(DISTINCT version) FROM index.scores WHERE month = '2026-10'") == 2)
        #expect(try await actions(index, townLeader).map(\.id).sorted() == due.map(\.id).sorted())

        // Another county sees none of it; the township closes its reminder talk.
        await expectCode(.permissionDenied, containing: "parent_code:") {
            _ = try await index.call(IndexServiceMethods.getRanking, ranking, headers: [lixianLeader])
        }
        await expectCode(.permissionDenied, containing: "centre_code:") {
            _ = try await actions(index, lixianLeader)
        }
        var complete = Pingan_Index_V1_CompleteActionRequest()
        complete.actionID = byVillage[Self.quiet]?.id ?? ""
        complete.outcome = "已约谈村支书，要求本月内每网格主动排查"
        await expectCode(.notFound, containing: "action \(complete.actionID) not found") {
            _ = try await index.call(IndexServiceMethods.completeAction, complete, headers: [lixianLeader])
        }
        let done = try await index.call(IndexServiceMethods.completeAction, complete, headers: [townLeader]).action
        #expect(done.status == .done && done.outcome == complete.outcome)
        await expectCode(.failedPrecondition, containing: "is done, not open") {
            _ = try await index.call(IndexServiceMethods.completeAction, complete, headers: [townLeader])
        }
        // No future months.
        compute.month = "2026-12"
        await expectCode(.invalidArgument, containing: "month: 2026-12 has not begun") {
            _ = try await index.call(IndexServiceMethods.computeMonthlyIndex, compute, headers: [cityAdmin])
        }
    }

    func actions(_ index: InProcessClient, _ caller: (String, String)) async throws -> [Pingan_Index_V1_IndexAction] {
        var list = Pingan_Index_V1_ListActionsRequest()
        list.centreCode = Self.township
        list.month = "2026-10"
        return try await index.call(IndexServiceMethods.listActions, list, headers: [caller]).actions
    }

    func count(_ database: TestDatabase, _ sql: String) async throws -> Int {
        let pool = database.pool()
        defer { Task { await pool.close() } }
        return try await pool.query(sql).first?.decode(Int.self, at: 0) ?? -1
    }

    func noticeTypes(_ database: TestDatabase) async throws -> [String] {
        let pool = database.pool()
        defer { Task { await pool.close() } }
        return try await pool.query("SELECT payload FROM index.outbox WHERE topic = 'index.notice'").map { row in
            try Pingan_Notify_V1_DeliverNoticeRequest(serializedBytes: [UInt8](try row.decode(Data.self, at: 0))).type
        }
    }
}
