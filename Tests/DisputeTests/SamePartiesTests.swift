@testable import DisputeService
import Foundation
import PinganDomain
import Testing

/// The same-parties rule without a database: which case a new incident joins, when it
/// reopens one, and when it opens its own.
@Suite("same parties")
struct SamePartiesTests {
    let now = Date(timeIntervalSince1970: 1_780_000_000)
    let village = try! DivisionCode(validating: "430723102201")
    let otherVillage = try! DivisionCode(validating: "430723102202")

    func incident(_ names: [String], in village: DivisionCode? = nil, violence: Bool = false) -> NewCase {
        NewCase(
            incidentID: UUID(), village: village ?? self.village, category: .neighbour, source: .gridReport, description: "又吵起来了",
            parties: names.map { Party(name: $0, phone: "", minor: false) },
            facts: CaseFacts(threatOfViolence: violence, threatOfSelfHarm: false, repeatIncident: false, priorPoliceCalls: 1)
        )
    }

    func candidate(_ names: [String], status: DisputeCase.Status = .open, in village: DivisionCode? = nil, closedAt: Date? = nil, priorCalls: Int = 0) -> SameParties.Candidate {
        let place = village ?? self.village
        let record = DisputeCase(
            id: UUID(), incidentID: nil, village: place, category: .neighbour, source: .gridReport, status: status, description: "旧案",
            parties: names.map { Party(name: $0, phone: "", minor: false) },
            facts: CaseFacts(threatOfViolence: false, threatOfSelfHarm: false, repeatIncident: false, priorPoliceCalls: priorCalls),
            openedAt: now.addingTimeInterval(-86_400), coordinator: place.owningCentre, major: nil, incidents: 2
        )
        return SameParties.Candidate(record: record, partyNames: Party.names(record.parties), closedAt: closedAt)
    }

    @Test func namesMatchOnTwoInCommonOrTheOneASideNames() {
        #expect(SameParties.match(["李", "金一", "金二"], ["李", "金一"]))
        #expect(!SameParties.match(["李", "金一"], ["李", "王"]))
        #expect(SameParties.match(["李"], ["李", "王"]))
        #expect(!SameParties.match(["赵"], ["李", "王"]))
    }

    @Test func anIncidentJoinsTheOpenCaseAndItsFactsAccumulate() throws {
        let open = candidate(["李", "金一"], priorCalls: 3)
        guard case let .join(joined, reopened) = SameParties.decide(incident(["李", "金一", "金二"], violence: true), candidates: [open], now: now) else {
            Issue.record("the same parties opened a new case")
            return
        }
        #expect(joined.id == open.record.id)
        #expect(!reopened)
        #expect(joined.incidents == 3)
        #expect(joined.facts.repeatIncident && joined.facts.threatOfViolence)
        #expect(joined.facts.priorPoliceCalls == 3)
    }

    @Test func aSettledOrRecentlyClosedCaseIsReopenedAndAnOlderOneIsNot() throws {
        let settled = candidate(["李", "金一"], status: .settled)
        guard case let .join(joined, reopened) = SameParties.decide(incident(["李", "金一"]), candidates: [settled], now: now) else {
            Issue.record("a settled case was not reopened")
            return
        }
        #expect(reopened && joined.status == .open)
        // Closed exactly the reopening window ago: too old; a second later: reopened.
        let window = SameParties.reopenWithin
        let old = candidate(["李", "金一"], status: .closed, closedAt: now.addingTimeInterval(-window))
        guard case .open = SameParties.decide(incident(["李", "金一"]), candidates: [old], now: now) else {
            Issue.record("a case closed \(window) s ago was reopened")
            return
        }
        let recent = candidate(["李", "金一"], status: .closed, closedAt: now.addingTimeInterval(-window + 1))
        guard case .join(_, true) = SameParties.decide(incident(["李", "金一"]), candidates: [recent], now: now) else {
            Issue.record("a case closed within the window was not reopened")
            return
        }
    }

    @Test func aResolvedCaseOneInAnotherVillageOrOtherPeopleOpenANewCase() throws {
        let candidates = [
            candidate(["李", "金一"], status: .resolved),
            candidate(["李", "金一"], in: otherVillage),
            candidate(["李", "王"]),
        ]
        let id = UUID()
        guard case let .open(opened) = SameParties.decide(incident(["李", "金一"]), candidates: candidates, now: now, id: id) else {
            Issue.record("the incident joined a case it may not join")
            return
        }
        #expect(opened.id == id && opened.incidents == 1 && opened.status == .open)
        #expect(opened.coordinator == village.owningCentre)
        #expect(opened.openedAt == now)
    }

    @Test func theNewestCandidateThatMayTakeTheIncidentWins() throws {
        let newest = candidate(["李", "金一"])
        let older = candidate(["李", "金一"])
        guard case let .join(joined, _) = SameParties.decide(incident(["金一", "李"]), candidates: [newest, older], now: now) else {
            Issue.record("no case joined")
            return
        }
        #expect(joined.id == newest.record.id)
    }
}
