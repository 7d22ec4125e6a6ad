import Foundation
import PinganAccess
import PinganConnect
import PinganContracts
import PinganDomain

/// One centre's work for today: open warnings with their clocks, cases with overdue ones
/// first, the index actions it owns, and the way up and down the division tree. The same
/// page serves every centre in the signed-in centre's subtree.
struct TodayPage {
    struct Place { let code: String; let name: String }
    struct WarningRow {
        let id: String, caseID: String, village: String, score: Int32, status: String
        let raisedAt: String, age: String, escalation: String, escalates: Bool, waiting: Bool
        /// The next step of the warning's closed loop, when the signed-in person may take it.
        let next: Step?
        let hasNext: Bool
        /// The gravest level (风险等级) the case reached while the warning was open, in words;
        /// empty when the service gave none.
        var level = ""
        /// How many times the case warned while it was open, when more than once.
        var repeated = ""
        /// Flags the template tests: mustache reads stored properties only, and an empty
        /// string still opens a section.
        var hasLevel = false, hasRepeated = false

        /// Sets the level and the count of a warning as the page says them.
        mutating func grade(_ level: Pingan_Risk_V1_RiskLevel, count: Int32) {
            self.level = TodayPage.levelWords(level)
            repeated = count > 1 ? "已预警 \(count) 次" : ""
            hasLevel = !self.level.isEmpty
            hasRepeated = !repeated.isEmpty
        }
    }

    /// Whether a centre may take a loop step on a warning owned by `owner`, as risk-service
    /// decides it: evaluating and closing belong to the owning centre or a level above it; the
    /// other steps to anyone who sees the warning, a village included.
    static func mayTake(_ action: String, at centre: DivisionCode, owner: String) -> Bool {
        guard action == "evaluate" || action == "close" else { return true }
        guard let owner = try? DivisionCode(validating: owner) else { return false }
        return centre.contains(owner)
    }

    /// A warning's level as centres say it (一般, 较大, 重大); empty when unspecified.
    static func levelWords(_ level: Pingan_Risk_V1_RiskLevel) -> String {
        switch level {
        case .general: "一般"
        case .serious: "较大"
        case .major: "重大"
        default: ""
        }
    }

    /// One step of a warning's loop (签收 → 指派 → 反馈 → 问效 → 关闭) as a form.
    struct Step {
        let action: String, label: String, needsText: Bool, textLabel: String
    }

    /// The step after `status`, with the method that takes it.
    static func step(after status: Pingan_Risk_V1_WarningStatus) -> (Step, String)? {
        switch status {
        case .raised: (Step(action: "acknowledge", label: "签收", needsText: false, textLabel: ""), RiskServiceMethods.acknowledgeWarning.path)
        case .acknowledged: (Step(action: "assign", label: "指派处置", needsText: true, textLabel: "处置人（姓名或岗位）"), RiskServiceMethods.assignWarning.path)
        case .handling: (Step(action: "feedback", label: "反馈处置情况", needsText: true, textLabel: "处置情况"), RiskServiceMethods.feedBackOnWarning.path)
        case .fedBack: (Step(action: "evaluate", label: "跟踪问效", needsText: true, textLabel: "问效结论"), RiskServiceMethods.evaluateWarning.path)
        case .evaluated: (Step(action: "close", label: "关闭预警", needsText: true, textLabel: "处置结果"), RiskServiceMethods.closeWarning.path)
        default: nil
        }
    }
    struct CaseRow {
        let id: String, village: String, category: String, rung: String, status: String, openedAt: String, overdue: Bool
        /// The open rung's deadline, for the cases read for their due steps; empty otherwise.
        let deadline: String
    }
    struct ActionRow { let division: String, kind: String, owner: String, dueOn: String, month: String }
    /// A department's report or feedback, or a return visit, that a case is waiting for.
    struct DueRow { let caseID: String, village: String, what: String, due: String, overdue: Bool }

    let code: String
    let name: String
    let level: String
    let trail: [Place]
    let children: [Place]
    let hasChildren: Bool
    let warnings: [WarningRow]
    let warningCount: Int
    let cases: [CaseRow]
    let actions: [ActionRow]
    let due: [DueRow]
    /// More steps fall due under the centre than the page reads (``dueStepsRead``).
    var dueMore = false
    /// How many due steps the page reads, for the template's notice.
    let dueRead = TodayPage.dueStepsRead
    let csrf: String
    /// The counties whose figures here are copies, and up to when (``CountyCopies``), rendered.
    var copies = ""

    /// How many of the centre's due steps, soonest first, the page reads: the rungs' deadlines
    /// for the case rows, and the summons and return visits it lists.
    static let dueStepsRead = 500

    /// - Parameter centre: the centre the page is for; the caller's own or one below it.
    static func load(centre: DivisionCode, for principal: Principal, csrf: String, now: Date, client: DashboardClient) async throws -> TodayPage {
        let division = try await client.call(DivisionServiceMethods.getDivision, .with { $0.code = centre.rawValue }).division
        async let children = client.call(DivisionServiceMethods.listChildren, .with { $0.code = centre.rawValue; $0.pageSize = 500 })
        async let warnings = client.call(RiskServiceMethods.listWarnings, .with { $0.centreCode = centre.rawValue; $0.openOnly = true; $0.pageSize = 200 })
        async let overdue = client.call(DisputeServiceMethods.listCases, .with { $0.divisionCode = centre.rawValue; $0.overdueOnly = true; $0.pageSize = 200 })
        async let recent = client.call(DisputeServiceMethods.listCases, .with { $0.divisionCode = centre.rawValue; $0.pageSize = 100 })
        async let actions = client.call(IndexServiceMethods.listActions, .with { $0.centreCode = centre.rawValue; $0.status = .open; $0.pageSize = 200 })
        async let steps = client.call(DisputeServiceMethods.listDueSteps, .with { $0.divisionCode = centre.rawValue; $0.pageSize = Int32(dueStepsRead) })
        async let counties = CountyCopies.list(centre: centre, client: client)

        let below = try await children.divisions
        var names = Dictionary(below.map { ($0.code, $0.name) }, uniquingKeysWith: { first, _ in first })
        names[division.code] = division.name
        func place(_ code: String) -> String { names[code] ?? code }

        let overdueCases = try await overdue.cases
        let overdueIDs = Set(overdueCases.map(\.id))
        let cases = overdueCases + (try await recent.cases).filter { !overdueIDs.contains($0.id) }
        let openWarnings = try await warnings.warnings
        let dueSteps = try await steps
        let (due, rungDeadlines) = dueRows(dueSteps.steps, village: place, now: now)
        func next(_ status: Pingan_Risk_V1_WarningStatus, owner: String) -> Step? {
            step(after: status).flatMap { step, path in
                MethodRoles.allows(principal, path) && mayTake(step.action, at: principal.centre, owner: owner) ? step : nil
            }
        }
        var page = TodayPage(
            code: division.code, name: division.name, level: Labels.level(division.level),
            trail: try await trail(from: principal.centre, to: division, client: client),
            children: below.map { Place(code: $0.code, name: $0.name) }, hasChildren: !below.isEmpty,
            warnings: openWarnings.map { warning in
                let raised = Date(wireTimestamp: warning.raisedAt) ?? now
                let escalates = Date(wireTimestamp: warning.escalatesAt)
                var row = WarningRow(
                    id: warning.id, caseID: warning.caseID, village: place(warning.villageCode), score: warning.score,
                    status: Labels.warningStatus(warning.status), raisedAt: Labels.time(raised), age: Labels.span(from: raised, to: now),
                    escalation: escalates.map { $0 > now ? "\(Labels.span(from: now, to: $0))后升级至上级中心" : "已超时，已升级" } ?? "",
                    escalates: escalates != nil, waiting: warning.status == .raised,
                    next: next(warning.status, owner: warning.centreCode), hasNext: next(warning.status, owner: warning.centreCode) != nil
                )
                row.grade(warning.level, count: warning.count)
                return row
            },
            warningCount: openWarnings.count,
            cases: cases.map { item in
                CaseRow(id: item.id, village: place(item.villageCode), category: Labels.category(item.category), rung: Labels.rung(item.currentRung),
                        status: Labels.caseStatus(item.status), openedAt: Labels.time(item.openedAt), overdue: overdueIDs.contains(item.id),
                        deadline: rungDeadlines[item.id] ?? "")
            },
            actions: try await actions.actions.map { action in
                ActionRow(division: action.divisionName, kind: Labels.actionKind(action.kind), owner: action.owner, dueOn: action.dueOn, month: action.month)
            },
            due: due,
            dueMore: !dueSteps.nextPageToken.isEmpty,
            csrf: csrf
        )
        page.copies = await CountyCopies.load(await counties, known: names, now: now, client: client).render()
        return page
    }

    /// The summons waiting on departments and the return visits due, soonest first, from the
    /// centre's due steps; and each case's open rung deadline among them.
    static func dueRows(_ steps: [Pingan_Dispute_V1_DueStep], village: (String) -> String, now: Date) -> ([DueRow], [String: String]) {
        var rows: [DueRow] = []
        var rungDeadlines: [String: String] = [:]
        for step in steps {
            let what: String
            switch step.kind {
            case .rung:
                rungDeadlines[step.caseID] = Labels.deadline(step.deadline.dueAt)
                continue
            case .summonsReport: what = "\(step.departmentName) 报到"
            case .summonsFeedback: what = "\(step.departmentName) 反馈"
            case .returnVisit: what = "回访"
            default: continue
            }
            guard let due = Date(wireTimestamp: step.deadline.dueAt) else { continue }
            rows.append(DueRow(caseID: step.caseID, village: village(step.villageCode), what: what,
                               due: Labels.deadline(step.deadline.dueAt), overdue: due < now))
        }
        return (rows, rungDeadlines)
    }

    /// The divisions from the signed-in centre down to the page's, for the way back up.
    static func trail(from home: DivisionCode, to division: Pingan_Grid_V1_Division, client: DashboardClient) async throws -> [Place] {
        var trail: [Place] = []
        var parent = division.parentCode
        while !parent.isEmpty, division.code != home.rawValue, let code = try? DivisionCode(validating: parent), home.contains(code) {
            let above = try await client.call(DivisionServiceMethods.getDivision, .with { $0.code = parent }).division
            trail.insert(Place(code: above.code, name: above.name), at: 0)
            if above.code == home.rawValue { break }
            parent = above.parentCode
        }
        return trail
    }
}
