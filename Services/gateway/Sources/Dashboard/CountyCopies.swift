import Foundation
import PinganConnect
import PinganContracts
import PinganDomain

/// The counties that run their own mesh and whose cases a page of the city's mesh shows as
/// copies, each with the time its figures are complete to: a city leader reading the today
/// or index page must see that 澧县's numbers stop at 21:30 when the e-government link is
/// down, not take them for the county's day. Nothing shows on a mesh no county sends to.
struct CountyCopies {
    struct Row {
        let name: String
        /// When the copies are complete to, as centres read a time; "尚未同步" before the first.
        let asOf: String
        /// When the county's mesh last called, and how long ago.
        let heard: String
        /// The link (or the county) has been silent, or the copies lag, for longer than the
        /// relay ever waits when all is well.
        let stale: Bool
    }

    let rows: [Row]
    /// For the template, which reads stored properties only.
    let hasRows: Bool

    init(rows: [Row]) {
        self.rows = rows
        hasRows = !rows.isEmpty
    }

    /// The relay calls at least every 10 seconds: a minute of silence is the link, or the county.
    static let silence: TimeInterval = 60
    /// The relay holds its "complete to" a minute behind; five is copies that are not keeping up.
    static let lag: TimeInterval = 300

    /// The counties around `centre` (holding it, or under it), asked beside the page's other
    /// calls. The notice explains figures, it is not one: a person whose roles cannot ask, or
    /// a dispute-service that cannot answer (an older release during an upgrade), gets no
    /// notice rather than a broken page.
    static func list(centre: DivisionCode, client: DashboardClient) async -> [Pingan_Dispute_V1_FederatedCounty] {
        do {
            return try await client.call(FederationServiceMethods.listFederatedCounties, .with { $0.centreCode = centre.rawValue }).counties
        } catch let error as ConnectError where error.code == .permissionDenied {
            return []
        } catch {
            client.logger.warning("the counties' sync could not be read for the page", metadata: ["error": "\(error)"])
            return []
        }
    }

    /// The notice for `counties`, named from `known` (the names the page has read already),
    /// asking grid only for those it lacks.
    static func load(
        _ counties: [Pingan_Dispute_V1_FederatedCounty], known: [String: String], now: Date, client: DashboardClient
    ) async -> CountyCopies {
        let missing = counties.map(\.countyCode).filter { known[$0] == nil }
        let names = missing.isEmpty ? known : known.merging(await client.divisionNames(missing)) { kept, _ in kept }
        return CountyCopies(rows: counties.map { row($0, name: names[$0.countyCode] ?? $0.countyCode, now: now) })
    }

    /// One county as the page says it at `now`.
    static func row(_ county: Pingan_Dispute_V1_FederatedCounty, name: String, now: Date) -> Row {
        let heard = Date(wireTimestamp: county.heardAt) ?? .distantPast
        let complete = Date(wireTimestamp: county.completeAsOf)
        return Row(
            name: name,
            asOf: complete.map(Labels.time) ?? "尚未同步",
            heard: "\(Labels.time(heard))（\(Labels.span(from: heard, to: now))前）",
            stale: now.timeIntervalSince(heard) > silence || complete.map { now.timeIntervalSince($0) > lag } ?? true
        )
    }

    static let template = View.template("""
    {{#hasRows}}<section id="county-copies" aria-labelledby="county-copies-title">
    <h2 id="county-copies-title">独立部署县（市、区）的数据</h2>
    <p class="muted">这些县的案件在本县系统办理，经政务外网同步到本级；本页中它们的数字只到下列时间为止。</p>
    <ul>{{#rows}}<li{{#stale}} class="overdue"{{/stale}}>{{name}}：数据截至 {{asOf}} · 最后联系 {{heard}}{{#stale}} <span class="overdue-tag">同步中断或滞后，该县数字可能不全</span>{{/stale}}</li>{{/rows}}</ul>
    </section>{{/hasRows}}
    """)

    func render() -> String { Self.template.render(self) }
}
