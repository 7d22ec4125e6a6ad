import Foundation
@testable import IndexService
import PinganContracts
import PinganDomain
import PinganPostgres
import SwiftProtobuf
import Testing

/// What index-service tells notify-service, what its responses carry, and the stored JSON of
/// a score's indicators, without a database.
@Suite("index events and wire")
struct IndexEventsTests {
    let month = Month(year: 2026, month: 10)

    func unit(_ code: String, score: Double, enoughData: Bool = true, rank: Int = 0, low: Int = 0, high: Int = 0) -> GovernanceIndex.Scored {
        var unit = GovernanceIndex.Scored(code: code, name: "单位\(code.prefix(6))", parent: nil, score: score, enoughData: enoughData, indicators: [])
        unit.rank = rank
        unit.rankLow = low
        unit.rankHigh = high
        return unit
    }

    @Test func topicsAndTheirDelivery() {
        #expect(IndexEvents.notice.name == "index.notice")
        #expect(IndexEvents.notice.deliveredTo.path == NotifyServiceMethods.deliverNotice.path)
        #expect(IndexEvents.actionNotice == "index.action" && IndexEvents.publishedNotice == "index.published")
    }

    @Test func anActionNoticeTellsTheReviewingCentreWhatIsDueByWhomAndWhen() throws {
        let due = try #require(Day(parsing: "2026-11-09"))
        let action = ThresholdActions.NewAction(
            month: month, division: "430725202203", divisionName: "落后村", centre: try DivisionCode(validating: "430725202000"),
            kind: .summons, owner: "党委书记", dueOn: due, score: 59.5
        )
        let notice = IndexEvents.action(action)
        #expect(notice.type == "index.action")
        #expect(notice.centreCode == "430725202000" && notice.villageCode == "430725202203" && notice.caseID.isEmpty)
        #expect(notice.summary == "2026-10 指数 落后村 59.5分：约谈（党委书记）")
        // Due at the start of the day in China time.
        #expect(notice.dueAt == due.start.wireTimestamp && notice.dueAt.hasPrefix("2026-11-08T16:00:00"))
    }

    @Test func aFrozenMonthIsAnnouncedToEachCountyAndNoOtherLevel() {
        let notices = IndexEvents.published(month, [
            unit("430700000000", score: 80), unit("430725000000", score: 88.5, rank: 2, low: 1, high: 3),
            unit("430723000000", score: 0, enoughData: false), unit("430725202000", score: 90, rank: 1, low: 1, high: 1),
        ])
        #expect(notices.map(\.centreCode) == ["430725000000", "430723000000"])
        #expect(notices.allSatisfy { $0.type == "index.published" && $0.villageCode == $0.centreCode && $0.dueAt.isEmpty })
        #expect(notices.map(\.summary) == ["2026-10 指数已发布：单位430725 88.5分，第2名（区间 1–3）", "2026-10 指数已发布：单位430723 数据不足"])
    }

    @Test func theChangeFromLastMonthIsKnownOnlyWhenBothMonthsHaveAScore() {
        func ranked(_ score: Double, enoughData: Bool = true, previous: Double?) -> RankedScore {
            RankedScore(code: "430725202201", name: "村", score: score, enoughData: enoughData, rank: enoughData ? 1 : 0, rankLow: 1, rankHigh: 2,
                        indicators: [], previousScore: previous)
        }
        #expect(ranked(80.126, previous: 70.1).change == 10.03)
        #expect(ranked(70, previous: 80).change == -10)
        #expect(ranked(80, previous: nil).change == nil)
        #expect(ranked(0, enoughData: false, previous: 80).change == nil)

        let known = ranked(80.5, previous: 80).wire
        #expect(known.changeKnown && known.change == 0.5 && known.rank == 1 && known.rankLow == 1 && known.rankHigh == 2)
        let same = ranked(80, previous: 80).wire
        #expect(same.changeKnown && same.change == 0)
        let unknown = ranked(80, previous: nil).wire
        #expect(!unknown.changeKnown && unknown.change == 0)
    }

    @Test func indicatorsAreStoredAsTheProtobufMessagesJSONAlwaysWas() throws {
        let measured = IndicatorValue(indicator: "screening_coverage", name: "排查覆盖率", category: "risk_prevention", weight: 15,
                                      enoughData: true, value: 0.9677, normalised: 0.9677, points: 14.52)
        let unmeasured = IndicatorValue(indicator: "survey_satisfaction", name: "群众满意度", category: "co_governance", weight: 10,
                                        enoughData: false, value: 0)
        // As the store wrote it before: the messages' JSON, defaults left out.
        let before = "[" + (try [measured, unmeasured].map { try $0.wire.jsonString() }.joined(separator: ",")) + "]"
        #expect(try IndexRows.decodeIndicators(PostgresJSON(before)) == [measured, unmeasured])
        // As it writes now: the same fields under the same names, read back by either reader.
        let now = try IndexRows.indicatorsJSON([measured, unmeasured])
        #expect(try IndexRows.decodeIndicators(now) == [measured, unmeasured])
        let asMessages = try Pingan_Index_V1_IndicatorValue.array(fromJSONString: now.text)
        #expect(asMessages == [measured.wire, unmeasured.wire])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(now.text.utf8)) as? [[String: Any]])
        #expect(Set(object[1].keys) == ["indicator", "name", "category", "weight"])
        #expect(Set(object[0].keys) == ["indicator", "name", "category", "weight", "enoughData", "value", "normalised", "points"])
    }

    @Test func annualGradesAnswerWithTheirMonthsScored() {
        let grade = AnnualGrading.grade(ScoredYear(code: "430725202201", name: "星光村", scores: [90, 92, 88, 95, 91, 93])).wire
        #expect(grade.code == "430725202201" && grade.name == "星光村" && grade.meanScore == 91.5 && grade.monthsScored == 6 && grade.grade == "优秀")
        let few = AnnualGrading.grade(ScoredYear(code: "430725202202", name: "清溪村", scores: [])).wire
        #expect(few.meanScore == 0 && few.monthsScored == 0 && few.grade == "数据不足")
    }
}
