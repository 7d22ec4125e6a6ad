import Foundation
import PinganAccess
import PinganConnect
import PinganContracts
import PinganDomain

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
    struct RungRow {
        let rung: String, lead: String, startedAt: String, dueAt: String, endedAt: String, open: Bool, overdue: Bool
        /// The 4+N kind, who took part, and how it ended.
        var kind = "", participants = "", outcome = "", outcomeNote = ""
        /// How the deadline was counted: on the official calendar, or past it, Monday to Friday.
        var calendar = ""
    }
    struct SummonsRow {
        let department: String, reportBy: String, reportedAt: String, reported: Bool, feedback: String, hasFeedback: Bool
        var feedbackBy = "", fedBackAt = "", calendar = ""
    }
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
    /// The centre coordinating the case, by name, and the 1350 record when there is one.
    var coordinator = ""
    var major = ""
    /// For the city's copy of a county's case: whose it is, and that it is read here only.
    var owner = ""
    /// When the parties' data was erased, its term over; empty while it is kept.
    var erased = ""
    /// The steps the signed-in person may take now, as forms (``CaseForms``).
    var forms = CaseForms()
    /// What the form just done did, in words; empty otherwise.
    var notice = ""
    /// The step whose refusal the page shows, when it shows one.
    var refusedForm = ""

    /// Which page of each growing list to show: the tokens the "更早" links carry, empty for the newest.
    struct Position: Sendable {
        var reports = ""
        var timeline = ""
    }

    /// - Parameters:
    ///   - typed: the fields of a form the service just refused, kept in it.
    ///   - refused: that form's step and the service's refusal, said beside the form; a
    ///     refusal the page cannot say (``CaseRefusals``) leaves ``refusedForm`` empty.
    static func load(
        id: String, reveal: Bool, at position: Position = Position(), for principal: Principal, csrf: String, now: Date, client: DashboardClient,
        typed: [String: String] = [:], refused: (step: String, error: ConnectError)? = nil
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
        let names = await placeNames(of: file.case, client: client)
        let departments = await summonable(to: file.case, for: principal, client: client)
        let keys = Dictionary(departments.map { ($0.apiKeyName, $0.name) }, uniquingKeysWith: { first, _ in first })
        func place(_ code: String) -> String { names[code] ?? code }
        let refusal = refused.flatMap { refused in
            CaseRefusals.message(refused.error, place: place).map { CaseForms.Refusal(form: refused.step, message: $0) }
        }
        let village = place(file.case.villageCode)
        var page = CasePage(
            id: file.case.id, village: village, category: Labels.category(file.case.category), status: Labels.caseStatus(file.case.status),
            openedAt: Labels.time(file.case.openedAt), description: file.case.description_p, currentRung: Labels.rung(file.case.currentRung),
            facts: Labels.facts(of: file.case), hasFacts: !Labels.facts(of: file.case).isEmpty,
            latestReport: "\(Labels.source(file.case.latestSource)) · \(Labels.time(file.case.latestReportedAt))",
            parties: file.case.parties.map { Party(name: $0.name, phone: $0.phone, hasPhone: !$0.phone.isEmpty) }, revealed: reveal,
            canReveal: principal.has(.mediator) && !reveal && file.case.personalDataErasedAt.isEmpty,
            rungs: file.rungs.map { attempt in
                let due = Date(wireTimestamp: attempt.deadline.dueAt)
                let open = attempt.endedAt.isEmpty
                var row = RungRow(
                    rung: Labels.rung(attempt.rung), lead: attempt.lead, startedAt: Labels.time(attempt.startedAt),
                    dueAt: Labels.deadline(attempt.deadline.dueAt), endedAt: Labels.time(attempt.endedAt), open: open,
                    overdue: open && due.map { $0 < now } == true
                )
                row.kind = CaseWords.kind(attempt.kind)
                row.participants = (attempt.participants + attempt.bodies).joined(separator: "、")
                row.outcome = CaseWords.outcome(attempt.outcome)
                row.outcomeNote = attempt.outcomeNote
                row.calendar = calendarNote(attempt.deadline)
                return row
            },
            summons: file.summons.map { summons in
                var row = SummonsRow(department: summons.departmentName, reportBy: Labels.deadline(summons.reportDeadline.dueAt),
                                     reportedAt: Labels.time(summons.reportedAt), reported: !summons.reportedAt.isEmpty,
                                     feedback: summons.feedback, hasFeedback: !summons.feedback.isEmpty)
                row.feedbackBy = Labels.deadline(summons.feedbackDeadline.dueAt)
                row.fedBackAt = Labels.time(summons.fedBackAt)
                row.calendar = calendarNote(summons.feedbackDeadline)
                return row
            },
            agreement: file.hasAgreement
                ? "\(file.agreement.signedOn) 由 \(file.agreement.signatories.joined(separator: "、")) 签订：\(file.agreement.terms)" : "",
            hasAgreement: file.hasAgreement,
            returnVisit: file.hasReturnVisit ? returnVisitText(file.returnVisit, departments: keys) : "",
            hasReturnVisit: file.hasReturnVisit,
            timeline: timeline.entries.map { entry in
                Line(at: Labels.time(entry.at), kind: CaseWords.heading(entry.kind), note: CaseWords.note(kind: entry.kind, entry.note, place: place),
                     actor: CaseWords.actor(entry.actor, departments: keys))
            },
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
        page.coordinator = place(file.case.coordinatorCode)
        if file.case.major {
            page.major = "按重大纠纷（1350工作法）办理：参与部门 \(file.case.majorDepartments.joined(separator: "、"))；群众代表 \(file.case.residentRepresentatives) 名"
        }
        if !file.case.federatedFrom.isEmpty {
            let county = place(file.case.federatedFrom)
            page.owner = "本案由\(county)自有平台办理，此处为同步的只读副本；办理请登录\(county)平台。"
        }
        if !file.case.personalDataErasedAt.isEmpty {
            page.erased = "本案已结满保存期限：当事人姓名、电话及各项记述已于 \(Labels.time(file.case.personalDataErasedAt)) 删除，案件的事实、步骤和日期保留。"
        }
        page.forms = CaseForms.offered(on: file, to: principal, departments: departments, typed: typed, refusal: refusal,
                                       today: Day(containing: now).description, place: place)
        page.refusedForm = refusal?.form ?? ""
        return page
    }

    /// The return visit: its deadline while due, then what it found and who went.
    static func returnVisitText(_ visit: Pingan_Dispute_V1_ReturnVisit, departments: [String: String]) -> String {
        guard !visit.visitedAt.isEmpty else { return "回访期限 \(Labels.deadline(visit.deadline.dueAt))（\(calendarNote(visit.deadline))）" }
        let who = visit.visitedBy.isEmpty ? "" : "（\(CaseWords.actor(visit.visitedBy, departments: departments))）"
        return "已于 \(Labels.time(visit.visitedAt)) 回访\(who)：\(CaseWords.returnVisit(visit.outcome))。\(visit.note)"
    }

    /// How a deadline was counted, as the centre should know it: on the official working-day
    /// calendar, or past the last year loaded, where Monday to Friday was assumed.
    static func calendarNote(_ deadline: Pingan_Dispute_V1_Deadline) -> String {
        deadline.beyondCalendar ? "超出已载入的官方日历，按周一至周五估算" : "按法定工作日计算"
    }

    /// Names of the case's village and the centres above it, for the record's notes: the
    /// coordinator is always one of them. A name that cannot be read leaves its code.
    static func placeNames(of record: Pingan_Dispute_V1_Case, client: DashboardClient) async -> [String: String] {
        guard let village = try? DivisionCode(validating: record.villageCode) else { return [:] }
        return await client.divisionNames(village.selfAndAncestors.map(\.rawValue))
    }

    /// The departments the signed-in centre may summon to the case: registered at it or a
    /// centre below, and serving the case's village (registered at the village or above it).
    /// Empty for a person the table gives no ``DisputeServiceMethods/listDepartments``, or
    /// when the list cannot be read: the page still shows, without the summons form.
    static func summonable(to record: Pingan_Dispute_V1_Case, for principal: Principal, client: DashboardClient) async -> [Pingan_Dispute_V1_Department] {
        guard MethodRoles.allows(principal, DisputeServiceMethods.listDepartments.path),
              let village = try? DivisionCode(validating: record.villageCode) else { return [] }
        let listed = try? await client.call(DisputeServiceMethods.listDepartments, .with { $0.centreCode = principal.centre.rawValue; $0.pageSize = 200 })
        return (listed?.departments ?? []).filter { department in
            (try? DivisionCode(validating: department.centreCode)).map { $0.contains(village) } == true
        }
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
