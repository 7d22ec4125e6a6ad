import Foundation
import PinganAccess
import PinganConnect
import PinganContracts
import PinganDomain

/// The grid worker's pages, phone first: report an incident from their grid
/// (`GridService/ReportIncident`), record the day's screening including "nothing found"
/// (`GridService/RecordScreening`), and the receipt of a report.
///
/// Who is reporting: a report names a grid and one of its members (a record of grid-service),
/// while the signed-in person is a gateway account, and no method links the two (a grid's
/// members are listed to its centre, not to the worker). So the forms take the grid from a
/// select of the grids under the worker's centre (`GridService/ListGrids`) and the member by
/// its number, the UUID the centre's administrator gives the worker as a link
/// (`/ui/grid?grid=…&member=…`) that fills the forms in: shown when the member is added
/// (`GridService/AddGridMember`) and on the grid's member list (`GridService/ListGridMembers`,
/// ``SetupPage``). A report or screening the service
/// takes remembers both in a cookie on that phone (``GridIdentity``), so from then on the
/// worker only reports; grid-service still checks that the member belongs to the grid.
///
/// What became of a report: a grid worker may not read cases (`DisputeService/GetCase` and
/// `ListCases` are for centre staff, mediators, leaders and summoned departments), but may list
/// the reports they filed (`DisputeService/ListMyReports`): each with whether it opened a case
/// or joined one, the case's rung and status, and never its parties. The report page shows
/// them as 我的上报 (``MyReports``).
enum GridPage {
    /// Whether `principal` may report from a grid, for the nav and the pages' gate: the pages
    /// show only to those the API would answer.
    static func isOffered(to principal: Principal) -> Bool {
        MethodRoles.allows(principal, GridServiceMethods.reportIncident.path)
            && MethodRoles.allows(principal, GridServiceMethods.listGrids.path)
    }

    /// Whether `principal`'s home is the grid pages rather than the day's work of a centre:
    /// one who reports but may not list cases would find only a refusal there.
    static func isHome(for principal: Principal) -> Bool {
        isOffered(to: principal) && !MethodRoles.allows(principal, DisputeServiceMethods.listCases.path)
    }

    /// The party rows a report form offers: three cover most disputes, and the form needs no
    /// script to add rows. A dispute with more people is reported by a centre (up to 20).
    static let partyRows = 3

    /// How many grids the select lists: a township's villages rarely hold more.
    static let listedGrids = 200

    /// How many of the worker's own reports the page lists, newest first.
    static let listedReports = 20

    /// The worker's own reports as 我的上报 shows them.
    struct MyReports: Sendable {
        /// One report: when, what, and what became of it, in words.
        struct Row: Sendable {
            let reportedAt: String
            let category: String
            /// 立案 or 并入案件.
            let outcome: String
            let rung: String
            let status: String
            let centre: String
            let caseID: String
        }

        /// Whether the signed-in person may list their reports at all.
        let offered: Bool
        /// `nil` when dispute-service could not be read just now.
        let rows: [Row]?

        static let notOffered = MyReports(offered: false, rows: [])
    }

    /// The newest of the signed-in person's own reports; the page still draws when
    /// dispute-service cannot be read (the rows are then `nil`).
    static func myReports(of principal: Principal, client: DashboardClient) async -> MyReports {
        guard MethodRoles.allows(principal, DisputeServiceMethods.listMyReports.path) else { return .notOffered }
        guard let reports = try? await client.call(DisputeServiceMethods.listMyReports, .with { $0.pageSize = Int32(listedReports) }).reports
        else { return MyReports(offered: true, rows: nil) }
        let names = await client.divisionNames(reports.map(\.coordinatorCode))
        return MyReports(offered: true, rows: reports.map { row(of: $0, centre: names[$0.coordinatorCode] ?? $0.coordinatorCode) })
    }

    /// A report in words: the coordinating centre by `centre`, its name where it could be read.
    static func row(of report: Pingan_Dispute_V1_MyReport, centre: String) -> MyReports.Row {
        MyReports.Row(
            reportedAt: Labels.time(report.reportedAt), category: Labels.category(report.category),
            outcome: report.openedCase ? "立案" : "并入案件", rung: Labels.rung(report.currentRung),
            status: Labels.caseStatus(report.caseStatus), centre: centre, caseID: report.caseID
        )
    }

    /// A grid as the select offers it: its village's name and its own.
    struct Choice: Sendable {
        let id: String
        let label: String
    }

    /// The grids under `centre` the signed-in person may report from, each named with its
    /// village (grids of different villages are often all called "第一网格").
    static func choices(under centre: DivisionCode, client: DashboardClient) async throws -> [Choice] {
        let grids = try await client.call(GridServiceMethods.listGrids, .with { $0.centreCode = centre.rawValue; $0.pageSize = Int32(listedGrids) }).grids
        let names = await client.divisionNames(grids.map(\.villageCode))
        return grids.map { Choice(id: $0.id, label: "\(names[$0.villageCode] ?? $0.villageCode) · \($0.name)") }
    }
}

/// The grid and member a worker reports as, remembered on their phone in a cookie once the
/// service has taken a form with them. The cookie is bound to the account that set it, so a
/// phone passed to a colleague does not report in the first worker's name.
///
/// - Note: it holds no secret: the member number only says who is reporting, and the gateway
///   and grid-service still check the account's jurisdiction and the grid's membership.
struct GridIdentity: Sendable, Equatable {
    static let cookie = "pingan_grid"
    /// A year: a worker keeps their grid.
    static let lifetime = 365 * 24 * 3600

    let grid: String
    let member: String

    /// The identity in the request's cookie, when it was set for `subject`.
    init?(cookieHeader header: String?, subject: String) {
        guard let header else { return nil }
        for pair in header.split(separator: ";") {
            let parts = pair.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, parts[0] == Self.cookie else { continue }
            let fields = parts[1].split(separator: "|", maxSplits: 2).map(String.init)
            guard fields.count == 3, fields[2] == subject, Self.isNumber(fields[0]), Self.isNumber(fields[1]) else { continue }
            self.init(grid: fields[0], member: fields[1])
            return
        }
        return nil
    }

    init(grid: String, member: String) {
        self.grid = grid
        self.member = member
    }

    /// The `Set-Cookie` value that remembers this identity for `subject`, only under `/ui/grid`.
    func setCookie(for subject: String, secure: Bool) -> String {
        "\(Self.cookie)=\(grid)|\(member)|\(subject); Path=/ui/grid; Max-Age=\(Self.lifetime); HttpOnly; SameSite=Strict\(secure ? "; Secure" : "")"
    }

    /// A UUID as the services write them: what may go into the cookie unquoted.
    static func isNumber(_ text: String) -> Bool {
        text.count == 36 && UUID(uuidString: text) != nil
    }
}

/// A report form as typed: what the page shows again when the service refuses it, and the
/// request it makes. Every field is kept as text, so nothing typed is lost or reformatted.
struct ReportForm: Sendable {
    struct PartyInput: Sendable {
        var name = ""
        var phone = ""
        var minor = false
    }

    var grid = ""
    var member = ""
    /// The category's wire number as text; empty until one is chosen.
    var category = ""
    var description = ""
    var parties = Array(repeating: PartyInput(), count: GridPage.partyRows)
    var threatOfViolence = false
    var threatOfSelfHarm = false
    var repeatIncident = false
    var priorPoliceCalls = ""
    /// The idempotency key made when the form was drawn: a second submit of the same form
    /// (a double tap, a refresh of the receipt) reports once.
    var requestID = ""

    /// A blank form for `identity`, with a fresh request id.
    static func blank(_ identity: GridIdentity?) -> ReportForm {
        ReportForm(grid: identity?.grid ?? "", member: identity?.member ?? "", requestID: UUID.random().wire)
    }

    /// The form as posted.
    init(fields: [String: String]) {
        func text(_ name: String) -> String { (fields[name] ?? "").trimmingCharacters(in: .whitespacesAndNewlines) }
        grid = text("grid")
        member = text("member")
        category = text("category")
        description = fields["description"] ?? ""
        parties = (1...GridPage.partyRows).map { row in
            PartyInput(name: text("party\(row)_name"), phone: text("party\(row)_phone"), minor: fields["party\(row)_minor"] != nil)
        }
        threatOfViolence = fields["threat_of_violence"] != nil
        threatOfSelfHarm = fields["threat_of_self_harm"] != nil
        repeatIncident = fields["repeat_incident"] != nil
        priorPoliceCalls = text("prior_police_calls")
        requestID = text("request_id")
    }

    init(grid: String = "", member: String = "", requestID: String = "") {
        self.grid = grid
        self.member = member
        self.requestID = requestID
    }

    /// The rows with anything typed in them, by their number on the form (1-based): a row left
    /// empty is no party, and the service's `parties[i]` is the i-th of these.
    var filledRows: [Int] {
        parties.indices.filter { !parties[$0].name.isEmpty || !parties[$0].phone.isEmpty || parties[$0].minor }.map { $0 + 1 }
    }

    /// The request as typed. Nothing is checked here: the service says what is wrong, by
    /// field, and the page puts that in words (``GridLabels``). Text that is not a number is
    /// sent as one the service refuses, so its refusal names the field.
    var request: Pingan_Grid_V1_ReportIncidentRequest {
        .with { request in
            request.gridID = grid
            request.reporterMemberID = member
            request.category = Int(category).map { Pingan_Grid_V1_IncidentCategory(rawValue: $0) ?? .unspecified } ?? .unspecified
            request.description_p = description
            request.parties = filledRows.map { row in
                let party = parties[row - 1]
                return .with { $0.name = party.name; $0.phone = party.phone; $0.minor = party.minor }
            }
            request.threatOfViolence = threatOfViolence
            request.threatOfSelfHarm = threatOfSelfHarm
            request.repeatIncident = repeatIncident
            request.priorPoliceCalls = priorPoliceCalls.isEmpty ? 0 : Int32(priorPoliceCalls) ?? -1
            request.requestID = requestID
        }
    }
}

/// A screening form as typed, kept the same way.
struct ScreeningForm: Sendable {
    var grid = ""
    var member = ""
    /// YYYY-MM-DD, China time.
    var day = ""
    var households = ""
    var disputes = ""

    static func blank(_ identity: GridIdentity?, today: Day) -> ScreeningForm {
        ScreeningForm(grid: identity?.grid ?? "", member: identity?.member ?? "", day: today.description, households: "", disputes: "0")
    }

    init(grid: String, member: String, day: String, households: String, disputes: String) {
        self.grid = grid
        self.member = member
        self.day = day
        self.households = households
        self.disputes = disputes
    }

    /// The form as posted. The "nothing found" button records no disputes whatever the count
    /// field says, so a worker with nothing to report taps once.
    init(fields: [String: String]) {
        func text(_ name: String) -> String { (fields[name] ?? "").trimmingCharacters(in: .whitespacesAndNewlines) }
        grid = text("grid")
        member = text("member")
        day = text("day")
        households = text("households")
        disputes = fields["result"] == "none" ? "0" : text("disputes")
    }

    var request: Pingan_Grid_V1_RecordScreeningRequest {
        .with { request in
            request.gridID = grid
            request.reporterMemberID = member
            request.day = day
            request.householdsVisited = households.isEmpty ? 0 : Int32(households) ?? -1
            request.disputesFound = disputes.isEmpty ? 0 : Int32(disputes) ?? -1
        }
    }
}

/// How the grid pages say things in Chinese: the categories a worker picks from, the facts a
/// report gave, and why a form was refused.
enum GridLabels {
    /// The categories in the order a worker meets them.
    static let categories: [Pingan_Grid_V1_IncidentCategory] = [
        .neighbour, .marriageFamily, .economicDebt, .land, .demolitionCompensation, .propertyManagement, .other,
    ]

    /// The facts a report gave, in words; empty when it gave none.
    static func facts(violence: Bool, selfHarm: Bool, repeated: Bool, policeCalls: Int32, minors: Bool) -> [String] {
        var facts: [String] = []
        if violence { facts.append("有暴力威胁") }
        if selfHarm { facts.append("有自伤（轻生）风险") }
        if repeated { facts.append("反复发生") }
        if policeCalls > 0 { facts.append("此前报警 \(policeCalls) 次") }
        if minors { facts.append("涉及未成年人") }
        return facts
    }

    /// A refused report or screening in words a grid worker reads, naming the form's row for
    /// a party; `nil` for a refusal the page as a whole answers (a session that ended).
    ///
    /// - Parameter rows: the form's row numbers of the parties sent, in order.
    static func refusal(_ error: ConnectError, rows: [Int] = []) -> String? {
        let ownPlatform = ", which runs its own platform"
        let field = error.message.split(separator: ":", maxSplits: 1).first.map(String.init) ?? ""
        switch error.code {
        case .invalidArgument:
            if field.hasPrefix("parties[") {
                let index = Int(field.dropFirst("parties[".count).prefix { $0.isNumber }) ?? 0
                let row = index < rows.count ? rows[index] : index + 1
                return field.hasSuffix(".phone")
                    ? "第 \(row) 位当事人的电话须为 11 位手机号，或带区号的固定电话。"
                    : "请填写第 \(row) 位当事人的姓名（1 至 50 个字）。"
            }
            switch field {
            case "grid_id": return "请选择网格。"
            case "reporter_member_id":
                return error.message.contains("not a member")
                    ? "该成员编号不是所选网格的成员，请核对网格和编号。"
                    : "请填写您的网格成员编号（36 位，由中心管理员在将您加入网格时提供）。"
            case "category": return "请选择纠纷类别。"
            case "description": return "请填写事情经过（1 至 2000 字）。"
            case "parties": return error.message.contains("at most") ? "当事人最多 20 人。" : "请至少填写一位当事人的姓名。"
            case "prior_police_calls": return "此前报警次数须为 0 至 100 的整数。"
            case "request_id": return "这份表单已提交过另一份内容，请重新打开上报页面再填写。"
            case "day": return "排查日期只能是今天或之前 7 天内的某一天。"
            case "households_visited": return "走访户数须为 0 至 10000 的整数。"
            case "disputes_found": return "发现的矛盾纠纷须为 0 至 1000 起。"
            default: return "提交的内容有误：\(error.message)"
            }
        case .failedPrecondition where error.message.contains(ownPlatform):
            // "<village> lies in county <name>, which runs its own platform …" (grid-service).
            let named = error.message.range(of: " lies in county ").flatMap { start in
                error.message.range(of: ownPlatform, range: start.upperBound..<error.message.endIndex).map { error.message[start.upperBound..<$0.lowerBound] }
            }
            return "\(named.map { "所选网格属于\($0)，该县" } ?? "所选网格所在的县（市、区）")已独立运行本县平台，网格的上报和排查请到该县平台办理。"
        case .notFound, .permissionDenied:
            return "所选网格不存在，或不在您的辖区内。"
        case .unavailable, .deadlineExceeded:
            return "服务暂时不可用，填写的内容已保留，请稍后再提交。"
        default:
            return nil
        }
    }
}
