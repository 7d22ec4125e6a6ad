import Foundation
@testable import IndexService
import PinganDomain
import Testing

@Suite("governance index")
struct GovernanceIndexTests {
    static let county = "430725000000"
    static let township = "430725202000"
    let catalogue: IndicatorCatalogue
    let index: GovernanceIndex

    init() throws {
        catalogue = try IndexApp.bundledCatalogue()
        index = GovernanceIndex(catalogue: catalogue)
    }

    func divisions(_ villages: [String]) throws -> [(code: DivisionCode, name: String)] {
        try ([Self.county, Self.township] + villages).map { (try DivisionCode(validating: $0), $0) }
    }

    /// A month of a village with one grid that screened `screened` of 30 days.
    func sheet(screened: Double, _ facts: [String: Double] = [:]) -> FactSheet {
        var sheet = FactSheet(values: facts)
        sheet["grids"] = 1
        sheet["grid_days"] = 30
        sheet["grid_days_screened"] = screened
        return sheet
    }

    @Test func theShippedCatalogueIsValidAndAWrongOneIsRefused() throws {
        #expect(catalogue.version == "2026.12-1")
        #expect(catalogue.totalWeight == 100)
        #expect(Set(catalogue.indicators.map(\.category)) == Set(IndicatorCategory.allCases))
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        let renamed = try #require(String(data: try encoder.encode(catalogue), encoding: .utf8))
            .replacingOccurrences(of: "[\"rungs_on_time\"]", with: "[\"rungs_in_time\"]")
        #expect(throws: IndicatorCatalogue.Problem.invalid("rungs_on_time: unknown fact rungs_in_time")) {
            try IndicatorCatalogue.parse(Data(renamed.utf8))
        }
        let heavier = try #require(String(data: try encoder.encode(catalogue), encoding: .utf8))
            .replacingOccurrences(of: "\"weight\":15", with: "\"weight\":25")
        #expect(throws: IndicatorCatalogue.Problem.invalid("weights sum to 110.0, not 100")) {
            try IndicatorCatalogue.parse(Data(heavier.utf8))
        }
    }

    /// The ordering: finding and settling on time beats screening and finding
    /// nothing, which beats overdue rungs and a fight after settlement; reporting nothing at
    /// all is never full marks.
    @Test func findingAndSettlingOutranksReportingNothingWhichOutranksOverdueAndRepeatFights() throws {
        let settler = "430725202201", quiet = "430725202202", failing = "430725202203", silent = "430725202204"
        let facts: [String: FactSheet] = [
            settler: sheet(screened: 30, ["opened": 3, "rungs_ended": 3, "rungs_settled": 3, "rungs_on_time": 3, "return_visits_done": 3]),
            quiet: sheet(screened: 30),
            failing: sheet(screened: 12, [
                "opened": 3, "rungs_ended": 3, "rungs_settled": 1, "rungs_on_time": 1, "overdue_steps": 2,
                "reopened_after_settlement": 1, "return_visits_done": 1,
            ]),
        ]
        let scored = Dictionary(uniqueKeysWithValues: index.compute(divisions: try divisions([settler, quiet, failing, silent]), villageFacts: facts, seed: "t").map { ($0.code, $0) })
        let ranks = [settler, quiet, failing].map { scored[$0]?.rank }
        #expect(ranks == [1, 2, 3])
        #expect(try #require(scored[settler]).score > 95)
        #expect(try #require(scored[failing]).score < 60)
        let nothing = try #require(scored[silent])
        #expect(!nothing.enoughData && nothing.rank == 0 && nothing.score == 0)
        #expect(nothing.indicators.allSatisfy { !$0.enoughData && $0.points == 0 })
        // Points are what the score is made of.
        let settled = try #require(scored[settler])
        #expect(abs(settled.indicators.reduce(0) { $0 + $1.points } - settled.score) < 0.05)
        // The township sums its villages, and is the county's only child.
        #expect(scored[Self.township]?.rank == 1 && scored[Self.township]?.rankLow == 1 && scored[Self.township]?.rankHigh == 1)
    }

    @Test func tooSmallASampleIsNotEnoughDataNeverFullMarks() throws {
        let village = "430725202201"
        var small = sheet(screened: 15, ["survey_respondents": 12, "survey_satisfied": 12])
        var scored = try #require(index.compute(divisions: try divisions([village]), villageFacts: [village: small], seed: "t").first { $0.code == village })
        let survey = try #require(scored.indicators.first { $0.indicator == "survey_satisfaction" })
        #expect(!survey.enoughData && survey.points == 0)
        // Screening 15 of 30 days and no disputes found per grid: (0.5 × 15 + 0 × 10) / 25.
        #expect(scored.score == 30)
        small["survey_respondents"] = 40
        small["survey_satisfied"] = 40
        scored = try #require(index.compute(divisions: try divisions([village]), villageFacts: [village: small], seed: "t").first { $0.code == village })
        #expect(scored.score == GovernanceIndex.rounded((7.5 + 10) / 35 * 100, 2))
    }

    @Test func rankIntervalsSeparateAClearLeaderAndBlurANearTie() throws {
        let leader = "430725202201", a = "430725202202", b = "430725202203"
        let facts: [String: FactSheet] = [
            leader: sheet(screened: 30, ["opened": 4, "rungs_ended": 4, "rungs_settled": 4, "rungs_on_time": 4, "return_visits_done": 4]),
            // a screens more, b settles more on time: a tie the weights decide either way.
            a: sheet(screened: 30, ["opened": 2, "rungs_ended": 2, "rungs_settled": 2, "rungs_on_time": 1, "return_visits_done": 2]),
            b: sheet(screened: 20, ["opened": 2, "rungs_ended": 2, "rungs_settled": 2, "rungs_on_time": 2, "return_visits_done": 2]),
        ]
        let first = index.compute(divisions: try divisions([leader, a, b]), villageFacts: facts, seed: "2026-10")
        let scored = Dictionary(uniqueKeysWithValues: first.map { ($0.code, $0) })
        #expect(scored[leader]?.rank == 1 && scored[leader]?.rankLow == 1 && scored[leader]?.rankHigh == 1)
        let near = try [a, b].map { try #require(scored[$0]) }
        #expect(near.allSatisfy { $0.rankLow == 2 && $0.rankHigh == 3 })
        // The same month gives the same intervals.
        let again = index.compute(divisions: try divisions([leader, a, b]), villageFacts: facts, seed: "2026-10")
        #expect(again.map(\.rankLow) == first.map(\.rankLow) && again.map(\.rankHigh) == first.map(\.rankHigh))
    }

    @Test func theSeedsTownshipRuleDecidesEachAction() {
        let rule = ThresholdRule.seedDefault
        #expect(rule.action(score: 98, enoughData: true) == .shareExperience)
        #expect(rule.action(score: 97.99, enoughData: true) == nil)
        #expect(rule.action(score: 80, enoughData: true) == nil)
        #expect(rule.action(score: 79.99, enoughData: true) == .reminderTalk)
        #expect(rule.action(score: 60, enoughData: true) == .reminderTalk)
        #expect(rule.action(score: 59.99, enoughData: true) == .summons)
        #expect(rule.action(score: 0, enoughData: false) == nil)
        #expect(rule.action(score: 0, enoughData: true) == .summons)
        var wrong = rule
        wrong.summonBelow = 85
        #expect(throws: FieldProblem(field: "rule.summon_below", problem: "must not be above remind_below (80.0)")) { try wrong.validate() }
    }

    @Test func annualGradesFollowTheDocumentedBands() {
        #expect(AnnualGrading.grade(scores: Array(repeating: 91, count: 12)).grade == "优秀")
        #expect(AnnualGrading.grade(scores: Array(repeating: 85, count: 6)).grade == "良好")
        #expect(AnnualGrading.grade(scores: [70, 70, 70, 50, 50, 50]) == (60, "合格"))
        #expect(AnnualGrading.grade(scores: Array(repeating: 59.9, count: 12)).grade == "不合格")
        #expect(AnnualGrading.grade(scores: Array(repeating: 99, count: 5)).grade == "数据不足")
    }

    @Test func surveyCSVNamesTheFirstBadLine() throws {
        let good = try SurveyResult.parse(csv: "division_code,respondents,satisfied\n430725202201,50,45\r\n430725202202, 30 ,30\n")
        #expect(good.map(\.satisfied) == [45, 30])
        #expect(throws: FieldProblem(field: "csv", problem: "line 3: satisfied must be a whole number from 0 to respondents (30)")) {
            try SurveyResult.parse(csv: "division_code,respondents,satisfied\n430725202201,50,45\n430725202202,30,31\n")
        }
        #expect(throws: FieldProblem(field: "csv", problem: "must start with the header division_code,respondents,satisfied")) {
            try SurveyResult.parse(csv: "code,n,ok\n")
        }
        #expect(throws: FieldProblem(field: "csv", problem: "line 3: 430725202201 appears twice")) {
            try SurveyResult.parse(csv: "division_code,respondents,satisfied\n430725202201,50,45\n430725202201,30,30\n")
        }
    }

    @Test func theReviewEscapesNamesAndDefusesSpreadsheetFormulas() {
        #expect(MonthlyReview.escape("<b>\"甲\"&</b>") == "&lt;b&gt;&quot;甲&quot;&amp;&lt;/b&gt;")
        #expect(MonthlyReview.csvCell("=HYPERLINK(\"x\")") == "\"'=HYPERLINK(\"\"x\"\")\"")
        #expect(MonthlyReview.csvCell("-3.5") == "-3.5")
        #expect(MonthlyReview.csvCell("a,b") == "\"a,b\"")
    }

    @Test func daysOfAMonthAreCountedInChinaTime() throws {
        let october = Month(year: 2026, month: 10)
        #expect(october.dayCount == 31)
        // 2026-10-05 00:30 in China is still 10-04 in UTC.
        let morning = try #require(ISO8601DateFormatter().date(from: "2026-10-04T16:30:00Z"))
        #expect(IndexPeers.daysCounted(october, now: morning) == 5)
        #expect(IndexPeers.daysCounted(october, now: october.range.end) == 31)
        #expect(Day(parsing: "2026-02-29") == nil)
        #expect(Day(parsing: "2026-10-05")?.description == "2026-10-05")
        #expect(Day(containing: morning).description == "2026-10-05")
    }
}
