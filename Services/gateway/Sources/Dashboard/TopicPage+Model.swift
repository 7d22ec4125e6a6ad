import Foundation
import PinganAccess
import PinganContracts
import PinganDomain

/// `/ui/topics` (社会风险专题): a centre's view of the social-risk topic database — its
/// incidents by village, category and week, the cluster warnings over them, and the open
/// topics its staff attach cases to. Built from risk-service's Connect methods only
/// (`IncidentTrend`, `ListWarnings`, `ListTopics`), as its user could fetch them.
struct TopicPage: Sendable {
    /// One row of the incidents table: a village and a category, with a count per week shown.
    struct Row: Sendable, Equatable {
        let village: String
        let category: Pingan_Grid_V1_IncidentCategory
        /// In the order of ``TopicPage/weeks``.
        let counts: [Int]
    }

    let centre: String
    /// The Mondays (YYYY-MM-DD) of the weeks shown, oldest first.
    let weeks: [String]
    let rows: [Row]
    /// The open cluster warnings under the centre, newest first.
    let clusters: [Pingan_Risk_V1_Warning]
    let topics: [Pingan_Risk_V1_Topic]
    /// The visitor's staff may open topics and attach cases.
    let mayEdit: Bool
    let csrf: String
    var notice: String? = nil
    var refusal: String? = nil

    /// How many weeks the incidents table shows.
    static let weeksShown = 8

    /// Staff, mediators and leaders read the page; its forms are for staff.
    static func isOffered(to principal: Principal) -> Bool {
        principal.has(.staff) || principal.has(.mediator) || principal.has(.leader)
    }

    /// The page for `centre` on `today`, asked of risk-service as the visitor.
    static func load(centre: DivisionCode, today: Day, principal: Principal, csrf: String, client: DashboardClient) async throws -> TopicPage {
        let monday = today.adding(days: -((today.weekday + 5) % 7))
        let first = monday.adding(days: -7 * (weeksShown - 1))
        let weeks = (0..<weeksShown).map { first.adding(days: 7 * $0).description }
        let counts = try await client.call(RiskServiceMethods.incidentTrend, .with {
            $0.divisionCode = centre.rawValue
            $0.since = first.description
            $0.until = today.description
        }).counts
        let warnings = try await client.call(RiskServiceMethods.listWarnings, .with {
            $0.centreCode = centre.rawValue
            $0.openOnly = true
            $0.pageSize = 200
        }).warnings
        let topics = try await client.call(RiskServiceMethods.listTopics, .with {
            $0.centreCode = centre.rawValue
            $0.openOnly = true
        }).topics
        return TopicPage(
            centre: centre.rawValue, weeks: weeks, rows: rows(counts, weeks: weeks), clusters: warnings.filter { !$0.rule.isEmpty },
            topics: topics, mayEdit: principal.has(.staff), csrf: csrf
        )
    }

    /// The counts as a table: a row per village and category, a column per week, busiest first.
    static func rows(_ counts: [Pingan_Risk_V1_IncidentCount], weeks: [String]) -> [Row] {
        var table: [String: [Int]] = [:]
        var keys: [String: (String, Pingan_Grid_V1_IncidentCategory)] = [:]
        for count in counts {
            guard let column = weeks.firstIndex(of: count.week) else { continue }
            let key = "\(count.villageCode)|\(count.category.rawValue)"
            keys[key] = (count.villageCode, count.category)
            table[key, default: Array(repeating: 0, count: weeks.count)][column] += Int(count.count)
        }
        return table.compactMap { key, values in keys[key].map { Row(village: $0.0, category: $0.1, counts: values) } }
            .sorted { ($0.counts.reduce(0, +), $1.village, $1.category.rawValue) > ($1.counts.reduce(0, +), $0.village, $0.category.rawValue) }
    }
}
