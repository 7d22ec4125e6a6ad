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

/// Who may take each step of a case, by level (issue 24: a village escalated its street's case
/// to the county, and a village summoned a township department).
@Suite("dispute: levels and case actions")
struct CaseActionsTests {
    static let county = try! DivisionCode(validating: "430724000000")
    static let street = try! DivisionCode(validating: "430724001000")
    static let community = try! DivisionCode(validating: "430724001201")
    static let otherStreet = try! DivisionCode(validating: "430724002000")

    func record(coordinator: DivisionCode) -> DisputeCase {
        DisputeCase(
            id: UUID(), incidentID: nil, village: Self.community, category: .neighbour, source: .walkIn, status: .open, description: "x",
            parties: [], facts: CaseFacts(threatOfViolence: false, threatOfSelfHarm: false, repeatIncident: false, priorPoliceCalls: 0),
            openedAt: Date(), coordinator: coordinator, major: nil, incidents: 1
        )
    }

    /// The whole table, each action at each standing, on a case the street coordinates.
    @Test func theTableHoldsAtEveryLevel() {
        let expected: [CaseAction: Set<CaseStanding>] = [
            .mediate: [.coordinator, .belowCoordinator], .reclassify: [.coordinator, .belowCoordinator],
            .recordReturnVisit: [.coordinator, .belowCoordinator], .summon: [.coordinator], .escalate: [.coordinator],
            .handBack: [.coordinator], .markMajor: [.coordinator], .requestEscalation: [.belowCoordinator],
        ]
        let onStreet = record(coordinator: Self.street)
        let centres: [(DivisionCode, CaseStanding)] = [
            (Self.street, .coordinator), (Self.community, .belowCoordinator), (Self.county, .elsewhere), (Self.otherStreet, .elsewhere),
        ]
        for action in CaseAction.allCases {
            for (centre, standing) in centres {
                #expect(CaseStanding(of: centre, in: onStreet) == standing)
                let allowed = (try? action.require(by: centre, on: onStreet)) != nil
                #expect(allowed == expected[action, default: []].contains(standing), "\(action) by \(centre)")
            }
        }
        // Escalated to the county, the county coordinates and the street is below it.
        let onCounty = record(coordinator: Self.county)
        #expect((try? CaseAction.handBack.require(by: Self.county, on: onCounty)) != nil)
        #expect(throws: MediationRefusal.onlyTheCoordinator(.summon, Self.county)) { try CaseAction.summon.require(by: Self.street, on: onCounty) }
        #expect((try? CaseAction.requestEscalation.require(by: Self.street, on: onCounty)) != nil)
    }

    @Test func aVillageAsksItsCoordinatorToEscalateAndTheCoordinatorEscalates() throws {
        let rules = MediationRules(calendar: WorkdayCalendar(exceptions: [], years: []), deadlines: StepDeadlines())
        let file = CaseFile(record: record(coordinator: Self.street), attempts: [], agreement: nil, returnVisit: nil, summons: [])
        let village = Principal(subject: "user:c", centre: Self.community, roles: [.staff], expiresAt: Date().addingTimeInterval(60))
        let street = Principal(subject: "user:s", centre: Self.street, roles: [.staff], expiresAt: Date().addingTimeInterval(60))
        #expect(throws: MediationRefusal.onlyTheCoordinator(.escalate, Self.street)) { try rules.escalate(file, reason: "r", by: village) }
        let asked = try rules.requestEscalation(file, reason: "需县级协调", by: village)
        guard asked.count == 2, case let .timeline(kind, _, _) = asked[0], case let .notice(type, centre, summary, text, _) = asked[1] else {
            Issue.record("unexpected changes \(asked)")
            return
        }
        #expect(kind == "escalation_requested" && type == "case.escalation_requested" && centre == Self.street && summary.contains("需县级协调"))
        // People read Chinese without the reason typed in (it may name the parties).
        #expect(text.hasPrefix("下级中心") && !text.contains("需县级协调"))
        #expect(!asked.contains { if case .coordinator = $0 { true } else { false } })
        #expect(throws: MediationRefusal.coordinatorEscalates) { try rules.requestEscalation(file, reason: "r", by: street) }
        guard case .coordinator(let above)? = try rules.escalate(file, reason: "r", by: street).first else {
            Issue.record("the coordinator did not escalate")
            return
        }
        #expect(above == Self.county)
    }

    /// Through dispute-service, as the story found it: the community centre's direct
    /// escalation and its summons are refused naming who may act; its request is recorded
    /// and pushed to the street; a township department is summoned by the township.
    @Test func throughTheServiceAVillageAsksAndOnlyTheCoordinatorActs() async throws {
        let clock = ManualClock(morningOf: "2026-04-07")
        try await withDispute(now: { clock.now }) { rpc, database in
            var intake = Pingan_Dispute_V1_IntakeCaseRequest()
            intake.requestID = UUID().wire
            intake.villageCode = Self.community.rawValue
            intake.category = .neighbour
            intake.source = .walkIn
            intake.description_p = "金、李两家多次争吵"
            intake.parties = [.with { $0.name = "金某甲" }, .with { $0.name = "李某乙" }]
            let communityStaff = try TestMesh.principal(centre: Self.community.rawValue, roles: [.staff, .mediator])
            let streetStaff = try TestMesh.principal(centre: Self.street.rawValue, roles: [.staff, .mediator, .admin])
            let caseID = try await rpc.call(DisputeServiceMethods.intakeCase, intake, headers: [communityStaff]).case.id

            var escalate = Pingan_Dispute_V1_EscalateCaseRequest()
            escalate.caseID = caseID
            escalate.reason = "越级"
            await expectCode(.permissionDenied, containing: "only the coordinating centre \(Self.street) may escalate this case; ask it with RequestEscalation") {
                _ = try await rpc.call(DisputeServiceMethods.escalateCase, escalate, headers: [communityStaff])
            }
            var ask = Pingan_Dispute_V1_RequestEscalationRequest()
            ask.caseID = caseID
            ask.reason = "多部门协调需县级统筹"
            let asked = try await rpc.call(DisputeServiceMethods.requestEscalation, ask, headers: [communityStaff]).case
            #expect(asked.coordinatorCode == Self.street.rawValue)
            let pool = database.pool()
            let notices = try await pool.query("SELECT payload FROM dispute.outbox WHERE topic = 'case.notice'").map {
                try Pingan_Notify_V1_DeliverNoticeRequest(serializedBytes: [UInt8](try $0.decode(Data.self, at: 0)))
            }
            #expect(notices.map(\.type) == ["case.escalation_requested"])
            #expect(notices.first?.centreCode == Self.street.rawValue)
            await pool.close()

            var register = Pingan_Dispute_V1_RegisterDepartmentRequest()
            register.centreCode = Self.street.rawValue
            register.name = "安福派出所"
            register.apiKeyName = "anfu-police"
            let department = try await rpc.call(DisputeServiceMethods.registerDepartment, register, headers: [streetStaff]).department.id
            var summon = Pingan_Dispute_V1_SummonDepartmentsRequest()
            summon.caseID = caseID
            summon.departmentIds = [department]
            await expectCode(.permissionDenied, containing: "only the coordinating centre \(Self.street) may summon departments on this case") {
                _ = try await rpc.call(DisputeServiceMethods.summonDepartments, summon, headers: [communityStaff])
            }
            #expect(try await rpc.call(DisputeServiceMethods.summonDepartments, summon, headers: [streetStaff]).summons.map(\.summonedByCentre) == [Self.street.rawValue])
        }
    }
}
