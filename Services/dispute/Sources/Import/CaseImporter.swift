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
/// `COPY` into each table and committed together. Each batch is read and checked while the one
/// before it is written; batches are applied one at a time, in order. Imported cases are not
/// sent to risk-service: history raises no warnings; an open one is scored at its next step.
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
        let by = "import:\(importer)"
        // Each line is parsed, checked and written out as rows while the batch before it is
        // applied, so that applying a batch is the database's work and little else.
        return try await ImportBatches.run(
            lines, by: importer, batchSize: batchSize, refused: refused,
            parse: { text, line in
                switch CaseRecord.parse(text, line: line) {
                case .refused(let refusals): return .refused(refusals)
                case .record(let record):
                    var checks = CaseChecks(line: line, now: importedAt)
                    guard let checked = checks.check(record) else { return .refused(checks.refusals) }
                    return .record(PreparedCase(checked, calendar: calendar, deadlines: deadlines, by: by, at: importedAt))
                }
            },
            apply: { batch, refused in try await apply(batch, refused: refused, at: importedAt) }
        )
    }

    /// Writes the batch's new cases; refused with `refused` (its lines that did not parse or
    /// check) and any two lines sharing a legacy id.
    func apply(_ batch: [PreparedCase], refused: [ImportRefusal], at importedAt: Date) async throws -> ImportBatches.Outcome {
        let found = refused + ImportBatches.repeats(batch, key: \.imported.legacyID, line: \.imported.line, field: "legacy_id", what: "the same legacy_id")
        guard found.isEmpty else { return .refused(found) }
        return try await pool.transaction { transaction in
            // One import at a time: two runs of the same file would both find a case missing.
            let read = try await transaction.pipeline([
                ("SELECT pg_advisory_xact_lock(hashtext('dispute-import'))", []),
                ("SELECT legacy_id FROM dispute.cases WHERE legacy_id = ANY($1)", [batch.map(\.imported.legacyID)]),
                PostgresCaseStore.federatedCounties(of: batch.map(\.imported.village)),
            ])
            let present = Set(try read[1].map { try $0.decode(String.self, at: 0) })
            let fresh = batch.filter { !present.contains($0.imported.legacyID) }
            let owned = try PostgresCaseStore.refusingUnderCounty(read[2], lines: fresh.map { ($0.imported.line, $0.imported.village) })
            guard owned.isEmpty else { return .refused(owned) }
            guard !fresh.isEmpty else { return .applied(0) }
            let departments = try await departmentIDs(Set(fresh.flatMap { $0.imported.summons.map(\.department) }), transaction, at: importedAt)
            var rows = ImportRows()
            for prepared in fresh { try rows.add(prepared, departments: departments) }
            try await rows.copy(into: transaction)
            return .applied(fresh.count)
        }
    }

    /// The departments the batch's summons name, registered the first time one is met (by its
    /// legacy id, or as the department of the same name at the same centre), by legacy id.
    ///
    /// All of a batch's departments in one round trip: registered in the order of their
    /// legacy ids (a department of the same name at the same centre as one before it is not
    /// registered twice), then each read back, by its legacy id before its name.
    func departmentIDs(_ wanted: Set<ImportedCase.Department>, _ transaction: PostgresConnection, at importedAt: Date) async throws -> [String: UUID] {
        var seen = Set<String>()
        let departments = wanted.sorted { ($0.legacyID, $0.centre.rawValue, $0.name) < ($1.legacyID, $1.centre.rawValue, $1.name) }
            .filter { seen.insert($0.legacyID).inserted }
        guard !departments.isEmpty else { return [:] }
        let legacyIDs = departments.map(\.legacyID), centres = departments.map(\.centre.rawValue), names = departments.map(\.name)
        let keys = legacyIDs.map { "legacy-" + SHA256.hash(data: Data($0.utf8)).prefix(12).map { String(format: "%02x", $0) }.joined() }
        let rows = try await transaction.pipeline([
            (sql: """
                INSERT INTO dispute.departments (id, centre_code, name, api_key_name, created_at, legacy_id)
                SELECT d.id, d.centre_code, d.name, d.api_key_name, $5, d.legacy_id
                FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $6::text[]) WITH ORDINALITY
                    AS d(id, centre_code, name, api_key_name, legacy_id, n)
                ORDER BY d.n
                ON CONFLICT DO NOTHING
                """,
             parameters: [departments.map { _ in UUID.random().uuidString }, centres, names, keys, importedAt, legacyIDs]),
            (sql: """
                SELECT w.legacy_id, d.id
                FROM unnest($1::text[], $2::text[], $3::text[]) AS w(legacy_id, centre_code, name)
                CROSS JOIN LATERAL (
                    SELECT id FROM dispute.departments
                    WHERE legacy_id = w.legacy_id OR (centre_code = w.centre_code AND name = w.name)
                    ORDER BY legacy_id = w.legacy_id DESC LIMIT 1
                ) d
                """,
             parameters: [legacyIDs, centres, names]),
        ])
        var ids: [String: UUID] = [:]
        for row in rows[1] { ids[try row.decode(String.self, at: 0)] = try row.decode(UUID.self, at: 1) }
        if let missing = legacyIDs.first(where: { ids[$0] == nil }) { throw CaseStoreError.unreadable("departments.legacy_id", missing) }
        return ids
    }
}

/// The rows of a batch, table by table, in `COPY`'s text format
/// (``PostgresConnection/appendCopyRow(_:to:)``).
struct ImportRows: Sendable {
    var cases: [UInt8] = []
    var reports: [UInt8] = []
    var attempts: [UInt8] = []
    var agreements: [UInt8] = []
    var visits: [UInt8] = []
    var summons: [UInt8] = []
    var timeline: [UInt8] = []

    /// Adds a case's rows, its summons naming `departments` (by legacy id).
    mutating func add(_ prepared: PreparedCase, departments: [String: UUID]) throws {
        cases += prepared.rows.cases
        reports += prepared.rows.reports
        attempts += prepared.rows.attempts
        agreements += prepared.rows.agreements
        visits += prepared.rows.visits
        timeline += prepared.rows.timeline
        for summoned in prepared.summons {
            guard let department = departments[summoned.department] else { throw CaseStoreError.unreadable("departments.legacy_id", summoned.department) }
            summons += summoned.row
            summons += Array(department.uuidString.utf8)
            summons.append(UInt8(ascii: "\n"))
        }
    }

    static let columns: [(table: String, columns: [String])] = [
        ("dispute.cases", [
            "id", "village_code", "category", "source", "status", "description", "parties", "threat_of_violence", "threat_of_self_harm",
            "repeat_incident", "prior_police_calls", "opened_at", "resolved_at", "outcome", "coordinator_code", "party_names", "minors_involved",
            "current_rung", "settled_at", "closed_at", "legacy_id", "imported_by", "imported_at",
        ]),
        ("dispute.case_reports", [
            "id", "case_id", "source", "reported_at", "description", "threat_of_violence", "threat_of_self_harm", "violence_occurred",
            "minors_involved", "prior_police_calls", "opened_case", "reported_by",
        ]),
        ("dispute.rung_attempts", [
            "id", "case_id", "rung", "kind", "lead", "participants", "bodies", "centre_code", "started_by", "started_at", "due_at",
            "beyond_calendar", "outcome", "outcome_note", "ended_at", "ended_by", "start_entered_at", "end_entered_at", "overdue_notified_at",
        ]),
        ("dispute.agreements", ["id", "case_id", "attempt_id", "terms", "signed_on", "signatories", "created_at"]),
        ("dispute.return_visits", [
            "id", "case_id", "agreement_id", "due_at", "beyond_calendar", "outcome", "note", "visited_at", "visited_by", "created_at",
            "entered_at", "overdue_notified_at",
        ]),
        // The department last: it is known only when the batch is applied (``PreparedCase``).
        ("dispute.summons", [
            "id", "case_id", "summoned_by", "report_due", "report_beyond_calendar", "feedback_due", "feedback_beyond_calendar",
            "reported_at", "feedback", "fed_back_at", "report_overdue_notified_at", "feedback_overdue_notified_at", "created_at", "department_id",
        ]),
        ("dispute.timeline", ["case_id", "at", "kind", "note", "actor"]),
    ]

    /// Loads the batch's rows, table by table in the order their keys need; a table with no
    /// rows in this batch costs no round trip.
    func copy(into transaction: PostgresConnection) async throws {
        for (index, data) in [cases, reports, attempts, agreements, visits, summons, timeline].enumerated() where !data.isEmpty {
            try await transaction.copy(into: Self.columns[index].table, columns: Self.columns[index].columns, text: data)
        }
    }
}

/// A case's rows, written out when its line is read (every table but its summons' departments,
/// which the batch registers as it is applied).
struct PreparedCase: Sendable {
    /// A summons row up to its department's id, and the department's legacy id.
    struct Summons: Sendable {
        let department: String
        let row: [UInt8]
    }

    let imported: ImportedCase
    private(set) var rows = ImportRows()
    private(set) var summons: [Summons] = []

    init(_ imported: ImportedCase, calendar: WorkdayCalendar, deadlines: StepDeadlines, by importer: String, at importedAt: Date) {
        self.imported = imported
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
            PostgresConnection.appendCopyRow([
                attempt, id, rung.rung.rawValue, rung.kind.rawValue, "（导入）", [String](), [String](), centre.rawValue, importer,
                rung.startedAt, due.dueAt, due.beyondCalendar, rung.outcome?.rawValue, rung.outcome.map { _ in "" },
                rung.endedAt, rung.endedAt.map { _ in importer }, importedAt, rung.endedAt.map { _ in importedAt },
                overdue(due.dueAt, done: rung.endedAt),
            ], to: &rows.attempts)
            entries.append((rung.startedAt, "rung_started", "\(rung.rung.chineseTitle) started"))
            if let ended = rung.endedAt, let outcome = rung.outcome { entries.append((ended, "rung_ended", "\(rung.rung.chineseTitle) ended: \(outcome.rawValue)")) }
        }
        var settledAt: Date?
        if let agreement = imported.agreement, let settling = imported.settlingRung, let signedAt = imported.rungs[settling].endedAt {
            let agreementID = UUID.random()
            settledAt = signedAt
            PostgresConnection.appendCopyRow([
                agreementID, id, attemptIDs[settling], agreement.terms, agreement.signedOn.description, imported.parties.map(\.name), signedAt,
            ], to: &rows.agreements)
            entries.append((signedAt, "agreement_signed", "agreement signed on \(agreement.signedOn)"))
            let due = calendar.deadline(after: signedAt, workingDays: deadlines.returnVisit)
            for visit in imported.visits {
                PostgresConnection.appendCopyRow([
                    UUID.random(), id, agreementID, due.dueAt, due.beyondCalendar, visit.outcome.rawValue, visit.note, visit.visitedAt,
                    importer, signedAt, importedAt, nil as Date?,
                ], to: &rows.visits)
                entries.append((visit.visitedAt, "return_visit", "return visit: \(visit.outcome.rawValue)"))
            }
            if imported.status == .settled, imported.visits.isEmpty {
                PostgresConnection.appendCopyRow([
                    UUID.random(), id, agreementID, due.dueAt, due.beyondCalendar, nil as String?, nil as String?, nil as Date?,
                    nil as String?, signedAt, nil as Date?, overdue(due.dueAt, done: nil),
                ], to: &rows.visits)
            }
        }
        for summoned in imported.summons {
            let report = calendar.deadline(after: summoned.summonedAt, workingDays: deadlines.summonsReport)
            let feedback = calendar.deadline(after: summoned.summonedAt, workingDays: deadlines.summonsFeedback)
            let summoner = summoned.rung.owningLevel == .village ? imported.village : township
            // Every column but the department's id, which ends the row (ImportRows.add).
            var row: [UInt8] = []
            PostgresConnection.appendCopyRow([
                UUID.random(), id, summoner.rawValue, report.dueAt, report.beyondCalendar,
                feedback.dueAt, feedback.beyondCalendar, summoned.reportedAt, summoned.feedback, summoned.fedBackAt,
                overdue(report.dueAt, done: summoned.reportedAt), overdue(feedback.dueAt, done: summoned.fedBackAt), summoned.summonedAt,
            ], to: &row)
            row[row.count - 1] = UInt8(ascii: "\t")
            summons.append(Summons(department: summoned.department.legacyID, row: row))
            entries.append((summoned.summonedAt, "summoned", "\(summoned.department.name) summoned"))
            if let reported = summoned.reportedAt { entries.append((reported, "summons_reported", "\(summoned.department.name) reported")) }
            if let fedBack = summoned.fedBackAt { entries.append((fedBack, "summons_feedback", "\(summoned.department.name) fed back")) }
        }
        if imported.status == .resolved, let closed = imported.closedAt { entries.append((closed, "resolved", imported.resolution ?? "")) }

        let json = String(decoding: (try? JSONEncoder().encode(imported.parties)) ?? Data("[]".utf8), as: UTF8.self)
        PostgresConnection.appendCopyRow([
                                          id, imported.village.rawValue, imported.category.rawValue, imported.source.rawValue, imported.status.rawValue, imported.description,
                                          PostgresJSON(json), imported.facts.threatOfViolence, imported.facts.threatOfSelfHarm, imported.facts.repeatIncident,
                                          imported.facts.priorPoliceCalls, imported.reportedAt, imported.status == .resolved ? imported.closedAt : nil, imported.resolution,
                                          township.rawValue, Party.names(imported.parties), imported.facts.minorsInvolved, imported.rungs.last?.rung.rawValue,
                                          imported.status == .settled || imported.status == .closed ? settledAt : nil, imported.status == .closed ? imported.closedAt : nil,
                                          imported.legacyID, importer, importedAt,
                                          ], to: &rows.cases)
        PostgresConnection.appendCopyRow([
            UUID.random(), id, imported.source.rawValue, imported.reportedAt, imported.description, imported.facts.threatOfViolence,
            imported.facts.threatOfSelfHarm, false, imported.facts.minorsInvolved, imported.facts.priorPoliceCalls, true, importer,
        ], to: &rows.reports)
        // In time order, so the timeline's ids (its order) follow the case's history.
        for entry in entries.sorted(by: { $0.at < $1.at }) {
            PostgresConnection.appendCopyRow([
                id, entry.at, entry.kind, entry.note, importer,
            ], to: &rows.timeline)
        }
    }
}
