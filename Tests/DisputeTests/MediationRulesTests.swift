@testable import DisputeService
import Foundation
import PinganAccess
import PinganDomain
import Testing

@Suite("mediation rules")
struct MediationRulesTests {
    let now = Date(timeIntervalSince1970: 1_780_000_000)
    let rules = MediationRules(calendar: WorkdayCalendar(exceptions: [], years: Set(2020...2030)), deadlines: StepDeadlines())

    func file(after outcomes: [(LadderRung, RungOutcome)]) throws -> CaseFile {
        let village = try DivisionCode(validating: "430781103201")
        let record = DisputeCase(
            id: UUID(), incidentID: nil, village: village, category: .land, source: .walkIn, status: .open, description: "x",
            parties: [], facts: CaseFacts(threatOfViolence: false, threatOfSelfHarm: false, repeatIncident: false, priorPoliceCalls: 0),
            openedAt: now, coordinator: village.owningCentre, major: nil, incidents: 1
        )
        let attempts = outcomes.map { rung, outcome in
            RungAttempt(id: UUID(), rung: rung, kind: .peoples, lead: "x", participants: [], bodies: [], centre: village.owningCentre,
                        startedBy: "user:x", startedAt: now, deadline: WorkingDeadline(dueAt: now, beyondCalendar: false), outcome: outcome)
        }
        return CaseFile(record: record, attempts: attempts, agreement: nil, returnVisit: nil, summons: [])
    }

    func township() throws -> Principal {
        Principal(subject: "user:t", centre: try DivisionCode(validating: "430781103000"), roles: [.staff], expiresAt: now.addingTimeInterval(600))
    }

    func start(_ file: CaseFile, _ rung: LadderRung, skip: String? = nil) throws(MediationRefusal) -> [CaseChange] {
        try rules.startRung(file, rung: rung, kind: .peoples, lead: "x", participants: [], bodies: [], skipReason: skip, by: try! township(), now: now)
    }

    /// The attempt a decision starts, the rungs it skips and why, and its timeline note.
    func started(_ changes: [CaseChange]) -> (attempt: RungAttempt, skipped: [LadderRung], reason: String?, note: String)? {
        guard changes.count == 2, case let .attemptStarted(attempt, skipped, reason) = changes[0],
              case let .timeline(kind, note, _) = changes[1], kind == "rung_started" else { return nil }
        return (attempt, skipped, reason, note)
    }

    @Test func aRungOpensAfterTheOneBelowFailedAndNeverBelowIt() throws {
        let afterThird = try file(after: [(.finder, .failed), (.villageSecretary, .failed), (.townshipCadre, .failed)])
        #expect(throws: MediationRefusal.outOfOrder(requested: .townshipCadre, next: .politicalLegal)) { try start(afterThird, .townshipCadre) }
        #expect(throws: MediationRefusal.skipNeedsReason(requested: .townshipLeaders, next: .politicalLegal)) { try start(afterThird, .townshipLeaders) }
        let fourth = try #require(started(try start(afterThird, .politicalLegal)))
        #expect(fourth.attempt.rung == .politicalLegal && fourth.skipped.isEmpty && fourth.reason == nil)
        #expect(fourth.attempt.deadline == rules.calendar.deadline(after: now, workingDays: StepDeadlines().days(for: .politicalLegal)))
        #expect(fourth.attempt.centre == (try township()).centre)
        let eased = try file(after: [(.finder, .failed), (.villageSecretary, .eased)])
        #expect(throws: MediationRefusal.skipNeedsReason(requested: .townshipCadre, next: .villageSecretary, eased: 1)) { try start(eased, .townshipCadre) }
        // After an eased rung the same rung is tried again.
        let again = try #require(started(try start(eased, .villageSecretary)))
        #expect(again.attempt.rung == .villageSecretary && again.skipped.isEmpty)
    }

    /// Issue 24: rung 3 eased tension twice without a settlement; rung 4 opens without a skip
    /// reason (it was tried, not skipped). Eased once, rung 3 is tried again; a settlement the
    /// return visit undid starts the count afresh.
    @Test func aRungEasedTwiceWithoutASettlementHasFailedAndTheNextOpens() throws {
        let below: [(LadderRung, RungOutcome)] = [(.finder, .failed), (.villageSecretary, .failed)]
        let twice = try file(after: below + [(.townshipCadre, .eased), (.townshipCadre, .eased)])
        let fourth = try #require(started(try start(twice, .politicalLegal)))
        #expect(fourth.attempt.rung == .politicalLegal && fourth.skipped.isEmpty)
        #expect(throws: MediationRefusal.outOfOrder(requested: .townshipCadre, next: .politicalLegal)) { try start(twice, .townshipCadre) }
        let once = try file(after: below + [(.townshipCadre, .eased)])
        #expect(throws: MediationRefusal.skipNeedsReason(requested: .politicalLegal, next: .townshipCadre, eased: 1)) { try start(once, .politicalLegal) }
        let afterUndoneSettlement = try file(after: below + [(.townshipCadre, .eased), (.townshipCadre, .settled), (.townshipCadre, .eased)])
        #expect(throws: MediationRefusal.skipNeedsReason(requested: .politicalLegal, next: .townshipCadre, eased: 1)) { try start(afterUndoneSettlement, .politicalLegal) }
        let leadersTwice = try file(after: below + [(.townshipCadre, .failed), (.politicalLegal, .failed), (.townshipLeaders, .eased), (.townshipLeaders, .eased)])
        #expect(throws: MediationRefusal.ladderExhausted) { try start(leadersTwice, .townshipLeaders) }
    }

    @Test func climbingPastTheNextRungRecordsTheRungsSkippedAndWhy() throws {
        let afterFinder = try file(after: [(.finder, .failed)])
        let skip = try #require(started(try start(afterFinder, .politicalLegal, skip: "持刀威胁，直接由政法委员牵头")))
        #expect(skip.attempt.rung == .politicalLegal)
        #expect(skip.skipped == [.villageSecretary, .townshipCadre])
        #expect(skip.reason == "持刀威胁，直接由政法委员牵头")
        #expect(skip.note.contains("skipped rung(s) 2, 3"))
    }

    @Test func whenEveryRungFailedTheLadderIsExhausted() throws {
        let all = try file(after: LadderRung.allCases.map { ($0, .failed) })
        #expect(throws: MediationRefusal.ladderExhausted) { try start(all, .townshipLeaders) }
    }
}
