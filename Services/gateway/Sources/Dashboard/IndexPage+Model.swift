import Foundation
import PinganConnect
import PinganAccess
import PinganContracts
import PinganDomain

/// The governance index for the units below a centre: this month's scores and ranks with
/// their intervals and indicators, and each unit's last twelve months.
struct IndexPage {
    struct Indicator { let name: String, points: String, measured: Bool }
    struct Row {
        let code: String, name: String, rank: String, interval: String, score: String, change: String, ranked: Bool
        let indicators: [Indicator]
    }
    /// One unit's scores month by month (`nil` where it had none), for the trend chart.
    struct Trend { let name: String; let scores: [Double?] }

    let code: String
    let name: String
    let month: String
    let status: String
    /// Whether the month shown has its published (frozen) version.
    let frozen: Bool
    let hasScores: Bool
    let rows: [Row]
    let months: [String]
    let trends: [Trend]
    let chart: String
    /// The index owner's actions, rule and freezing, rendered (``IndexWorkbench``).
    var workbench = ""
    /// The counties whose figures here are copies, and up to when (``CountyCopies``), rendered.
    var copies = ""

    static func load(centre: DivisionCode, month requested: Month?, now: Date, client: DashboardClient) async throws -> IndexPage {
        let division = try await client.call(DivisionServiceMethods.getDivision, .with { $0.code = centre.rawValue }).division
        let latest = requested ?? Month(containing: now)
        let months = (0..<12).reversed().map { latest.adding(months: -$0) }
        async let counties = CountyCopies.list(centre: centre, client: client)
        // Every month at once; a month never computed simply has no scores.
        let rankings = try await withThrowingTaskGroup(of: (Month, Pingan_Index_V1_GetRankingResponse?).self) { group in
            for month in months {
                group.addTask {
                    do {
                        return (month, try await client.call(IndexServiceMethods.getRanking, .with { $0.parentCode = centre.rawValue; $0.month = month.description }))
                    } catch let error as ConnectError where error.code == .notFound || error.code == .failedPrecondition {
                        return (month, nil)
                    }
                }
            }
            var found: [Month: Pingan_Index_V1_GetRankingResponse] = [:]
            for try await (month, ranking) in group { found[month] = ranking }
            return found
        }
        let current = rankings[latest]
        let units = current?.scores ?? []
        let trends = units.map { unit in
            Trend(name: unit.name, scores: months.map { month in
                rankings[month]?.scores.first { $0.code == unit.code && $0.enoughData }.map(\.score)
            })
        }
        var page = IndexPage(
            code: division.code, name: division.name, month: latest.description,
            status: current.map { ranking in
                if ranking.version.status == .frozen { return "已定稿（第 \(ranking.version.version) 版）" }
                // An ended month waits for its counties' copies (index-service freezes it once they are complete).
                return now >= latest.range.end ? "本月已结束，尚未定稿：待各方数据齐全后自动定稿" : "本月进行中，分数随数据变化"
            } ?? "",
            frozen: current?.version.status == .frozen,
            hasScores: !units.isEmpty,
            rows: units.map { unit in
                Row(code: unit.code, name: unit.name, rank: unit.enoughData ? "\(unit.rank)" : "—",
                    interval: unit.enoughData ? "\(unit.rankLow)–\(unit.rankHigh)" : "数据不足",
                    score: unit.enoughData ? String(format: "%.1f", unit.score) : "数据不足",
                    change: unit.changeKnown ? String(format: "%+.1f", unit.change) : "", ranked: unit.enoughData,
                    indicators: unit.indicators.map { Indicator(name: $0.name, points: String(format: "%.1f", $0.points), measured: $0.enoughData) })
            },
            months: months.map(\.description), trends: trends,
            chart: TrendChart(months: months.map(\.description), trends: trends).svg
        )
        var known = Dictionary(units.map { ($0.code, $0.name) }, uniquingKeysWith: { first, _ in first })
        known[division.code] = division.name
        page.copies = await CountyCopies.load(await counties, known: known, now: now, client: client).render()
        return page
    }
}
