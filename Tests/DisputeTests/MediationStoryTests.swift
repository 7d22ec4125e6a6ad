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
        try await DisputeTests.withDispute(now: { clock.now }, body)
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
            // Newest first.
            #expect(file.timeline.map(\.kind) == [
                "return_visit", "agreement_signed", "rung_ended", "rung_started", "rung_ended", "rung_started", "rung_ended",
                "rung_started", "rung_ended", "rung_started", "rung_ended", "rung_started", "opened",
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

}
