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

/// The seed's stories 1 to 3 played through dispute-service's API as the people in them
/// would, with a clock the test moves instead of sleeping. Villages are generated names under
/// the real townships: 芭蕉社区（生成）, 金架坝村（生成）, and a village of 白衣镇.
@Suite("mediation: the seed's stories")
struct MediationStoryTests {
    static func caller(_ centre: String, _ roles: Set<Role>, _ subject: String = "user:test") throws -> (String, String) {
        try TestMesh.principal(centre: centre, roles: roles, subject: subject)
    }

    func withDispute(_ clock: ManualClock, _ body: @escaping @Sendable (InProcessClient, TestDatabase) async throws -> Void) async throws {
        try await ServiceTests.withDispute(now: { clock.now }, body)
    }

    func party(_ name: String, _ phone: String = "") -> Pingan_Grid_V1_Party {
        var party = Pingan_Grid_V1_Party()
        party.name = name
        party.phone = phone
        return party
    }

    func rung(_ caseID: String, _ rung: Pingan_Dispute_V1_Rung, lead: String, bodies: [String] = [], skip: String = "", kind: Pingan_Dispute_V1_MediationKind = .peoples) -> Pingan_Dispute_V1_StartRungRequest {
        var request = Pingan_Dispute_V1_StartRungRequest()
        request.caseID = caseID
        request.rung = rung
        request.lead = lead
        request.participants = ["双方当事人"]
        request.bodies = bodies
        request.skipReason = skip
        request.kind = kind
        return request
    }

    func end(_ caseID: String, _ attempt: String, _ outcome: Pingan_Dispute_V1_RungOutcome, agreement: [String]? = nil, on day: String = "") -> Pingan_Dispute_V1_EndRungRequest {
        var request = Pingan_Dispute_V1_EndRungRequest()
        request.caseID = caseID
        request.attemptID = attempt
        request.outcome = outcome
        request.note = "\(outcome)"
        if let signatories = agreement {
            request.agreement.terms = "双方同意：界址按原约定，互不侵扰"
            request.agreement.signedOn = day
            request.agreement.signatories = signatories
        }
        return request
    }

    func count(_ database: TestDatabase, _ sql: String) async throws -> Int {
        let pool = database.pool()
        defer { Task { await pool.close() } }
        return try await pool.query(sql).first?.decode(Int.self, at: 0) ?? -1
    }

    // MARK: Story 3: the 3-2-1 ladder (津市市 白衣镇)

    @Test func story3TheLadderIsClimbedOneFailedRungAtATimeThenSettledAndVisited() async throws {
        let clock = ManualClock(morningOf: "2026-03-02")  // a Monday
        let village = "430781103201", township = "430781103000"
        try await withDispute(clock) { rpc, database in
            let finder = try Self.caller(village, [.gridWorker], "user:wang")
            let villageStaff = try Self.caller(village, [.staff, .mediator])
            let townStaff = try Self.caller(township, [.staff, .mediator])

            // A walk-in at the village centre; the retried request opens one case.
            var intake = Pingan_Dispute_V1_IntakeCaseRequest()
            intake.requestID = UUID().wire
            intake.villageCode = village
            intake.category = .land
            intake.source = .walkIn
            intake.description_p = "两户因承包地边界争执"
            intake.parties = [party("周某", "13900001111"), party("吴某")]
            let opened = try await rpc.call(DisputeServiceMethods.intakeCase, intake, headers: [finder])
            let retried = try await rpc.call(DisputeServiceMethods.intakeCase, intake, headers: [finder])
            let caseID = opened.case.id
            #expect(retried.case.id == caseID)
            #expect(opened.case.coordinatorCode == township)
            #expect(try await count(database, "SELECT count(*) FROM dispute.cases") == 1)

            // 1. Whoever found it: due three working days after Monday, at the end of Thursday.
            let first = try await rpc.call(DisputeServiceMethods.startRung, rung(caseID, .finder, lead: "网格员王某"), headers: [finder]).attempt
            #expect(first.deadline.dueAt == "2026-03-05T16:00:00.000Z")
            #expect(!first.deadline.beyondCalendar)
            await expectCode(.failedPrecondition, containing: "rung 1 is still open") {
                _ = try await rpc.call(DisputeServiceMethods.startRung, rung(caseID, .villageSecretary, lead: "村支书"), headers: [villageStaff])
            }
            _ = try await rpc.call(DisputeServiceMethods.endRung, end(caseID, first.id, .failed), headers: [finder])

            // Skipping needs a reason; the village cannot run its township's rungs at all.
            await expectCode(.invalidArgument, containing: "skip_reason:") {
                _ = try await rpc.call(DisputeServiceMethods.startRung, rung(caseID, .townshipCadre, lead: "包村干部"), headers: [townStaff])
            }
            await expectCode(.permissionDenied, containing: "rung 3 is run by the township centre") {
                _ = try await rpc.call(DisputeServiceMethods.startRung, rung(caseID, .townshipCadre, lead: "包村干部", skip: "急"), headers: [villageStaff])
            }
            #expect(try await count(database, "SELECT count(*) FROM dispute.rung_attempts") == 1)

            // 2. The village party secretary; 3. the township cadre; 4. the political-legal officer.
            clock.advance(by: 24 * 3600)
            let second = try await rpc.call(DisputeServiceMethods.startRung, rung(caseID, .villageSecretary, lead: "村支书"), headers: [villageStaff]).attempt
            #expect(second.deadline.dueAt == "2026-03-10T16:00:00.000Z")  // Tue 3 Mar + 5 working days: the end of Tue 10 Mar
            _ = try await rpc.call(DisputeServiceMethods.endRung, end(caseID, second.id, .failed), headers: [villageStaff])
            let third = try await rpc.call(DisputeServiceMethods.startRung, rung(caseID, .townshipCadre, lead: "包村干部"), headers: [townStaff]).attempt
            _ = try await rpc.call(DisputeServiceMethods.endRung, end(caseID, third.id, .failed), headers: [townStaff])
            let fourth = try await rpc.call(
                DisputeServiceMethods.startRung, rung(caseID, .politicalLegal, lead: "政法委员", bodies: ["平安办", "派出所", "司法所"]), headers: [townStaff]
            ).attempt
            #expect(fourth.bodies == ["平安办", "派出所", "司法所"])
            _ = try await rpc.call(DisputeServiceMethods.endRung, end(caseID, fourth.id, .failed), headers: [townStaff])

            // 5. The township's leaders with the city departments settle it, by agreement only.
            let fifth = try await rpc.call(
                DisputeServiceMethods.startRung, rung(caseID, .townshipLeaders, lead: "镇党委书记", bodies: ["市自然资源和规划局"], kind: .administrative), headers: [townStaff]
            ).attempt
            await expectCode(.invalidArgument, containing: "agreement:") {
                _ = try await rpc.call(DisputeServiceMethods.endRung, end(caseID, fifth.id, .settled), headers: [townStaff])
            }
            let settled = try await rpc.call(DisputeServiceMethods.endRung, end(caseID, fifth.id, .settled, agreement: ["周某", "吴某"], on: "2026-03-03"), headers: [townStaff])
            #expect(settled.case.status == .settled)
            #expect(settled.case.currentRung == .townshipLeaders)
            #expect(settled.returnVisit.deadline.dueAt == "2026-03-17T16:00:00.000Z")  // Tue 3 Mar + 10 working days

            // One return visit confirms the settlement and closes the case; nothing more is mediated.
            var visit = Pingan_Dispute_V1_RecordReturnVisitRequest()
            visit.caseID = caseID
            visit.outcome = .confirmed
            visit.note = "双方已按协议履行"
            let closed = try await rpc.call(DisputeServiceMethods.recordReturnVisit, visit, headers: [finder])
            #expect(closed.case.status == .closed)
            await expectCode(.failedPrecondition, containing: "the case is closed") {
                _ = try await rpc.call(DisputeServiceMethods.startRung, rung(caseID, .townshipLeaders, lead: "x"), headers: [townStaff])
            }
            await expectCode(.failedPrecondition, containing: "no return visit is due") {
                _ = try await rpc.call(DisputeServiceMethods.recordReturnVisit, visit, headers: [finder])
            }

            var get = Pingan_Dispute_V1_GetCaseRequest()
            get.caseID = caseID
            let file = try await rpc.call(DisputeServiceMethods.getCase, get, headers: [townStaff])
            #expect(file.rungs.map(\.rung) == [.finder, .villageSecretary, .townshipCadre, .politicalLegal, .townshipLeaders])
            #expect(file.rungs.map(\.outcome) == [.failed, .failed, .failed, .failed, .settled])
            #expect(file.agreement.signatories == ["周某", "吴某"])
            #expect(file.returnVisit.outcome == .confirmed)
            #expect(file.timeline.map(\.kind) == [
                "opened", "rung_started", "rung_ended", "rung_started", "rung_ended", "rung_started", "rung_ended",
                "rung_started", "rung_ended", "rung_started", "rung_ended", "agreement_signed", "return_visit",
            ])

            // A sibling township cannot act on it or tell it exists; another county cannot list here.
            await expectCode(.notFound, containing: "case \(caseID) not found") {
                _ = try await rpc.call(DisputeServiceMethods.startRung, rung(caseID, .finder, lead: "x"), headers: [try Self.caller("430781105000", [.staff, .mediator])])
            }
            var list = Pingan_Dispute_V1_ListCasesRequest()
            list.divisionCode = township
            await expectCode(.permissionDenied, containing: "division_code:") {
                _ = try await rpc.call(DisputeServiceMethods.listCases, list, headers: [try Self.caller("430724000000", [.staff])])
            }
        }
    }

    // MARK: Story 2: a break-up and a threat of self-harm (汉寿县 蒋家嘴镇)

    @Test func story2TheTownshipGoesStraightToJointPoliceJudicialMediationWithAReason() async throws {
        let clock = ManualClock(morningOf: "2026-09-28")  // Monday before the National Day break
        let village = "430722101201", township = "430722101000"
        try await withDispute(clock) { rpc, _ in
            let townStaff = try Self.caller(township, [.staff, .mediator])
            var report = Pingan_Dispute_V1_OpenCaseRequest()
            report.incidentID = UUID().wire
            report.villageCode = village
            report.category = .marriageFamily
            report.source = .gridReport
            report.description_p = "分手后因共同财产争执，一方流露轻生念头"
            report.parties = [party("黄某"), party("刘某", "13700002222")]
            report.threatOfSelfHarm = true
            let caseID = try await rpc.call(DisputeServiceMethods.openCase, report, headers: try TestMesh.eventDelivery()).case.id

            await expectCode(.invalidArgument, containing: "skip_reason: starting rung 4 skips rung 1") {
                _ = try await rpc.call(DisputeServiceMethods.startRung, rung(caseID, .politicalLegal, lead: "政法委员", bodies: ["派出所", "司法所"]), headers: [townStaff])
            }
            let joint = try await rpc.call(
                DisputeServiceMethods.startRung,
                rung(caseID, .politicalLegal, lead: "政法委员", bodies: ["派出所", "司法所"], skip: "有轻生风险，立即警司联调", kind: .judicial),
                headers: [townStaff]
            ).attempt
            // Ten working days across the National Day break and its make-up Saturday (10 Oct).
            #expect(joint.deadline.dueAt == "2026-10-16T16:00:00.000Z")
            #expect(joint.kind == .judicial)

            clock.set(morningOf: "2026-10-09")
            let settled = try await rpc.call(DisputeServiceMethods.endRung, end(caseID, joint.id, .settled, agreement: ["黄某", "刘某"], on: "2026-10-09"), headers: [townStaff])
            #expect(settled.case.status == .settled)
            var visit = Pingan_Dispute_V1_RecordReturnVisitRequest()
            visit.caseID = caseID
            visit.outcome = .confirmed
            visit.note = "刘某情绪稳定"
            #expect(try await rpc.call(DisputeServiceMethods.recordReturnVisit, visit, headers: [townStaff]).case.status == .closed)

            var get = Pingan_Dispute_V1_GetCaseRequest()
            get.caseID = caseID
            let timeline = try await rpc.call(DisputeServiceMethods.getCase, get, headers: [townStaff]).timeline
            #expect(timeline.contains { $0.kind == "rung_started" && $0.note.contains("skipped rung(s) 1, 2, 3: 有轻生风险，立即警司联调") })
        }
    }

    // MARK: Story 1: neighbours who keep quarrelling (临澧县 安福街道)

    @Test func story1TheSamePartiesAgainJoinTheCaseTheWhistleBringsInDepartmentsAndTheCountyHelps() async throws {
        let clock = ManualClock(morningOf: "2026-04-07")  // Tuesday
        let community = "430724001201", street = "430724001000", county = "430724000000"
        try await withDispute(clock) { rpc, database in
            let gridWorker = try Self.caller(community, [.gridWorker], "user:grid")
            let communityStaff = try Self.caller(community, [.staff, .mediator])
            let streetStaff = try Self.caller(street, [.staff, .mediator])
            let countyStaff = try Self.caller(county, [.staff, .mediator, .leader])

            var report = Pingan_Dispute_V1_OpenCaseRequest()
            report.incidentID = UUID().wire
            report.villageCode = community
            report.category = .neighbour
            report.source = .gridReport
            report.description_p = "金、李两家多次争吵"
            report.parties = [party("金某甲"), party("李某乙")]
            report.repeatIncident = true
            let caseID = try await rpc.call(DisputeServiceMethods.openCase, report, headers: try TestMesh.eventDelivery()).case.id

            // The community tries and fails; the street mediates twice and tension eases.
            let one = try await rpc.call(DisputeServiceMethods.startRung, rung(caseID, .finder, lead: "网格员"), headers: [gridWorker]).attempt
            _ = try await rpc.call(DisputeServiceMethods.endRung, end(caseID, one.id, .failed), headers: [gridWorker])
            let two = try await rpc.call(DisputeServiceMethods.startRung, rung(caseID, .villageSecretary, lead: "社区书记"), headers: [communityStaff]).attempt
            _ = try await rpc.call(DisputeServiceMethods.endRung, end(caseID, two.id, .failed), headers: [communityStaff])
            for _ in 0..<2 {
                let three = try await rpc.call(DisputeServiceMethods.startRung, rung(caseID, .townshipCadre, lead: "街道包片干部", bodies: ["综治中心"]), headers: [streetStaff]).attempt
                _ = try await rpc.call(DisputeServiceMethods.endRung, end(caseID, three.id, .eased), headers: [streetStaff])
            }
            await expectCode(.failedPrecondition, containing: "the next is rung 3") {
                _ = try await rpc.call(DisputeServiceMethods.startRung, rung(caseID, .villageSecretary, lead: "社区书记"), headers: [communityStaff])
            }

            // Each failed rung was news for risk; so is the next incident.
            let changedBefore = try await count(database, "SELECT count(*) FROM dispute.outbox WHERE topic = 'case.changed'")
            #expect(changedBefore == 2)

            // Months later the brothers beat 李; the police transfer joins the same case and risk is told.
            clock.set(morningOf: "2026-07-14")
            var transfer = Pingan_Dispute_V1_IntakeCaseRequest()
            transfer.requestID = UUID().wire
            transfer.villageCode = community
            transfer.category = .neighbour
            transfer.source = .policeTransfer
            transfer.description_p = "金氏兄弟殴打李某乙，李报警"
            transfer.parties = [party("金某甲"), party("金某丙"), party("李某乙")]
            transfer.violenceOccurred = true
            let joined = try await rpc.call(DisputeServiceMethods.intakeCase, transfer, headers: [streetStaff])
            #expect(joined.joinedExisting)
            #expect(joined.case.id == caseID)
            #expect(joined.case.incidents == 2)
            #expect(joined.case.repeatIncident)
            #expect(try await count(database, "SELECT count(*) FROM dispute.cases") == 1)
            #expect(try await count(database, "SELECT count(*) FROM dispute.outbox WHERE topic = 'case.changed'") == changedBefore + 1)

            // The street blows the whistle: police station, judicial office, counselling.
            let admin = try Self.caller(street, [.admin])
            var departments: [String: String] = [:]
            for (name, key) in [("安福派出所", "anfu-police"), ("安福司法所", "anfu-justice"), ("心理咨询服务站", "anfu-counselling"), ("民政办", "anfu-civil")] {
                var register = Pingan_Dispute_V1_RegisterDepartmentRequest()
                register.centreCode = street
                register.name = name
                register.apiKeyName = key
                departments[key] = try await rpc.call(DisputeServiceMethods.registerDepartment, register, headers: [admin]).department.id
            }
            func department(_ key: String) throws -> (String, String) { try Self.caller(street, [.department], "apikey:\(key)") }

            var summon = Pingan_Dispute_V1_SummonDepartmentsRequest()
            summon.caseID = caseID
            summon.departmentIds = [UUID().wire]
            await expectCode(.invalidArgument, containing: "department_ids[0]:") {
                _ = try await rpc.call(DisputeServiceMethods.summonDepartments, summon, headers: [streetStaff])
            }
            summon.departmentIds = ["anfu-police", "anfu-justice", "anfu-counselling"].compactMap { departments[$0] }
            await expectCode(.permissionDenied, containing: "coordinated by centre \(street)") {
                _ = try await rpc.call(DisputeServiceMethods.summonDepartments, summon, headers: [countyStaff])
            }
            let summons = try await rpc.call(DisputeServiceMethods.summonDepartments, summon, headers: [streetStaff]).summons
            #expect(summons.count == 3)
            #expect(summons.allSatisfy { $0.reportDeadline.dueAt == "2026-07-15T16:00:00.000Z" && $0.feedbackDeadline.dueAt == "2026-07-21T16:00:00.000Z" })
            let police = try #require(summons.first { $0.departmentName == "安福派出所" })
            let justice = try #require(summons.first { $0.departmentName == "安福司法所" })

            var feedback = Pingan_Dispute_V1_FeedBackOnSummonsRequest()
            feedback.summonsID = police.id
            feedback.feedback = "已对金氏兄弟训诫"
            await expectCode(.failedPrecondition, containing: "report to the summons before feeding back") {
                _ = try await rpc.call(DisputeServiceMethods.feedBackOnSummons, feedback, headers: [try department("anfu-police")])
            }
            var reporting = Pingan_Dispute_V1_ReportToSummonsRequest()
            reporting.summonsID = police.id
            await expectCode(.notFound, containing: "summons \(police.id) not found") {
                _ = try await rpc.call(DisputeServiceMethods.reportToSummons, reporting, headers: [try department("anfu-justice")])
            }
            #expect(try await rpc.call(DisputeServiceMethods.reportToSummons, reporting, headers: [try department("anfu-police")]).summons.reportedAt != "")
            #expect(try await rpc.call(DisputeServiceMethods.feedBackOnSummons, feedback, headers: [try department("anfu-police")]).summons.feedback == "已对金氏兄弟训诫")
            reporting.summonsID = justice.id
            _ = try await rpc.call(DisputeServiceMethods.reportToSummons, reporting, headers: [try department("anfu-justice")])

            // A summoned department sees the case; one that was not sees nothing.
            var get = Pingan_Dispute_V1_GetCaseRequest()
            get.caseID = caseID
            #expect(try await rpc.call(DisputeServiceMethods.getCase, get, headers: [try department("anfu-police")]).case.id == caseID)
            await expectCode(.notFound, containing: "case \(caseID) not found") {
                _ = try await rpc.call(DisputeServiceMethods.getCase, get, headers: [try department("anfu-civil")])
            }

            // Two days on, counselling has not reported: the scan marks it once and notifies.
            clock.advance(by: 2 * 24 * 3600)
            let scan = OverdueScan(pool: database.pool(), outbox: Outbox(schema: "dispute"))
            #expect(try await scan.run(now: clock.now, limit: 100) == 1)
            #expect(try await scan.run(now: clock.now, limit: 100) == 0)
            #expect(try await count(database, "SELECT count(*) FROM dispute.outbox WHERE topic = 'case.notice'") == 2)  // the summons and the overdue report
            var overdue = Pingan_Dispute_V1_ListCasesRequest()
            overdue.divisionCode = street
            overdue.overdueOnly = true
            #expect(try await rpc.call(DisputeServiceMethods.listCases, overdue, headers: [streetStaff]).cases.map(\.id) == [caseID])
            overdue.departmentID = departments["anfu-counselling"] ?? ""
            #expect(try await rpc.call(DisputeServiceMethods.listCases, overdue, headers: [streetStaff]).cases.map(\.id) == [caseID])

            // The street asks the county for support; the county coordinates, then hands it back.
            var escalate = Pingan_Dispute_V1_EscalateCaseRequest()
            escalate.caseID = caseID
            escalate.reason = "多部门协调需县级统筹"
            #expect(try await rpc.call(DisputeServiceMethods.escalateCase, escalate, headers: [streetStaff]).case.coordinatorCode == county)
            var countyDepartment = Pingan_Dispute_V1_RegisterDepartmentRequest()
            countyDepartment.centreCode = county
            countyDepartment.name = "临澧县信访局"
            countyDepartment.apiKeyName = "linli-petitions"
            summon.departmentIds = [try await rpc.call(DisputeServiceMethods.registerDepartment, countyDepartment, headers: [try Self.caller(county, [.admin])]).department.id]
            #expect(try await rpc.call(DisputeServiceMethods.summonDepartments, summon, headers: [countyStaff]).summons.map(\.summonedByCentre) == [county])
            var handBack = Pingan_Dispute_V1_HandBackCaseRequest()
            handBack.caseID = caseID
            handBack.note = "县级协调完成，交回街道跟进"
            await expectCode(.permissionDenied) { _ = try await rpc.call(DisputeServiceMethods.handBackCase, handBack, headers: [streetStaff]) }
            #expect(try await rpc.call(DisputeServiceMethods.handBackCase, handBack, headers: [countyStaff]).case.coordinatorCode == street)

            // Months of coordination later: reconciliation, a visit that finds it unsettled, again.
            let three = try await rpc.call(DisputeServiceMethods.startRung, rung(caseID, .townshipCadre, lead: "街道包片干部"), headers: [streetStaff]).attempt
            _ = try await rpc.call(DisputeServiceMethods.endRung, end(caseID, three.id, .failed), headers: [streetStaff])
            let four = try await rpc.call(DisputeServiceMethods.startRung, rung(caseID, .politicalLegal, lead: "政法委员", bodies: ["派出所", "司法所", "心理咨询服务站"]), headers: [streetStaff]).attempt
            _ = try await rpc.call(DisputeServiceMethods.endRung, end(caseID, four.id, .settled, agreement: ["金某甲", "金某丙", "李某乙"], on: "2026-07-20"), headers: [streetStaff])
            var visit = Pingan_Dispute_V1_RecordReturnVisitRequest()
            visit.caseID = caseID
            visit.outcome = .unsettled
            visit.note = "双方仍有口角"
            #expect(try await rpc.call(DisputeServiceMethods.recordReturnVisit, visit, headers: [communityStaff]).case.status == .open)
            let again = try await rpc.call(DisputeServiceMethods.startRung, rung(caseID, .politicalLegal, lead: "政法委员"), headers: [streetStaff]).attempt
            _ = try await rpc.call(DisputeServiceMethods.endRung, end(caseID, again.id, .settled, agreement: ["金某甲", "李某乙"], on: "2026-08-03"), headers: [streetStaff])
            visit.outcome = .confirmed
            visit.note = "和睦相处"
            #expect(try await rpc.call(DisputeServiceMethods.recordReturnVisit, visit, headers: [communityStaff]).case.status == .closed)

            // What the month's index will count: April's four rungs, July's work.
            var facts = Pingan_Dispute_V1_CaseFactsRequest()
            facts.rootCode = street
            facts.month = "2026-04"
            let april = try #require(try await rpc.call(DisputeServiceMethods.caseFacts, facts, headers: [streetStaff]).facts.first)
            #expect(april.villageCode == community && april.opened == 1 && april.rungsEnded == 4 && april.rungsOnTime == 4 && april.rungsSettled == 0)
            facts.month = "2026-07"
            let july = try #require(try await rpc.call(DisputeServiceMethods.caseFacts, facts, headers: [streetStaff]).facts.first)
            #expect(july.opened == 0 && july.repeatIncidents == 1 && july.overdueSteps == 1)
            #expect(july.rungsEnded == 3 && july.rungsSettled == 2)
            #expect(july.summonsAnswered == 1 && july.summonsLate == 0)
            #expect(july.returnVisitsDone == 2 && july.returnVisitsConfirmed == 1)

            var export = Pingan_Dispute_V1_ExportCasesRequest()
            export.divisionCode = street
            export.month = "2026-04"
            let csv = try await rpc.call(DisputeServiceMethods.exportCases, export, headers: [streetStaff]).csv
            let rows = csv.split(separator: "\n")
            #expect(rows.count == 2)
            #expect(rows[1].hasPrefix("\(caseID),\(community),"))
            #expect(rows[1].contains(",closed,4,\(street),2,"))
            #expect(!csv.contains("金某"))
        }
    }

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
