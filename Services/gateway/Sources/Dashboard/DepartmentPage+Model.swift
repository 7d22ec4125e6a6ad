import Foundation
import PinganAccess
import PinganConnect
import PinganContracts
import PinganDomain

/// A department's page (中心吹哨、部门报到), for a person who signs in for the department:
/// the summons addressed to it, newest case first, each with its two deadlines and the form
/// it is waiting for, report (报到) and then feedback (反馈).
///
/// Built from `DisputeService` as the person calls it. The gateway gives their calls the
/// department's identity (``Forwarder/actingForDepartment(_:)``), so `ListMySummons` lists
/// only the department's own summons, each with its case; the page adds no check of its own
/// and shows nothing the department's system could not fetch.
struct DepartmentPage {
    struct SummonsRow {
        let id: String, caseID: String
        let village: String, category: String, caseStatus: String, description: String
        let summonedBy: String
        let reportDue: String, reportOverdue: Bool, reported: Bool, reportedAt: String
        let feedbackDue: String, feedbackOverdue: Bool, fedBack: Bool, fedBackAt: String, feedback: String
        /// Whether a deadline ran past the loaded official calendar and assumed Monday to Friday.
        let beyondCalendar: Bool
        /// The form this summons waits for: report first, then feedback.
        let mayReport: Bool, mayFeedBack: Bool
        /// Feedback typed into the form, kept when it was refused, and why.
        var typed = ""
        var error = ""
        var hasError = false
    }
    /// A refusal, beside the summons whose form it answers.
    struct Refusal: Equatable { let summons: String, message: String }

    /// How many summons the page lists; the API pages through the rest.
    static let listed = 100

    let department: String
    var rows: [SummonsRow]
    let more: Bool
    let csrf: String
    var notice = ""
    var refusal: Refusal?

    /// The page is for people who act for a department: the roles table lets them answer summons.
    static func isOffered(to principal: Principal) -> Bool {
        MethodRoles.allows(principal, DisputeServiceMethods.reportToSummons.path)
    }

    static func load(session: Dashboard.Session, now: Date, client: DashboardClient) async throws -> DepartmentPage {
        let listed = try await client.call(DisputeServiceMethods.listMySummons, .with { $0.pageSize = Int32(Self.listed) })
        let villages = await client.divisionNames(listed.summons.map(\.villageCode))
        var rows = listed.summons.map { mine in
            row(mine.summons, of: mine, village: villages[mine.villageCode] ?? mine.villageCode, now: now)
        }
        let name = listed.summons.first?.summons.departmentName ?? ""
        // Waiting for this department first, each kind by its nearer deadline.
        func order(_ row: SummonsRow) -> (Int, String) { (row.fedBack ? 1 : 0, row.reported ? row.feedbackDue : row.reportDue) }
        rows.sort { order($0) < order($1) }
        return DepartmentPage(department: name, rows: rows, more: !listed.nextPageToken.isEmpty, csrf: session.csrf)
    }

    static func row(_ summons: Pingan_Dispute_V1_Summons, of found: Pingan_Dispute_V1_MySummons, village: String, now: Date) -> SummonsRow {
        let reported = !summons.reportedAt.isEmpty, fedBack = !summons.fedBackAt.isEmpty
        func past(_ deadline: Pingan_Dispute_V1_Deadline) -> Bool { Date(wireTimestamp: deadline.dueAt).map { $0 < now } ?? false }
        return SummonsRow(
            id: summons.id, caseID: found.caseID, village: village, category: Labels.category(found.category), caseStatus: Labels.caseStatus(found.status),
            description: found.description_p, summonedBy: summons.summonedByCentre,
            reportDue: Labels.deadline(summons.reportDeadline.dueAt), reportOverdue: !reported && past(summons.reportDeadline),
            reported: reported, reportedAt: Labels.time(summons.reportedAt),
            feedbackDue: Labels.deadline(summons.feedbackDeadline.dueAt), feedbackOverdue: !fedBack && past(summons.feedbackDeadline),
            fedBack: fedBack, fedBackAt: Labels.time(summons.fedBackAt), feedback: summons.feedback,
            beyondCalendar: summons.reportDeadline.beyondCalendar || summons.feedbackDeadline.beyondCalendar,
            mayReport: !reported, mayFeedBack: reported && !fedBack
        )
    }
}

/// How the department page says things in Chinese: what a form did, and why one was refused.
enum DepartmentWords {
    static func notice(_ code: String) -> String {
        switch code {
        case "reported": "已报到。请在反馈期限前反馈处理情况。"
        case "fed-back": "已反馈，吹哨中心可在案件记录中看到。"
        default: ""
        }
    }

    /// A refused form in words a department clerk reads; `nil` for one the page as a whole answers.
    static func refusal(_ error: ConnectError) -> String? {
        switch error.code {
        case .invalidArgument:
            error.message.hasPrefix("feedback") ? "请填写反馈内容，1 至 4000 字。" : "提交的内容有误：\(error.message)"
        case .notFound, .permissionDenied: "未找到该吹哨事项，或它不是派给本部门的。"
        case .failedPrecondition: "请先报到，再反馈处理情况。"
        case .aborted: "案件正在被他人更新，请再提交一次。"
        default: nil
        }
    }
}
