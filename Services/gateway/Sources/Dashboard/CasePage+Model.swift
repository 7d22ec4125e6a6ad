import Foundation
import PinganAccess
import PinganContracts

/// A case as a mediator reads it: what happened and the worst of it so far, the reports that
/// opened and joined it, the rungs climbed with their deadlines, departments summoned, the
/// agreement, the return visit and the timeline. Parties are masked unless the mediator asked
/// to see them, a read the service records.
///
/// Reports and the timeline grow with every incident, so each shows one page, newest first,
/// with an "更早" link carrying the page token: the page's size does not grow with the case.
struct CasePage {
    /// Reports shown per page; the timeline shows what GetCase carries (its newest 50) or a
    /// page of as many from ListCaseTimeline.
    static let reportsPerPage = 20
    static let timelinePerPage: Int32 = 50

    struct ReportRow { let source: String, reportedAt: String, description: String, facts: [String], hasFacts: Bool, opened: Bool, backfilled: Bool }
    struct Party { let name: String; let phone: String; let hasPhone: Bool }
    struct RungRow { let rung: String, lead: String, startedAt: String, dueAt: String, endedAt: String, open: Bool, overdue: Bool }
    struct SummonsRow { let department: String, reportBy: String, reportedAt: String, reported: Bool, feedback: String, hasFeedback: Bool }
    struct Line { let at: String, kind: String, note: String, actor: String }

    let id: String
    let village: String
    let category: String
    let status: String
    let openedAt: String
    let description: String
    let currentRung: String
    /// The worst facts so far, in words (已发生暴力, 有自伤风险, ...); empty when none.
    let facts: [String]
    let hasFacts: Bool
    /// The newest report's source and time.
    let latestReport: String
    let parties: [Party]
    let revealed: Bool
    let canReveal: Bool
    let rungs: [RungRow]
    let summons: [SummonsRow]
    let agreement: String
    let hasAgreement: Bool
    let returnVisit: String
    let hasReturnVisit: Bool
    let timeline: [Line]
    let reports: [ReportRow]
    /// The "更早" links' addresses, empty on the last page; `paged` when a list is not on its newest page.
    let olderReports: String
    let olderTimeline: String
    let hasOlderReports: Bool
    let hasOlderTimeline: Bool
    let reportsPaged: Bool
    let timelinePaged: Bool
    let csrf: String

    /// Which page of each growing list to show: the tokens the "更早" links carry, empty for the newest.
    struct Position: Sendable {
        var reports = ""
        var timeline = ""
    }

    static func load(
        id: String, reveal: Bool, at position: Position = Position(), for principal: Principal, csrf: String, now: Date, client: DashboardClient
    ) async throws -> CasePage {
        async let reportPage = client.call(DisputeServiceMethods.listCaseReports, .with {
            $0.caseID = id; $0.pageSize = Int32(reportsPerPage); $0.pageToken = position.reports
        })
        let file = try await client.call(DisputeServiceMethods.getCase, .with { $0.caseID = id; $0.revealParties = reveal })
        let reports = try await reportPage
        var timeline = (entries: file.timeline, next: file.timelineNextPageToken)
        if !position.timeline.isEmpty {
            let page = try await client.call(DisputeServiceMethods.listCaseTimeline, .with {
                $0.caseID = id; $0.pageSize = timelinePerPage; $0.pageToken = position.timeline
            })
            timeline = (page.entries, page.nextPageToken)
        }
        let village = (try? await client.call(DivisionServiceMethods.getDivision, .with { $0.code = file.case.villageCode }).division.name) ?? file.case.villageCode
        return CasePage(
            id: file.case.id, village: village, category: Labels.category(file.case.category), status: Labels.caseStatus(file.case.status),
            openedAt: Labels.time(file.case.openedAt), description: file.case.description_p, currentRung: Labels.rung(file.case.currentRung),
            facts: Labels.facts(of: file.case), hasFacts: !Labels.facts(of: file.case).isEmpty,
            latestReport: "\(Labels.source(file.case.latestSource)) · \(Labels.time(file.case.latestReportedAt))",
            parties: file.case.parties.map { Party(name: $0.name, phone: $0.phone, hasPhone: !$0.phone.isEmpty) }, revealed: reveal,
            canReveal: principal.has(.mediator) && !reveal,
            rungs: file.rungs.map { attempt in
                let due = Date(wireTimestamp: attempt.deadline.dueAt)
                let open = attempt.endedAt.isEmpty
                return RungRow(
                    rung: Labels.rung(attempt.rung), lead: attempt.lead, startedAt: Labels.time(attempt.startedAt),
                    dueAt: Labels.deadline(attempt.deadline.dueAt), endedAt: Labels.time(attempt.endedAt), open: open,
                    overdue: open && due.map { $0 < now } == true
                )
            },
            summons: file.summons.map { summons in
                SummonsRow(department: summons.departmentName, reportBy: Labels.deadline(summons.reportDeadline.dueAt),
                           reportedAt: Labels.time(summons.reportedAt), reported: !summons.reportedAt.isEmpty,
                           feedback: summons.feedback, hasFeedback: !summons.feedback.isEmpty)
            },
            agreement: file.hasAgreement ? "\(file.agreement.signedOn) 签订：\(file.agreement.terms)" : "", hasAgreement: file.hasAgreement,
            returnVisit: file.hasReturnVisit
                ? (file.returnVisit.visitedAt.isEmpty ? "回访期限 \(Labels.deadline(file.returnVisit.deadline.dueAt))" : "已于 \(Labels.time(file.returnVisit.visitedAt)) 回访：\(file.returnVisit.note)")
                : "",
            hasReturnVisit: file.hasReturnVisit,
            timeline: timeline.entries.map { Line(at: Labels.time($0.at), kind: $0.kind, note: $0.note, actor: $0.actor) },
            reports: reports.reports.map { report in
                let facts = Labels.facts(of: report)
                return ReportRow(source: Labels.source(report.source), reportedAt: Labels.time(report.reportedAt), description: report.description_p,
                                 facts: facts, hasFacts: !facts.isEmpty, opened: report.openedCase, backfilled: report.backfilled)
            },
            olderReports: link(case: file.case.id, "reports", reports.nextPageToken),
            olderTimeline: link(case: file.case.id, "timeline", timeline.next),
            hasOlderReports: !reports.nextPageToken.isEmpty, hasOlderTimeline: !timeline.next.isEmpty,
            reportsPaged: !position.reports.isEmpty, timelinePaged: !position.timeline.isEmpty,
            csrf: csrf
        )
    }

    /// The page's own address showing the `list` page that starts at `token`; empty without a token.
    static func link(case id: String, _ list: String, _ token: String) -> String {
        guard !token.isEmpty else { return "" }
        // Tokens are base64: `+`, `/` and `=` are escaped so the query reads back the same.
        let query = token.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
        let path = id.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(["-"])) ?? ""
        return "/ui/cases/\(path)?\(list)=\(query)#\(list)"
    }
}
