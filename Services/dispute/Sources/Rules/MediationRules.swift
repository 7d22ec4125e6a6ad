import Foundation
import PinganAccess
import PinganContracts
import PinganDomain

/// The rules of mediation as the seed's centres follow them, decided on a loaded
/// ``CaseFile``: pure, so every rule is tested without a database.
struct MediationRules: Sendable {
    let calendar: WorkdayCalendar
    let deadlines: StepDeadlines
    /// How far back a step may be recorded (补录).
    var backdating = Backdating()

    // MARK: The ladder

    /// Starts an attempt at `rung`. The first attempt is at the finder's rung; after a
    /// failed rung the next one opens; after an eased one (or a settlement the return visit
    /// found unsettled) the same rung is tried again. Climbing past the next rung needs a
    /// recorded reason from a centre at the level that owns the rung started.
    ///
    /// `startedAt` is when the attempt really began, for one written up later (补录); nil is
    /// `now`. Its deadline counts from then, and it may not precede the step before it.
    func startRung(
        _ file: CaseFile, rung: LadderRung, kind: MediationKind, lead: String, participants: [String], bodies: [String],
        skipReason: String?, startedAt: Date? = nil, by principal: Principal, now: Date
    ) throws(MediationRefusal) -> [CaseChange] {
        try requireActive(file)
        try CaseAction.mediate.require(by: principal.centre, on: file.record)
        guard principal.centre.level <= rung.owningLevel else { throw .levelTooLow(rung) }
        if let open = file.openAttempt { throw .rungStillOpen(open.rung) }
        let start = try stamp(startedAt, "started_at", now: now, notBefore: Self.lastStep(before: file))
        let next: LadderRung
        switch file.attempts.last {
        case nil: next = .finder
        case let last? where !Self.hasFailed(last.rung, in: file):
            // Eased once, or a settlement the return visit found unsettled: the same rung again.
            next = last.rung
        case let last?:
            // After the township leaders' rung failed there is no rung left: the case goes up a level.
            guard let above = last.rung.next else { throw .ladderExhausted }
            next = above
        }
        var skipped: [LadderRung] = []
        if rung < next { throw .outOfOrder(requested: rung, next: next) }
        if rung > next {
            guard let reason = skipReason, !reason.isEmpty else {
                throw .skipNeedsReason(requested: rung, next: next, eased: Self.easedAttempts(at: next, in: file))
            }
            skipped = LadderRung.allCases.filter { $0 >= next && $0 < rung }
        }
        let attempt = RungAttempt(
            id: UUID.random(), rung: rung, kind: kind, lead: lead, participants: participants, bodies: bodies,
            centre: principal.centre, startedBy: principal.subject, startedAt: start.at, startEnteredAt: start.enteredAt,
            deadline: calendar.deadline(after: start.at, workingDays: deadlines.days(for: rung))
        )
        var note = "rung \(rung.rawValue), \(rung.title): led by \(lead)"
        if !skipped.isEmpty { note += "; skipped rung(s) \(skipped.map { String($0.rawValue) }.joined(separator: ", ")): \(skipReason ?? "")" }
        note += start.timelineNote
        return [
            .attemptStarted(attempt, skipped: skipped, reason: skipped.isEmpty ? nil : skipReason),
            .timeline(kind: "rung_started", note: note, actor: principal.subject),
        ]
    }

    /// Ends the open attempt. A settlement needs the signed agreement; it settles the case
    /// and makes the return visit due. A failed rung is news for risk.
    ///
    /// `endedAt` is when the attempt really ended, for one written up later (补录); nil is
    /// `now`. It may not precede the attempt's start; the return visit is due counted from it.
    func endRung(
        _ file: CaseFile, attempt id: UUID, outcome: RungOutcome, note: String, agreement: Agreement?,
        endedAt: Date? = nil, by principal: Principal, now: Date
    ) throws(MediationRefusal) -> [CaseChange] {
        try requireActive(file)
        try CaseAction.mediate.require(by: principal.centre, on: file.record)
        guard let open = file.openAttempt, open.id == id else { throw .noOpenAttempt }
        guard principal.centre.level <= open.rung.owningLevel else { throw .levelTooLow(open.rung) }
        let end = try stamp(endedAt, "ended_at", now: now, notBefore: Backdating.Bound(at: open.startedAt, what: "the attempt's start"))
        var changes: [CaseChange] = [
            .attemptEnded(id: id, outcome: outcome, note: note, at: end.at, by: principal.subject),
            .timeline(kind: "rung_ended", note: "rung \(open.rung.rawValue) \(outcome.rawValue): \(note)\(end.timelineNote)", actor: principal.subject),
        ]
        switch outcome {
        case .settled:
            guard let agreement else { throw .settlementNeedsAgreement }
            let visit = ReturnVisit(id: UUID.random(), deadline: calendar.deadline(after: end.at, workingDays: deadlines.returnVisit))
            changes += [
                .agreementSigned(agreement, attempt: id),
                .status(.settled, at: end.at),
                .returnVisitDue(visit),
                .timeline(kind: "agreement_signed", note: "signed on \(agreement.signedOn) by \(agreement.signatories.joined(separator: "、")): \(agreement.terms)", actor: principal.subject),
            ]
        case .eased, .failed:
            guard agreement == nil else { throw .agreementOnlyForSettlement }
            if outcome == .failed { changes.append(.tellRisk) }
        }
        return changes
    }

    /// Records the return visit: it closes the case, or reopens it at the rung that settled it.
    ///
    /// `visitedAt` is when the visit really took place, for one written up later (补录); nil
    /// is `now`. It may not precede the settlement.
    func recordReturnVisit(
        _ file: CaseFile, outcome: ReturnVisitOutcome, note: String, visitedAt: Date? = nil, by principal: Principal, now: Date
    ) throws(MediationRefusal) -> [CaseChange] {
        guard file.record.status == .settled, let visit = file.returnVisit, visit.outcome == nil else { throw .noReturnVisitDue }
        try CaseAction.recordReturnVisit.require(by: principal.centre, on: file.record)
        let settlement = file.attempts.last { $0.outcome == .settled }?.endedAt.map { Backdating.Bound(at: $0, what: "the settlement") }
        let visited = try stamp(visitedAt, "visited_at", now: now, notBefore: settlement)
        var changes: [CaseChange] = [
            .returnVisitDone(id: visit.id, outcome: outcome, note: note, at: visited.at, by: principal.subject),
            .timeline(kind: "return_visit", note: "\(outcome.rawValue): \(note)\(visited.timelineNote)", actor: principal.subject),
        ]
        switch outcome {
        case .confirmed:
            changes.append(.status(.closed, at: visited.at))
        case .unsettled:
            changes += [.status(.open, at: visited.at), .tellRisk]
        }
        return changes
    }

    // MARK: Summons

    /// Blows the whistle: each department must report and then feed back by its deadline.
    func summon(_ file: CaseFile, departments: [Department], by principal: Principal, now: Date) throws(MediationRefusal) -> [CaseChange] {
        try requireActive(file)
        try CaseAction.summon.require(by: principal.centre, on: file.record)
        let already = Set(file.summons.filter { $0.fedBackAt == nil }.map(\.department.id))
        if let twice = departments.first(where: { already.contains($0.id) }) { throw .alreadySummoned(twice.name) }
        let report = calendar.deadline(after: now, workingDays: deadlines.summonsReport)
        let feedback = calendar.deadline(after: now, workingDays: deadlines.summonsFeedback)
        let summons = departments.map {
            Summons(id: UUID.random(), department: $0, summonedBy: principal.centre, reportDeadline: report, feedbackDeadline: feedback)
        }
        let names = departments.map(\.name).joined(separator: "、")
        return [
            .summoned(summons),
            .timeline(kind: "summoned", note: "summoned \(names): report by \(ChinaTime.minute(report.dueAt)), feed back by \(ChinaTime.minute(feedback.dueAt))", actor: principal.subject),
            .notice(type: "case.summoned", centre: principal.centre, summary: "summoned \(names)",
                    text: "中心吹哨：召集\(names)到案，\(ChinaTime.minute(report.dueAt))前报到，\(ChinaTime.minute(feedback.dueAt))前反馈", due: report.dueAt),
        ]
    }

    /// The summoned department reports (报到); reporting again changes nothing.
    func report(_ file: CaseFile, summons id: UUID, by principal: Principal, now: Date) throws(MediationRefusal) -> [CaseChange] {
        guard let summons = file.summons.first(where: { $0.id == id && $0.department.subject == principal.subject }) else { throw .notSummoned }
        guard summons.reportedAt == nil else { return [] }
        return [
            .summonsReported(id: id, at: now),
            .timeline(kind: "summons_reported", note: "\(summons.department.name) reported\(now > summons.reportDeadline.dueAt ? " late" : "")", actor: principal.subject),
        ]
    }

    /// The summoned department feeds back on what it did; only after it reported.
    func feedBack(_ file: CaseFile, summons id: UUID, feedback: String, by principal: Principal, now: Date) throws(MediationRefusal) -> [CaseChange] {
        guard let summons = file.summons.first(where: { $0.id == id && $0.department.subject == principal.subject }) else { throw .notSummoned }
        guard summons.reportedAt != nil else { throw .feedbackBeforeReport }
        return [
            .summonsFedBack(id: id, feedback: feedback, at: now),
            .timeline(kind: "summons_feedback", note: "\(summons.department.name)\(now > summons.feedbackDeadline.dueAt ? " (late)" : ""): \(feedback)", actor: principal.subject),
        ]
    }

    // MARK: Levels

    /// The coordinating centre asks the level above to coordinate (township → county → city).
    func escalate(_ file: CaseFile, reason: String, by principal: Principal) throws(MediationRefusal) -> [CaseChange] {
        try requireActive(file)
        try CaseAction.escalate.require(by: principal.centre, on: file.record)
        guard let above = file.record.coordinator.parent else { throw .noLevelAbove }
        return [
            .coordinator(above),
            .timeline(kind: "escalated", note: "\(file.record.coordinator) asked \(above) to coordinate: \(reason)", actor: principal.subject),
            .notice(type: "case.escalated", centre: above, summary: "\(file.record.coordinator) asks for support: \(reason)",
                    text: "下级中心提请上级中心协调此案（原协调中心 \(file.record.coordinator)）", due: nil),
        ]
    }

    /// A centre below the coordinating centre asks it to escalate: recorded on the timeline
    /// and pushed to the coordinator, which decides. Nothing else changes.
    func requestEscalation(_ file: CaseFile, reason: String, by principal: Principal) throws(MediationRefusal) -> [CaseChange] {
        try requireActive(file)
        try CaseAction.requestEscalation.require(by: principal.centre, on: file.record)
        let coordinator = file.record.coordinator
        guard coordinator.parent != nil else { throw .noLevelAbove }
        return [
            .timeline(kind: "escalation_requested", note: "\(principal.centre) asked \(coordinator) to escalate: \(reason)", actor: principal.subject),
            .notice(type: "case.escalation_requested", centre: coordinator, summary: "\(principal.centre) asks to escalate: \(reason)",
                    text: "下级中心 \(principal.centre) 请求将此案提请上级中心协调，请协调中心决定", due: nil),
        ]
    }

    /// The coordinating level hands the case back one level down, towards the village.
    func handBack(_ file: CaseFile, note: String, by principal: Principal) throws(MediationRefusal) -> [CaseChange] {
        let home = file.record.village.owningCentre
        let coordinator = file.record.coordinator
        guard coordinator != home else { throw .notEscalated }
        try CaseAction.handBack.require(by: principal.centre, on: file.record)
        let below = home.selfAndAncestors.first { $0.parent == coordinator } ?? home
        return [
            .coordinator(below),
            .timeline(kind: "handed_back", note: "\(coordinator) handed the case back to \(below): \(note)", actor: principal.subject),
        ]
    }

    /// Records that the case is handled as a major dispute (1350工作法).
    func markMajor(_ file: CaseFile, _ major: MajorDispute, by principal: Principal) throws(MediationRefusal) -> [CaseChange] {
        try CaseAction.markMajor.require(by: principal.centre, on: file.record)
        guard Set(major.departments).count >= MajorDispute.minimumDepartments else {
            throw .majorTooSmall(field: "departments", minimum: MajorDispute.minimumDepartments)
        }
        guard major.residentRepresentatives >= MajorDispute.minimumRepresentatives else {
            throw .majorTooSmall(field: "resident_representatives", minimum: MajorDispute.minimumRepresentatives)
        }
        return [
            .major(major),
            .timeline(kind: "major_dispute", note: "handled as a major dispute with \(major.departments.joined(separator: "、")) and \(major.residentRepresentatives) resident representatives", actor: principal.subject),
        ]
    }

    /// Corrects the category; risk is told, since its model depends on it.
    func reclassify(_ file: CaseFile, to category: Pingan_Grid_V1_IncidentCategory, reason: String, by principal: Principal) throws(MediationRefusal) -> [CaseChange] {
        try CaseAction.reclassify.require(by: principal.centre, on: file.record)
        guard category != file.record.category else { return [] }
        return [
            .reclassified(category),
            .timeline(kind: "reclassified", note: "category \(file.record.category) → \(category): \(reason)", actor: principal.subject),
            .tellRisk,
        ]
    }

    /// Whether `rung` has failed: its latest attempt ended failed, or it eased tension
    /// ``LadderRung/easedAttemptsToFail`` times without a settlement.
    static func hasFailed(_ rung: LadderRung, in file: CaseFile) -> Bool {
        guard let latest = file.attempts.last(where: { $0.rung == rung }) else { return false }
        if latest.outcome == .failed { return true }
        return latest.outcome == .eased && easedAttempts(at: rung, in: file) >= LadderRung.easedAttemptsToFail
    }

    /// The attempts at `rung` that eased tension since it last settled.
    static func easedAttempts(at rung: LadderRung, in file: CaseFile) -> Int {
        let atRung = file.attempts.filter { $0.rung == rung }
        let sinceSettled = atRung.lastIndex(where: { $0.outcome == .settled }).map { atRung[($0 + 1)...] } ?? atRung[...]
        return sinceSettled.filter { $0.outcome == .eased }.count
    }

    /// The step a new attempt follows, which it may not start before: the case's opening, the
    /// previous attempt's end, or the return visit (or new incident) that reopened the case.
    static func lastStep(before file: CaseFile) -> Backdating.Bound {
        var last = Backdating.Bound(at: file.record.openedAt, what: "the case was opened")
        if let ended = file.attempts.last?.endedAt, ended > last.at {
            last = Backdating.Bound(at: ended, what: "the previous attempt's end")
        }
        if let visit = file.returnVisit, visit.outcome == .unsettled, let visited = visit.visitedAt, visited > last.at {
            last = Backdating.Bound(at: visited, what: "the return visit that reopened the case")
        }
        return last
    }

    /// A step's real time, refused as the request's `field` when ``Backdating`` refuses it.
    private func stamp(_ given: Date?, _ field: String, now: Date, notBefore: Backdating.Bound?) throws(MediationRefusal) -> Backdating.Stamp {
        do {
            return try backdating.stamp(given, field: field, now: now, notBefore: notBefore)
        } catch {
            throw .backdated(error)
        }
    }

    private func requireActive(_ file: CaseFile) throws(MediationRefusal) {
        guard file.record.status == .open else { throw .notActive(file.record.status) }
    }

}
