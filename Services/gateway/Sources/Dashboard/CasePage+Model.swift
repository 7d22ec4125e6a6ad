import Foundation
import PinganAccess
import PinganContracts

/// A case as a mediator reads it: what happened, the rungs climbed with their deadlines,
/// departments summoned, the agreement, the return visit and the timeline. Parties are
/// masked unless the mediator asked to see them, a read the service records.
struct CasePage {
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
    let csrf: String

    static func load(id: String, reveal: Bool, for principal: Principal, csrf: String, now: Date, client: DashboardClient) async throws -> CasePage {
        let file = try await client.call(DisputeServiceMethods.getCase, .with { $0.caseID = id; $0.revealParties = reveal })
        let village = (try? await client.call(DivisionServiceMethods.getDivision, .with { $0.code = file.case.villageCode }).division.name) ?? file.case.villageCode
        return CasePage(
            id: file.case.id, village: village, category: Labels.category(file.case.category), status: Labels.caseStatus(file.case.status),
            openedAt: Labels.time(file.case.openedAt), description: file.case.description_p, currentRung: Labels.rung(file.case.currentRung),
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
            timeline: file.timeline.map { Line(at: Labels.time($0.at), kind: $0.kind, note: $0.note, actor: $0.actor) },
            csrf: csrf
        )
    }
}
