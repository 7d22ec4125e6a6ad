import Foundation
@testable import IndexService
import PinganDomain
import Testing

/// Which version a month's computation becomes, and when a month freezes, without a database.
@Suite("month versioning")
struct MonthVersioningTests {
    let month = Month(year: 2026, month: 10)

    func publication(reason: String = "", mayRecomputeFrozen: Bool = false) -> Publication {
        Publication(
            month: month, catalogueVersion: "test", status: .frozen, computedBy: "user:test",
            reason: reason, mayRecomputeFrozen: mayRecomputeFrozen, now: month.range.end
        )
    }

    func stored(_ version: Int, _ status: MonthVersion.Status) -> MonthVersion {
        MonthVersion(month: month, version: version, status: status, catalogueVersion: "test", computedAt: month.range.start,
                     computedBy: "index-service", reason: "")
    }

    @Test func aMonthFreezesAtTheFirstInstantOfTheNextMonthInChinaTime() {
        let end = month.range.end
        #expect(MonthVersioning.status(of: month, factsReadAt: end.addingTimeInterval(-0.001)) == .provisional)
        #expect(MonthVersioning.status(of: month, factsReadAt: end) == .frozen)
        // 2026-11-01 00:00 in China is 2026-10-31 16:00 UTC.
        #expect(end == ISO8601DateFormatter().date(from: "2026-10-31T16:00:00Z"))
        #expect(MonthVersioning.status(of: month, factsReadAt: month.range.start) == .provisional)
    }

    @Test func anEndedMonthWaitsUntilEveryCountysCopiesArePastItsEnd() {
        let end = month.range.end, later = end.addingTimeInterval(86_400)
        // 澧县's link went down at 23:30 on the last evening: its month is not all here.
        #expect(MonthVersioning.status(of: month, factsReadAt: later, countiesCompleteAsOf: [later, end.addingTimeInterval(-1800)]) == .provisional)
        // A county that has never said how complete its copies are holds the month too.
        #expect(MonthVersioning.status(of: month, factsReadAt: later, countiesCompleteAsOf: [nil]) == .provisional)
        #expect(MonthVersioning.status(of: month, factsReadAt: later, countiesCompleteAsOf: [end, later]) == .frozen)
        // A running month is provisional however complete the copies are.
        #expect(MonthVersioning.status(of: month, factsReadAt: end.addingTimeInterval(-1), countiesCompleteAsOf: [later]) == .provisional)
    }

    @Test func theFirstComputationIsVersionOneAndAProvisionalOneIsReplacedInPlace() throws {
        #expect(try MonthVersioning.decide(publication(), latest: nil) == .first)
        #expect(try MonthVersioning.decide(publication(), latest: nil).version == 1)
        #expect(try MonthVersioning.decide(publication(), latest: stored(1, .provisional)) == .replace(version: 1))
        #expect(try MonthVersioning.decide(publication(), latest: stored(3, .provisional)).version == 3)
    }

    @Test func aFrozenMonthIsRecomputedOnlyByTheRootsAdministratorWithAReasonAsTheNextVersion() throws {
        let frozen = stored(2, .frozen)
        #expect(throws: IndexRefusal.frozenNeedsAdministrator(version: 2)) {
            try MonthVersioning.decide(publication(reason: "补录"), latest: frozen)
        }
        // The administrator is asked first: without both, the caller learns who may do it.
        #expect(throws: IndexRefusal.frozenNeedsAdministrator(version: 2)) {
            try MonthVersioning.decide(publication(), latest: frozen)
        }
        #expect(throws: IndexRefusal.frozenNeedsReason(version: 2)) {
            try MonthVersioning.decide(publication(mayRecomputeFrozen: true), latest: frozen)
        }
        #expect(try MonthVersioning.decide(publication(reason: "补录", mayRecomputeFrozen: true), latest: frozen) == .follow(version: 3))
    }

    @Test func onlyAnOpenActionCanBeCompleted() throws {
        func action(_ status: IndexAction.Status) throws -> IndexAction {
            IndexAction(
                id: UUID(), month: month, division: "430725202201", divisionName: "村", centre: try DivisionCode(validating: "430725202000"),
                kind: .reminderTalk, owner: "政法委员", dueOn: Day(containing: month.range.end), score: 70, status: status,
                outcome: nil, doneBy: nil, doneAt: nil, createdAt: month.range.end
            )
        }
        #expect(throws: Never.self) { try action(.open).requireOpen() }
        #expect(throws: IndexRefusal.actionNotOpen(.done)) { try action(.done).requireOpen() }
        #expect(throws: IndexRefusal.actionNotOpen(.withdrawn)) { try action(.withdrawn).requireOpen() }
    }
}
