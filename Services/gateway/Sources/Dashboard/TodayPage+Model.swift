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
    }
    struct CaseRow {
        let id: String, village: String, category: String, rung: String, status: String, openedAt: String, overdue: Bool
    }
    struct ActionRow { let division: String, kind: String, owner: String, dueOn: String, month: String }

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
    let canAcknowledge: Bool
    let csrf: String

    /// - Parameter centre: the centre the page is for; the caller's own or one below it.
    static func load(centre: DivisionCode, for principal: Principal, csrf: String, now: Date, client: DashboardClient) async throws -> TodayPage {
        let division = try await client.call(DivisionServiceMethods.getDivision, .with { $0.code = centre.rawValue }).division
        async let children = client.call(DivisionServiceMethods.listChildren, .with { $0.code = centre.rawValue; $0.pageSize = 500 })
        async let warnings = client.call(RiskServiceMethods.listWarnings, .with { $0.centreCode = centre.rawValue; $0.openOnly = true; $0.pageSize = 200 })
        async let overdue = client.call(DisputeServiceMethods.listCases, .with { $0.divisionCode = centre.rawValue; $0.overdueOnly = true; $0.pageSize = 200 })
        async let recent = client.call(DisputeServiceMethods.listCases, .with { $0.divisionCode = centre.rawValue; $0.pageSize = 100 })
        async let actions = client.call(IndexServiceMethods.listActions, .with { $0.centreCode = centre.rawValue; $0.status = .open; $0.pageSize = 200 })

        let below = try await children.divisions
        var names = Dictionary(below.map { ($0.code, $0.name) }, uniquingKeysWith: { first, _ in first })
        names[division.code] = division.name
        func place(_ code: String) -> String { names[code] ?? code }

        let overdueCases = try await overdue.cases
        let overdueIDs = Set(overdueCases.map(\.id))
        let cases = overdueCases + (try await recent.cases).filter { !overdueIDs.contains($0.id) }
        let openWarnings = try await warnings.warnings
        return TodayPage(
            code: division.code, name: division.name, level: Labels.level(division.level),
            trail: try await trail(from: principal.centre, to: division, client: client),
            children: below.map { Place(code: $0.code, name: $0.name) }, hasChildren: !below.isEmpty,
            warnings: openWarnings.map { warning in
                let raised = Date(wireTimestamp: warning.raisedAt) ?? now
                let escalates = Date(wireTimestamp: warning.escalatesAt)
                return WarningRow(
                    id: warning.id, caseID: warning.caseID, village: place(warning.villageCode), score: warning.score,
                    status: Labels.warningStatus(warning.status), raisedAt: Labels.time(raised), age: Labels.span(from: raised, to: now),
                    escalation: escalates.map { $0 > now ? "\(Labels.span(from: now, to: $0))后升级至上级中心" : "已超时，已升级" } ?? "",
                    escalates: escalates != nil, waiting: warning.status == .raised
                )
            },
            warningCount: openWarnings.count,
            cases: cases.map { item in
                CaseRow(id: item.id, village: place(item.villageCode), category: Labels.category(item.category), rung: Labels.rung(item.currentRung),
                        status: Labels.caseStatus(item.status), openedAt: Labels.time(item.openedAt), overdue: overdueIDs.contains(item.id))
            },
            actions: try await actions.actions.map { action in
                ActionRow(division: action.divisionName, kind: Labels.actionKind(action.kind), owner: action.owner, dueOn: action.dueOn, month: action.month)
            },
            canAcknowledge: MethodRoles.allows(principal, RiskServiceMethods.acknowledgeWarning.path),
            csrf: csrf
        )
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
