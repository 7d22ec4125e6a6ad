import Crypto
import Foundation
import PinganContracts
import PinganDomain
import PinganPostgres
import PinganRuntime

/// Imports the cases of the system a deployment replaces (docs/importing.md, "`cases`"): each
/// with the report that opened it, the rungs it climbed, its summons, agreement and return
/// visits, written as dispute-service writes them live (deadlines counted on the official
/// calendar from each step's real start), keeping their own times and marked as imported.
///
/// A batch is checked whole first; one refused line and none of it is applied. Otherwise its
/// new cases (a case whose `legacy_id` is stored already is left as it is) are loaded with
/// `COPY` into each table and committed together. Imported cases are not sent to risk-service:
/// history raises no warnings; an open one is scored at its next step.
///
/// A step that was past its deadline when imported is marked as notified, so the overdue scan
/// does not push years of history as new news; it still counts where the month's facts read it.
struct CaseImporter: Sendable {
    static let defaultBatchSize = 1000

    let pool: PostgresPool
    let calendar: WorkdayCalendar
    let deadlines: StepDeadlines
    let batchSize: Int
    let now: @Sendable () -> Date

    func run(_ lines: ImportLines, by importer: String, refused: @Sendable (ImportRefusal) -> Void = { _ in }) async throws -> ImportSummary {
        let importedAt = now()
        return try await ImportBatches.run(
            lines, by: importer, batchSize: batchSize, refused: refused,
            parse: { text, line in
                switch CaseRecord.parse(text, line: line) {
                case .refused(let refusals): return .refused(refusals)
                case .record(let record):
                    var checks = CaseChecks(line: line, now: importedAt)
                    guard let checked = checks.check(record) else { return .refused(checks.refusals) }
                    return .record(checked)
                }
            },
            apply: { batch, refused in try await apply(batch, refused: refused, by: "import:\(importer)", at: importedAt) }
        )
    }

    /// Writes the batch's new cases; refused with `refused` (its lines that did not parse or
    /// check) and any two lines sharing a legacy id.
    func apply(_ batch: [ImportedCase], refused: [ImportRefusal], by importer: String, at importedAt: Date) async throws -> ImportBatches.Outcome {
        let found = refused + ImportBatches.repeats(batch, key: \.legacyID, line: \.line, field: "legacy_id", what: "the same legacy_id")
        guard found.isEmpty else { return .refused(found) }
        return .applied(try await pool.transaction { transaction in
            // One import at a time: two runs of the same file would both find a case missing.
            let read = try await transaction.pipeline([
                ("SELECT pg_advisory_xact_lock(hashtext('dispute-import'))", []),
                ("SELECT legacy_id FROM dispute.cases WHERE legacy_id = ANY($1)", [batch.map(\.legacyID)]),
            ])
            let present = Set(try read[1].map { try $0.decode(String.self, at: 0) })
            let fresh = batch.filter { !present.contains($0.legacyID) }
            guard !fresh.isEmpty else { return 0 }
            let departments = try await departmentIDs(Set(fresh.flatMap { $0.summons.map(\.department) }), transaction, at: importedAt)
            var rows = ImportRows()
            for imported in fresh {
                rows.add(imported, departments: departments, calendar: calendar, deadlines: deadlines, by: importer, at: importedAt)
            }
            try await rows.copy(into: transaction)
            return fresh.count
        })
    }

    /// The departments the batch's summons name, registered the first time one is met (by its
    /// legacy id, or as the department of the same name at the same centre), by legacy id.
    func departmentIDs(_ wanted: Set<ImportedCase.Department>, _ transaction: PostgresConnection, at importedAt: Date) async throws -> [String: UUID] {
        var ids: [String: UUID] = [:]
        for department in wanted.sorted(by: { $0.legacyID < $1.legacyID }) where ids[department.legacyID] == nil {
            let key = "legacy-" + SHA256.hash(data: Data(department.legacyID.utf8)).prefix(12).map { String(format: "%02x", $0) }.joined()
            try await transaction.query(
                """
                INSERT INTO dispute.departments (id, centre_code, name, api_key_name, created_at, legacy_id)
                VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING
                """,
                [UUID.random(), department.centre.rawValue, department.name, key, importedAt, department.legacyID]
            )
            guard let found = try await transaction.query(
                "SELECT id FROM dispute.departments WHERE legacy_id = $1 OR (centre_code = $2 AND name = $3) ORDER BY legacy_id = $1 DESC LIMIT 1",
                [department.legacyID, department.centre.rawValue, department.name]
            ).first else { throw CaseStoreError.unreadable("departments.legacy_id", department.legacyID) }
            ids[department.legacyID] = try found.decode(UUID.self, at: 0)
        }
        return ids
    }
}

/// The rows of a batch, table by table, as `COPY` loads them.
struct ImportRows {
    var cases: [[any PostgresEncodable]] = []
    var reports: [[any PostgresEncodable]] = []
    var attempts: [[any PostgresEncodable]] = []
    var agreements: [[any PostgresEncodable]] = []
    var visits: [[any PostgresEncodable]] = []
    var summons: [[any PostgresEncodable]] = []
    var timeline: [[any PostgresEncodable]] = []

    mutating func add(_ imported: ImportedCase, departments: [String: UUID], calendar: WorkdayCalendar, deadlines: StepDeadlines, by importer: String, at importedAt: Date) {
        // Named by its legacy id, so another service's import can name the case by it alone.
        let id = ImportedCase.id(legacyID: imported.legacyID)
        let township = imported.village.owningCentre
        var entries: [(at: Date, kind: String, note: String)] = [
            (imported.reportedAt, "opened", "opened from a \(imported.source) report; imported from the old system as \(imported.legacyID)"),
        ]
        func overdue(_ due: Date, done: Date?) -> Date? { done == nil && due < importedAt ? importedAt : nil }

        var attemptIDs: [UUID] = []
        for rung in imported.rungs {
            let attempt = UUID.random()
            attemptIDs.append(attempt)
            let due = calendar.deadline(after: rung.startedAt, workingDays: deadlines.days(for: rung.rung))
            let centre = rung.rung.owningLevel == .village ? imported.village : township
            attempts.append([attempt, id, rung.rung.rawValue, rung.kind.rawValue, "（导入）", [String](), [String](), centre.rawValue, importer,
                             rung.startedAt, due.dueAt, due.beyondCalendar, rung.outcome?.rawValue, rung.outcome.map { _ in "" },
                             rung.endedAt, rung.endedAt.map { _ in importer }, importedAt, rung.endedAt.map { _ in importedAt },
                             overdue(due.dueAt, done: rung.endedAt)])
            entries.append((rung.startedAt, "rung_started", "\(rung.rung.chineseTitle) started"))
            if let ended = rung.endedAt, let outcome = rung.outcome { entries.append((ended, "rung_ended", "\(rung.rung.chineseTitle) ended: \(outcome.rawValue)")) }
        }
        var settledAt: Date?
        if let agreement = imported.agreement, let settling = imported.settlingRung, let signedAt = imported.rungs[settling].endedAt {
            let agreementID = UUID.random()
            settledAt = signedAt
            agreements.append([agreementID, id, attemptIDs[settling], agreement.terms, agreement.signedOn.description, imported.parties.map(\.name), signedAt])
            entries.append((signedAt, "agreement_signed", "agreement signed on \(agreement.signedOn)"))
            let due = calendar.deadline(after: signedAt, workingDays: deadlines.returnVisit)
            for visit in imported.visits {
                visits.append([UUID.random(), id, agreementID, due.dueAt, due.beyondCalendar, visit.outcome.rawValue, visit.note, visit.visitedAt,
                               importer, signedAt, importedAt, nil as Date?])
                entries.append((visit.visitedAt, "return_visit", "return visit: \(visit.outcome.rawValue)"))
            }
            if imported.status == .settled, imported.visits.isEmpty {
                visits.append([UUID.random(), id, agreementID, due.dueAt, due.beyondCalendar, nil as String?, nil as String?, nil as Date?,
                               nil as String?, signedAt, nil as Date?, overdue(due.dueAt, done: nil)])
            }
        }
        for summoned in imported.summons {
            let report = calendar.deadline(after: summoned.summonedAt, workingDays: deadlines.summonsReport)
            let feedback = calendar.deadline(after: summoned.summonedAt, workingDays: deadlines.summonsFeedback)
            let summoner = summoned.rung.owningLevel == .village ? imported.village : township
            summons.append([UUID.random(), id, departments[summoned.department.legacyID], summoner.rawValue, report.dueAt, report.beyondCalendar,
                            feedback.dueAt, feedback.beyondCalendar, summoned.reportedAt, summoned.feedback, summoned.fedBackAt,
                            overdue(report.dueAt, done: summoned.reportedAt), overdue(feedback.dueAt, done: summoned.fedBackAt), summoned.summonedAt])
            entries.append((summoned.summonedAt, "summoned", "\(summoned.department.name) summoned"))
            if let reported = summoned.reportedAt { entries.append((reported, "summons_reported", "\(summoned.department.name) reported")) }
            if let fedBack = summoned.fedBackAt { entries.append((fedBack, "summons_feedback", "\(summoned.department.name) fed back")) }
        }
        if imported.status == .resolved, let closed = imported.closedAt { entries.append((closed, "resolved", imported.resolution ?? "")) }

        let json = String(decoding: (try? JSONEncoder().encode(imported.parties)) ?? Data("[]".utf8), as: UTF8.self)
        cases.append([
            id, imported.village.rawValue, imported.category.rawValue, imported.source.rawValue, imported.status.rawValue, imported.description,
            PostgresJSON(json), imported.facts.threatOfViolence, imported.facts.threatOfSelfHarm, imported.facts.repeatIncident,
            imported.facts.priorPoliceCalls, imported.reportedAt, imported.status == .resolved ? imported.closedAt : nil, imported.resolution,
            township.rawValue, Party.names(imported.parties), imported.facts.minorsInvolved, imported.rungs.last?.rung.rawValue,
            imported.status == .settled || imported.status == .closed ? settledAt : nil, imported.status == .closed ? imported.closedAt : nil,
            imported.legacyID, importer, importedAt,
        ])
        reports.append([UUID.random(), id, imported.source.rawValue, imported.reportedAt, imported.description, imported.facts.threatOfViolence,
                        imported.facts.threatOfSelfHarm, false, imported.facts.minorsInvolved, imported.facts.priorPoliceCalls, true, importer])
        // In time order, so the timeline's ids (its order) follow the case's history.
        for entry in entries.sorted(by: { $0.at < $1.at }) { timeline.append([id, entry.at, entry.kind, entry.note, importer]) }
    }

    func copy(into transaction: PostgresConnection) async throws {
        try await transaction.copy(into: "dispute.cases", columns: [
            "id", "village_code", "category", "source", "status", "description", "parties", "threat_of_violence", "threat_of_self_harm",
            "repeat_incident", "prior_police_calls", "opened_at", "resolved_at", "outcome", "coordinator_code", "party_names", "minors_involved",
            "current_rung", "settled_at", "closed_at", "legacy_id", "imported_by", "imported_at",
        ], rows: cases)
        try await transaction.copy(into: "dispute.case_reports", columns: [
            "id", "case_id", "source", "reported_at", "description", "threat_of_violence", "threat_of_self_harm", "violence_occurred",
            "minors_involved", "prior_police_calls", "opened_case", "reported_by",
        ], rows: reports)
        try await transaction.copy(into: "dispute.rung_attempts", columns: [
            "id", "case_id", "rung", "kind", "lead", "participants", "bodies", "centre_code", "started_by", "started_at", "due_at",
            "beyond_calendar", "outcome", "outcome_note", "ended_at", "ended_by", "start_entered_at", "end_entered_at", "overdue_notified_at",
        ], rows: attempts)
        try await transaction.copy(into: "dispute.agreements", columns: [
            "id", "case_id", "attempt_id", "terms", "signed_on", "signatories", "created_at",
        ], rows: agreements)
        try await transaction.copy(into: "dispute.return_visits", columns: [
            "id", "case_id", "agreement_id", "due_at", "beyond_calendar", "outcome", "note", "visited_at", "visited_by", "created_at",
            "entered_at", "overdue_notified_at",
        ], rows: visits)
        try await transaction.copy(into: "dispute.summons", columns: [
            "id", "case_id", "department_id", "summoned_by", "report_due", "report_beyond_calendar", "feedback_due", "feedback_beyond_calendar",
            "reported_at", "feedback", "fed_back_at", "report_overdue_notified_at", "feedback_overdue_notified_at", "created_at",
        ], rows: summons)
        try await transaction.copy(into: "dispute.timeline", columns: ["case_id", "at", "kind", "note", "actor"], rows: timeline)
    }
}
