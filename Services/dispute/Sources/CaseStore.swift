import Foundation
import PinganAccess
import PinganContracts
import PinganDomain
import PinganOutbox
import PinganPostgres

/// Filters of a case listing.
struct CaseFilter: Sendable {
    var rung: LadderRung?
    var overdueOnly = false
    var department: UUID?
}

/// Where cases, their mediation, departments, the calendar and the audit of personal-data
/// reads live.
protocol CaseStore: Sendable {
    /// Opens the case for a grid incident once, or joins the same parties' case; a
    /// redelivered event returns the case the first delivery opened or joined.
    func open(_ newCase: NewCase, applying event: EventDelivery, now: Date) async throws -> DisputeCase
    /// Reads ahead, for a batch of incidents about to be opened in this order, the cases of
    /// the same parties each will look for, as far as no earlier incident of the batch can
    /// change what a later one finds.
    func readAhead(_ incidents: [(event: UUID, newCase: NewCase)], in batch: EventBatch, now: Date) async throws
    /// Opens a case a person or department system reported, once per `requestID`, or joins
    /// the same parties' case.
    func intake(_ newCase: NewCase, requestID: UUID, subject: String, now: Date) async throws -> (case: DisputeCase, joined: Bool)
    func find(_ id: UUID) async throws -> DisputeCase?
    func file(_ id: UUID) async throws -> CaseFile?
    /// Loads the case locked, lets `decide` rule on it and applies what it decided, all in one
    /// transaction; `nil` when there is no such case.
    func update(_ id: UUID, now: Date, _ decide: (CaseFile) throws -> [CaseChange]) async throws -> CaseFile?
    /// The case a summons belongs to.
    func caseOfSummons(_ id: UUID) async throws -> UUID?
    /// The case file and the case's timeline, read in one round trip, for showing the whole case.
    func fileWithTimeline(_ id: UUID) async throws -> (file: CaseFile, timeline: [TimelineEntry])?
    /// Records that `principal` saw the case's personal data, and why that was allowed.
    func auditPersonalDataRead(case id: UUID, by principal: Principal, rule: String) async throws
    /// Cases under `root`, newest first, after `cursor`, each with its own cursor.
    func list(under root: DivisionCode, filter: CaseFilter, now: Date, after cursor: PageCursor?, limit: Int) async throws -> [(case: DisputeCase, cursor: PageCursor)]
    /// Resolves an open case with `outcome`; a resolved one is returned unchanged.
    func resolve(_ id: UUID, outcome: String, actor: String) async throws -> DisputeCase?
    /// What mediation did per village under `root` during `month`, for the governance index.
    func facts(under root: DivisionCode, in month: Month) async throws -> [String: MediationFacts]
    /// Registers a department; ``CaseStoreError/duplicateDepartment`` when the name or key is taken.
    func registerDepartment(centre: DivisionCode, name: String, apiKeyName: String) async throws -> Department
    func departments(_ ids: [UUID]) async throws -> [Department]
    func department(subject: String) async throws -> Department?
    func calendar() async throws -> WorkdayCalendar
    /// Loads official calendar rows; returns the years they cover.
    func loadCalendar(_ rows: [WorkdayCalendar.Exception]) async throws -> Set<Int>
    /// Marks steps whose deadline passed by `now`, appends them to their timelines and
    /// queues a notice for each; returns how many it marked.
    func scanOverdue(now: Date, limit: Int) async throws -> Int
    /// Cases opened under `root` during `month`, for export.
    func export(under root: DivisionCode, in month: Month, now: Date) async throws -> [(case: DisputeCase, overdue: Bool)]
}

/// Why the store refused a change or found its data inconsistent.
enum CaseStoreError: Error, CustomStringConvertible {
    case vanished(UUID)
    case duplicateDepartment

    var description: String {
        switch self {
        case .vanished(let id): "case \(id.wire) vanished inside its transaction"
        case .duplicateDepartment: "a department with that name or API key is registered already"
        }
    }
}

/// Everything in schema `dispute`.
struct PostgresCaseStore: CaseStore {
    static let columns = """
        c.id, c.incident_id, c.village_code, c.category, c.source, c.status, c.description, c.parties,
        c.threat_of_violence, c.threat_of_self_harm, c.repeat_incident, c.prior_police_calls, c.opened_at,
        c.coordinator_code, c.violence_occurred, c.incidents, c.major_departments, c.resident_representatives, c.current_rung
        """

    let pool: PostgresPool
    let outbox: Outbox
    var inbox: EventInbox { EventInbox(pool: pool, outbox: outbox) }

    // MARK: Opening

    func open(_ newCase: NewCase, applying event: EventDelivery, now: Date) async throws -> DisputeCase {
        try await inbox.apply(event, reading: [Self.casesOfTheSameParties(newCase, now: now)]) { change in
            if change.firstDelivery { return try await openOrJoin(change.transaction, newCase, now: now, candidates: change.read[0]).case }
            guard let incident = newCase.incidentID,
                  let found = try await change.transaction.query(
                      "SELECT \(Self.columns) FROM dispute.cases c JOIN dispute.case_incidents i ON i.case_id = c.id WHERE i.incident_id = $1",
                      [incident]
                  ).first
            else { throw CaseStoreError.vanished(newCase.incidentID ?? UUID.random()) }
            return try Self.decodeCase(found)
        }
    }

    func readAhead(_ incidents: [(event: UUID, newCase: NewCase)], in batch: EventBatch, now: Date) async throws {
        // An incident's finding can change only through an earlier one of the batch that
        // opens a case in its village naming one of its parties, or that joins (or could
        // join) one of the cases it finds; read ahead stops before the first such incident.
        var found: Set<UUID> = []
        var named: [(village: DivisionCode, names: Set<String>)] = []
        try await inbox.readAhead(incidents.map { ($0.event, [Self.casesOfTheSameParties($0.newCase, now: now)]) }, in: batch) { index, rows in
            let newCase = incidents[index].newCase
            let cases = Set(try rows[0].map { try $0.decode(UUID.self, at: 0) })
            let names = Set(newCase.partyNames)
            guard found.isDisjoint(with: cases),
                  !named.contains(where: { $0.village == newCase.village && !$0.names.isDisjoint(with: names) })
            else { return false }
            found.formUnion(cases)
            named.append((newCase.village, names))
            return true
        }
    }

    func intake(_ newCase: NewCase, requestID: UUID, subject: String, now: Date) async throws -> (case: DisputeCase, joined: Bool) {
        try await outbox.transaction(pool) { transaction in
            let read = try await transaction.pipeline([
                ("INSERT INTO dispute.intake_requests (request_id, subject) VALUES ($1, $2) ON CONFLICT DO NOTHING", [requestID, subject]),
                Self.casesOfTheSameParties(newCase, now: now),
            ])
            if read[0].affectedRows != 1 {
                guard let row = try await transaction.query(
                    "SELECT \(Self.columns), r.joined FROM dispute.intake_requests r JOIN dispute.cases c ON c.id = r.case_id WHERE r.request_id = $1",
                    [requestID]
                ).first else { throw CaseStoreError.vanished(requestID) }
                return (try Self.decodeCase(row), try row.decode(Bool.self, at: 19))
            }
            let opened = try await openOrJoin(transaction, newCase, now: now, candidates: read[1])
            try await transaction.queue(
                "UPDATE dispute.intake_requests SET case_id = $2, joined = $3 WHERE request_id = $1", [requestID, opened.case.id, opened.joined]
            )
            return opened
        }
    }

    /// The village's cases that share a party with `newCase` and may still take a new
    /// incident, locked, newest first.
    static func casesOfTheSameParties(_ newCase: NewCase, now: Date) -> (sql: String, parameters: [any PostgresEncodable]) {
        // Found by name first, through the GIN index, then each by its key: under a steady
        // flow of reports the statistics lag behind the table, and plans that trusted them
        // walked the village's cases (newest first, or by status to join against the names).
        // The names reach the plan through a sub-select, so no plan can see them: PostgreSQL
        // estimates a plan for given names as one for any names and keeps that one, instead
        // of planning each lookup (0.4–0.7 ms of planning for a 0.05 ms lookup). The plan's
        // shape is the one written here either way.
        (
            """
            WITH named AS MATERIALIZED (SELECT id FROM dispute.cases WHERE party_names && (SELECT $2::text[]))
            SELECT c.* FROM named, LATERAL (
                SELECT \(Self.columns), c.party_names FROM dispute.cases c
                WHERE c.id = named.id AND c.village_code = $1
                  AND (c.status IN ('open', 'settled') OR (c.status = 'closed' AND c.closed_at > $3))
                FOR UPDATE
            ) c
            ORDER BY c.opened_at DESC
            """,
            [newCase.village.rawValue, newCase.partyNames, now.addingTimeInterval(-SameParties.reopenWithin)]
        )
    }

    /// A new incident between parties who already have a case in the village joins it (and
    /// reopens it when it was settled recently); otherwise a case opens.
    ///
    /// - Parameter candidates: ``casesOfTheSameParties(_:now:)``'s rows, read by the caller in
    ///   the round trip that records the request or event.
    private func openOrJoin(
        _ transaction: PostgresConnection, _ newCase: NewCase, now: Date, candidates: PostgresRows
    ) async throws -> (case: DisputeCase, joined: Bool) {
        let names = newCase.partyNames
        for row in candidates where SameParties.match(names, try row.decode([String].self, at: 19)) {
            var existing = try Self.decodeCase(row)
            let reopened = existing.status != .open
            existing.facts = existing.facts.joining(newCase.facts)
            existing.incidents += 1
            existing.status = .open
            try await transaction.queue(
                """
                UPDATE dispute.cases SET threat_of_violence = $2, threat_of_self_harm = $3, repeat_incident = true,
                    prior_police_calls = $4, violence_occurred = $5, incidents = incidents + 1, status = 'open', closed_at = NULL
                WHERE id = $1
                """,
                [existing.id, existing.facts.threatOfViolence, existing.facts.threatOfSelfHarm, existing.facts.priorPoliceCalls, existing.facts.violenceOccurred]
            )
            if reopened {
                try await transaction.queue(
                    """
                    UPDATE dispute.return_visits SET outcome = 'unsettled', note = 'a new incident between the same parties',
                        visited_at = $2, visited_by = 'dispute-service'
                    WHERE case_id = $1 AND visited_at IS NULL
                    """,
                    [existing.id, now]
                )
            }
            if let incident = newCase.incidentID {
                try await transaction.queue("INSERT INTO dispute.case_incidents (incident_id, case_id) VALUES ($1, $2) ON CONFLICT DO NOTHING", [incident, existing.id])
            }
            let source = newCase.incidentID.map { "incident \($0.wire)" } ?? "a \(newCase.source) report"
            try await appendTimeline(transaction, case: existing.id, kind: reopened ? "reopened" : "incident_joined",
                                     note: "\(source) between the same parties: \(newCase.description)", actor: "dispute-service", at: now)
            let facts = try await Self.loadFile(transaction, existing.id, lock: false)?.assessment(now: now) ?? existing.assessment
            try await outbox.enqueue(transaction, topic: CaseEvents.changed, facts)
            return (existing, true)
        }
        let json = String(decoding: try JSONEncoder().encode(newCase.parties), as: UTF8.self)
        // The case as the row will hold it (the table's defaults: open, one incident, no rung
        // yet), so the insert need not read it back and travels with the next statement.
        let opened = DisputeCase(
            id: UUID.random(), incidentID: newCase.incidentID, village: newCase.village, category: newCase.category, source: newCase.source,
            status: .open, description: newCase.description, parties: newCase.parties, facts: newCase.facts,
            openedAt: now.atPostgresPrecision, coordinator: newCase.village.owningCentre, major: nil, incidents: 1
        )
        try await transaction.queue(
            """
            INSERT INTO dispute.cases (id, incident_id, village_code, category, source, description, parties,
                threat_of_violence, threat_of_self_harm, repeat_incident, prior_police_calls, opened_at,
                coordinator_code, violence_occurred, party_names)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
            """,
            [opened.id, opened.incidentID, opened.village.rawValue, opened.category.rawValue, opened.source.rawValue,
             opened.description, PostgresJSON(json), opened.facts.threatOfViolence, opened.facts.threatOfSelfHarm,
             opened.facts.repeatIncident, opened.facts.priorPoliceCalls, opened.openedAt, opened.coordinator.rawValue,
             opened.facts.violenceOccurred, names]
        )
        if let incident = newCase.incidentID {
            try await transaction.queue("INSERT INTO dispute.case_incidents (incident_id, case_id) VALUES ($1, $2)", [incident, opened.id])
        }
        let note = newCase.incidentID.map { "opened from incident \($0.wire)" } ?? "opened from a \(newCase.source) report"
        try await appendTimeline(transaction, case: opened.id, kind: "opened", note: note,
                                 actor: newCase.incidentID == nil ? "intake" : "grid-service", at: now)
        try await outbox.enqueue(transaction, topic: CaseEvents.opened, opened.assessment)
        return (opened, false)
    }

    // MARK: Reading and changing a case

    func find(_ id: UUID) async throws -> DisputeCase? {
        try await pool.query("SELECT \(Self.columns) FROM dispute.cases c WHERE c.id = $1", [id]).first.map(Self.decodeCase)
    }

    func file(_ id: UUID) async throws -> CaseFile? {
        try await pool.withConnection { try await Self.loadFile($0, id, lock: false) }
    }

    func update(_ id: UUID, now: Date, _ decide: (CaseFile) throws -> [CaseChange]) async throws -> CaseFile? {
        try await outbox.transaction(pool) { transaction in
            guard let file = try await Self.loadFile(transaction, id, lock: true) else { return nil }
            let changes = try decide(file)
            var agreementID: UUID?
            var tellRisk = false
            for change in changes {
                switch change {
                case let .attemptStarted(attempt, skipped, reason):
                    try await transaction.query(
                        """
                        INSERT INTO dispute.rung_attempts (id, case_id, rung, kind, lead, participants, bodies, centre_code,
                            started_by, started_at, due_at, beyond_calendar)
                        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
                        """,
                        [attempt.id, id, attempt.rung.rawValue, attempt.kind.rawValue, attempt.lead, attempt.participants, attempt.bodies,
                         attempt.centre.rawValue, attempt.startedBy, attempt.startedAt, attempt.deadline.dueAt, attempt.deadline.beyondCalendar]
                    )
                    try await transaction.query("UPDATE dispute.cases SET current_rung = $2 WHERE id = $1", [id, attempt.rung.rawValue])
                    for rung in skipped {
                        try await transaction.query(
                            "INSERT INTO dispute.rung_skips (case_id, rung, reason, by, at) VALUES ($1, $2, $3, $4, $5)",
                            [id, rung.rawValue, reason ?? "", attempt.startedBy, now]
                        )
                    }
                case let .attemptEnded(attempt, outcome, note, at):
                    try await transaction.query(
                        "UPDATE dispute.rung_attempts SET outcome = $2, outcome_note = $3, ended_at = $4 WHERE id = $1",
                        [attempt, outcome.rawValue, note, at]
                    )
                case let .agreementSigned(agreement, attempt):
                    agreementID = agreement.id
                    try await transaction.query(
                        """
                        INSERT INTO dispute.agreements (id, case_id, attempt_id, terms, signed_on, signatories, created_at)
                        VALUES ($1, $2, $3, $4, $5::date, $6, $7)
                        """,
                        [agreement.id, id, attempt, agreement.terms, agreement.signedOn.description, agreement.signatories, now]
                    )
                case let .returnVisitDue(visit):
                    try await transaction.query(
                        """
                        INSERT INTO dispute.return_visits (id, case_id, agreement_id, due_at, beyond_calendar, created_at)
                        VALUES ($1, $2, $3, $4, $5, $6)
                        """,
                        [visit.id, id, agreementID ?? file.agreement?.id, visit.deadline.dueAt, visit.deadline.beyondCalendar, now]
                    )
                case let .returnVisitDone(visit, outcome, note, at, by):
                    try await transaction.query(
                        "UPDATE dispute.return_visits SET outcome = $2, note = $3, visited_at = $4, visited_by = $5 WHERE id = $1",
                        [visit, outcome.rawValue, note, at, by]
                    )
                case let .status(status):
                    // Risk re-scores open cases as time passes; it must know when one stops being open.
                    tellRisk = true
                    try await transaction.query(
                        """
                        UPDATE dispute.cases SET status = $2,
                            settled_at = CASE WHEN $2 = 'settled' THEN $3::timestamptz ELSE settled_at END,
                            closed_at = CASE WHEN $2 = 'closed' THEN $3::timestamptz ELSE NULL END
                        WHERE id = $1
                        """,
                        [id, status.rawValue, now]
                    )
                case let .summoned(summons):
                    for one in summons {
                        try await transaction.query(
                            """
                            INSERT INTO dispute.summons (id, case_id, department_id, summoned_by, report_due, report_beyond_calendar,
                                feedback_due, feedback_beyond_calendar, created_at)
                            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                            """,
                            [one.id, id, one.department.id, one.summonedBy.rawValue, one.reportDeadline.dueAt, one.reportDeadline.beyondCalendar,
                             one.feedbackDeadline.dueAt, one.feedbackDeadline.beyondCalendar, now]
                        )
                    }
                case let .summonsReported(summons, at):
                    try await transaction.query("UPDATE dispute.summons SET reported_at = $2 WHERE id = $1 AND reported_at IS NULL", [summons, at])
                case let .summonsFedBack(summons, feedback, at):
                    try await transaction.query("UPDATE dispute.summons SET feedback = $2, fed_back_at = $3 WHERE id = $1", [summons, feedback, at])
                case let .coordinator(centre):
                    try await transaction.query("UPDATE dispute.cases SET coordinator_code = $2 WHERE id = $1", [id, centre.rawValue])
                case let .major(major):
                    try await transaction.query(
                        "UPDATE dispute.cases SET major_departments = $2, resident_representatives = $3 WHERE id = $1",
                        [id, major.departments, major.residentRepresentatives]
                    )
                case let .reclassified(category):
                    try await transaction.query("UPDATE dispute.cases SET category = $2 WHERE id = $1", [id, category.rawValue])
                case let .timeline(kind, note, actor):
                    try await appendTimeline(transaction, case: id, kind: kind, note: note, actor: actor, at: now)
                case let .notice(type, centre, summary, due):
                    try await outbox.enqueue(transaction, topic: CaseEvents.notice, file.record.notice(type: type, centre: centre, summary: summary, due: due))
                case .tellRisk:
                    tellRisk = true
                }
            }
            guard let updated = try await Self.loadFile(transaction, id, lock: false) else { throw CaseStoreError.vanished(id) }
            if tellRisk { try await outbox.enqueue(transaction, topic: CaseEvents.changed, updated.assessment(now: now)) }
            return updated
        }
    }

    func caseOfSummons(_ id: UUID) async throws -> UUID? {
        try await pool.query("SELECT case_id FROM dispute.summons WHERE id = $1", [id]).first?.decode(UUID.self, at: 0)
    }

    func fileWithTimeline(_ id: UUID) async throws -> (file: CaseFile, timeline: [TimelineEntry])? {
        try await pool.withConnection { connection in
            let reads = try await connection.pipeline(
                Self.fileReads(id, lock: false) + [("SELECT at, kind, note, actor FROM dispute.timeline WHERE case_id = $1 ORDER BY id", [id])]
            )
            guard let file = try Self.decodeFile(Array(reads.dropLast())) else { return nil }
            let timeline = try reads[reads.count - 1].map { row in
                TimelineEntry(at: try row.decode(Date.self, at: 0), kind: try row.decode(String.self, at: 1),
                              note: try row.decode(String.self, at: 2), actor: try row.decode(String.self, at: 3))
            }
            return (file, timeline)
        }
    }

    func auditPersonalDataRead(case id: UUID, by principal: Principal, rule: String) async throws {
        try await pool.query(
            "INSERT INTO dispute.personal_data_reads (subject, centre, case_id, rule) VALUES ($1, $2, $3, $4)",
            [principal.subject, principal.centre.rawValue, id, rule]
        )
    }

    /// Pages by `(opened_at, id)` at the database's microsecond precision, so no case is skipped.
    func list(under root: DivisionCode, filter: CaseFilter, now: Date, after cursor: PageCursor?, limit: Int) async throws -> [(case: DisputeCase, cursor: PageCursor)] {
        let rows = try await pool.query(
            """
            SELECT \(Self.columns) FROM dispute.cases c
            WHERE c.village_code BETWEEN $1 AND $2 AND ($3::timestamptz IS NULL OR (c.opened_at, c.id) < ($3, $4))
              AND ($6::integer IS NULL OR c.current_rung = $6)
              AND ($7::uuid IS NULL OR EXISTS (SELECT 1 FROM dispute.summons s WHERE s.case_id = c.id AND s.department_id = $7))
              AND (NOT $8 OR \(Self.overdue("$9")))
            ORDER BY c.opened_at DESC, c.id DESC LIMIT $5
            """,
            [root.rawValue, root.lastInSubtree, cursor?.time, cursor?.id, limit, filter.rung?.rawValue, filter.department, filter.overdueOnly, now]
        )
        return try rows.map { row in
            let found = try Self.decodeCase(row)
            return (found, PageCursor(time: found.openedAt, id: found.id))
        }
    }

    /// The SQL condition "case `c` has a step past its deadline at `now`".
    static func overdue(_ now: String) -> String {
        """
        (EXISTS (SELECT 1 FROM dispute.rung_attempts a WHERE a.case_id = c.id AND a.ended_at IS NULL AND a.due_at <= \(now))
         OR EXISTS (SELECT 1 FROM dispute.summons s WHERE s.case_id = c.id
                    AND ((s.reported_at IS NULL AND s.report_due <= \(now)) OR (s.fed_back_at IS NULL AND s.feedback_due <= \(now))))
         OR EXISTS (SELECT 1 FROM dispute.return_visits v WHERE v.case_id = c.id AND v.visited_at IS NULL AND v.due_at <= \(now)))
        """
    }

    func resolve(_ id: UUID, outcome: String, actor: String) async throws -> DisputeCase? {
        try await pool.transaction { transaction in
            let updated = try await transaction.query(
                "UPDATE dispute.cases SET status = 'resolved', resolved_at = clock_timestamp(), outcome = $2 WHERE id = $1 AND status = 'open'",
                [id, outcome]
            )
            if updated.affectedRows == 1 {
                try await appendTimeline(transaction, case: id, kind: "resolved", note: outcome, actor: actor, at: Date())
            }
            return try await transaction.query("SELECT \(Self.columns) FROM dispute.cases c WHERE c.id = $1", [id]).first.map(Self.decodeCase)
        }
    }

    func facts(under root: DivisionCode, in month: Month) async throws -> [String: MediationFacts] {
        let (start, end) = month.range
        let window: [any PostgresEncodable] = [root.rawValue, root.lastInSubtree, start, end]
        var facts: [String: MediationFacts] = [:]
        try await pool.withConnection { connection in
            for row in try await connection.query(
                """
                SELECT village_code,
                       count(*) FILTER (WHERE opened_at >= $3 AND opened_at < $4),
                       count(*) FILTER (WHERE resolved_at >= $3 AND resolved_at < $4),
                       count(*) FILTER (WHERE opened_at >= $3 AND opened_at < $4 AND violence_occurred)
                FROM dispute.cases
                WHERE village_code BETWEEN $1 AND $2 AND opened_at < $4 AND (resolved_at IS NULL OR resolved_at >= $3 OR opened_at >= $3)
                GROUP BY village_code
                """, window
            ) {
                facts[try row.decode(String.self, at: 0), default: .init()].opened = try row.decode(Int.self, at: 1)
                facts[try row.decode(String.self, at: 0), default: .init()].resolved = try row.decode(Int.self, at: 2)
                facts[try row.decode(String.self, at: 0), default: .init()].violentCases = try row.decode(Int.self, at: 3)
            }
            for row in try await connection.query(
                """
                SELECT c.village_code, count(*), count(*) FILTER (WHERE a.outcome = 'settled'), count(*) FILTER (WHERE a.ended_at <= a.due_at)
                FROM dispute.rung_attempts a JOIN dispute.cases c ON c.id = a.case_id
                WHERE c.village_code BETWEEN $1 AND $2 AND a.ended_at >= $3 AND a.ended_at < $4
                GROUP BY c.village_code
                """, window
            ) {
                let village = try row.decode(String.self, at: 0)
                facts[village, default: .init()].rungsEnded = try row.decode(Int.self, at: 1)
                facts[village, default: .init()].rungsSettled = try row.decode(Int.self, at: 2)
                facts[village, default: .init()].rungsOnTime = try row.decode(Int.self, at: 3)
            }
            for row in try await connection.query(
                """
                SELECT c.village_code,
                       count(*) FILTER (WHERE s.fed_back_at >= $3 AND s.fed_back_at < $4),
                       count(*) FILTER (WHERE (s.reported_at >= $3 AND s.reported_at < $4 AND s.reported_at > s.report_due)
                                          OR (s.fed_back_at >= $3 AND s.fed_back_at < $4 AND s.fed_back_at > s.feedback_due))
                FROM dispute.summons s JOIN dispute.cases c ON c.id = s.case_id
                WHERE c.village_code BETWEEN $1 AND $2
                  AND ((s.reported_at >= $3 AND s.reported_at < $4) OR (s.fed_back_at >= $3 AND s.fed_back_at < $4))
                GROUP BY c.village_code
                """, window
            ) {
                let village = try row.decode(String.self, at: 0)
                facts[village, default: .init()].summonsAnswered = try row.decode(Int.self, at: 1)
                facts[village, default: .init()].summonsLate = try row.decode(Int.self, at: 2)
            }
            for row in try await connection.query(
                """
                SELECT c.village_code, count(*), count(*) FILTER (WHERE v.outcome = 'confirmed')
                FROM dispute.return_visits v JOIN dispute.cases c ON c.id = v.case_id
                WHERE c.village_code BETWEEN $1 AND $2 AND v.visited_at >= $3 AND v.visited_at < $4 AND v.visited_by <> 'dispute-service'
                GROUP BY c.village_code
                """, window
            ) {
                let village = try row.decode(String.self, at: 0)
                facts[village, default: .init()].returnVisitsDone = try row.decode(Int.self, at: 1)
                facts[village, default: .init()].returnVisitsConfirmed = try row.decode(Int.self, at: 2)
            }
            for row in try await connection.query(
                """
                SELECT c.village_code, count(*) FILTER (WHERE t.kind = 'overdue'), count(*) FILTER (WHERE t.kind IN ('incident_joined', 'reopened')),
                       count(*) FILTER (WHERE t.kind = 'reopened')
                FROM dispute.timeline t JOIN dispute.cases c ON c.id = t.case_id
                WHERE c.village_code BETWEEN $1 AND $2 AND t.at >= $3 AND t.at < $4 AND t.kind IN ('overdue', 'incident_joined', 'reopened')
                GROUP BY c.village_code
                """, window
            ) {
                let village = try row.decode(String.self, at: 0)
                facts[village, default: .init()].overdueSteps = try row.decode(Int.self, at: 1)
                facts[village, default: .init()].repeatIncidents = try row.decode(Int.self, at: 2)
                facts[village, default: .init()].reopenedAfterSettlement = try row.decode(Int.self, at: 3)
            }
        }
        return facts
    }

    // MARK: Departments

    func registerDepartment(centre: DivisionCode, name: String, apiKeyName: String) async throws -> Department {
        let department = Department(id: UUID.random(), centre: centre, name: name, apiKeyName: apiKeyName)
        do {
            try await pool.query(
                "INSERT INTO dispute.departments (id, centre_code, name, api_key_name) VALUES ($1, $2, $3, $4)",
                [department.id, centre.rawValue, name, apiKeyName]
            )
        } catch let error as PostgresError where error.isUniqueViolation {
            throw CaseStoreError.duplicateDepartment
        }
        return department
    }

    func departments(_ ids: [UUID]) async throws -> [Department] {
        try await pool.query(
            "SELECT id, centre_code, name, api_key_name FROM dispute.departments WHERE id = ANY($1::uuid[])", [ids.map(\.wire)]
        ).map(Self.decodeDepartment)
    }

    func department(subject: String) async throws -> Department? {
        guard subject.hasPrefix("apikey:") else { return nil }
        return try await pool.query(
            "SELECT id, centre_code, name, api_key_name FROM dispute.departments WHERE api_key_name = $1", [String(subject.dropFirst(7))]
        ).first.map(Self.decodeDepartment)
    }

    // MARK: Calendar

    func calendar() async throws -> WorkdayCalendar {
        try await pool.withConnection { connection in
            let days = try await connection.query("SELECT day::text, kind, name FROM dispute.calendar_days").compactMap { row -> WorkdayCalendar.Exception? in
                guard let day = CalendarDay(parsing: try row.decode(String.self, at: 0)),
                      let kind = WorkdayCalendar.Kind(rawValue: try row.decode(String.self, at: 1)) else { return nil }
                return WorkdayCalendar.Exception(day: day, kind: kind, name: try row.decode(String.self, at: 2))
            }
            let years = try await connection.query("SELECT year FROM dispute.calendar_years").map { try $0.decode(Int.self, at: 0) }
            return WorkdayCalendar(exceptions: days, years: Set(years))
        }
    }

    func loadCalendar(_ rows: [WorkdayCalendar.Exception]) async throws -> Set<Int> {
        let years = Set(rows.map(\.day.year))
        try await pool.transaction { transaction in
            // A year's notice replaces what was loaded for that year.
            for year in years {
                try await transaction.query(
                    "DELETE FROM dispute.calendar_days WHERE day >= make_date($1::integer, 1, 1) AND day < make_date($1::integer + 1, 1, 1)", [year]
                )
                try await transaction.query("INSERT INTO dispute.calendar_years (year) VALUES ($1) ON CONFLICT (year) DO UPDATE SET loaded_at = clock_timestamp()", [year])
            }
            for row in rows {
                try await transaction.query(
                    "INSERT INTO dispute.calendar_days (day, kind, name) VALUES ($1::date, $2, $3)", [row.day.description, row.kind.rawValue, row.name]
                )
            }
        }
        return years
    }

    // MARK: Overdue

    func scanOverdue(now: Date, limit: Int) async throws -> Int {
        try await outbox.transaction(pool) { transaction in
            var marked: [(caseID: UUID, village: String, coordinator: String, summary: String, due: Date)] = []
            for step in OverdueStep.allCases {
                let rows = try await transaction.query(step.sql, [now, limit])
                for row in rows {
                    marked.append((try row.decode(UUID.self, at: 0), try row.decode(String.self, at: 1), try row.decode(String.self, at: 2),
                                   step.summary(try row.decode(String.self, at: 3)), try row.decode(Date.self, at: 4)))
                }
            }
            for step in marked {
                guard let village = try? DivisionCode(validating: step.village), let coordinator = try? DivisionCode(validating: step.coordinator) else { continue }
                try await appendTimeline(transaction, case: step.caseID, kind: "overdue", note: step.summary, actor: "dispute-service", at: now)
                var notice = Pingan_Notify_V1_DeliverNoticeRequest()
                notice.type = "case.overdue"
                notice.caseID = step.caseID.wire
                notice.centreCode = coordinator.rawValue
                notice.villageCode = village.rawValue
                notice.summary = step.summary
                notice.dueAt = step.due.wireTimestamp
                try await outbox.enqueue(transaction, topic: CaseEvents.notice, notice)
            }
            return marked.count
        }
    }

    func export(under root: DivisionCode, in month: Month, now: Date) async throws -> [(case: DisputeCase, overdue: Bool)] {
        let (start, end) = month.range
        return try await pool.query(
            """
            SELECT \(Self.columns), \(Self.overdue("$5")) FROM dispute.cases c
            WHERE c.village_code BETWEEN $1 AND $2 AND c.opened_at >= $3 AND c.opened_at < $4
            ORDER BY c.opened_at, c.id
            """,
            [root.rawValue, root.lastInSubtree, start, end, now]
        ).map { row in
            (try Self.decodeCase(row), try row.decode(Bool.self, at: 19))
        }
    }

    // MARK: Rows

    private func appendTimeline(_ transaction: PostgresConnection, case id: UUID, kind: String, note: String, actor: String, at: Date) async throws {
        try await transaction.queue(
            "INSERT INTO dispute.timeline (case_id, at, kind, note, actor) VALUES ($1, $2, $3, $4, $5)", [id, at, kind, note, actor]
        )
    }

    /// The case and everything under it, read in one round trip (a pipeline of five reads).
    static func loadFile(_ connection: PostgresConnection, _ id: UUID, lock: Bool) async throws -> CaseFile? {
        try decodeFile(try await connection.pipeline(fileReads(id, lock: lock)))
    }

    /// The five reads of a case file, in the order ``decodeFile(_:)`` takes their rows.
    static func fileReads(_ id: UUID, lock: Bool) -> [(sql: String, parameters: [any PostgresEncodable])] {
        [
            ("SELECT \(columns) FROM dispute.cases c WHERE c.id = $1\(lock ? " FOR UPDATE" : "")", [id]),
            (
                """
                SELECT id, rung, kind, lead, participants, bodies, centre_code, started_by, started_at, due_at, beyond_calendar,
                       outcome, outcome_note, ended_at
                FROM dispute.rung_attempts WHERE case_id = $1 ORDER BY seq
                """,
                [id]
            ),
            ("SELECT id, terms, signed_on::text, signatories FROM dispute.agreements WHERE case_id = $1 ORDER BY seq DESC LIMIT 1", [id]),
            (
                """
                SELECT id, due_at, beyond_calendar, outcome, note, visited_at, visited_by
                FROM dispute.return_visits WHERE case_id = $1 ORDER BY seq DESC LIMIT 1
                """,
                [id]
            ),
            (
                """
                SELECT s.id, d.id, d.centre_code, d.name, d.api_key_name, s.summoned_by, s.report_due, s.report_beyond_calendar,
                       s.feedback_due, s.feedback_beyond_calendar, s.reported_at, s.feedback, s.fed_back_at
                FROM dispute.summons s JOIN dispute.departments d ON d.id = s.department_id
                WHERE s.case_id = $1 ORDER BY s.created_at, d.name
                """,
                [id]
            ),
        ]
    }

    static func decodeFile(_ reads: [PostgresRows]) throws -> CaseFile? {
        guard let row = reads[0].first else { return nil }
        let record = try decodeCase(row)
        let attempts = try reads[1].map { row in
            RungAttempt(
                id: try row.decode(UUID.self, at: 0), rung: LadderRung(rawValue: try row.decode(Int.self, at: 1)) ?? .finder,
                kind: MediationKind(rawValue: try row.decode(String.self, at: 2)) ?? .other, lead: try row.decode(String.self, at: 3),
                participants: try row.decode([String].self, at: 4), bodies: try row.decode([String].self, at: 5),
                centre: try DivisionCode(validating: try row.decode(String.self, at: 6)), startedBy: try row.decode(String.self, at: 7),
                startedAt: try row.decode(Date.self, at: 8),
                deadline: WorkingDeadline(dueAt: try row.decode(Date.self, at: 9), beyondCalendar: try row.decode(Bool.self, at: 10)),
                outcome: try row.decode(String?.self, at: 11).flatMap(RungOutcome.init(rawValue:)),
                outcomeNote: try row.decode(String?.self, at: 12), endedAt: try row.decode(Date?.self, at: 13)
            )
        }
        let agreement = try reads[2].first.map { row in
            Agreement(id: try row.decode(UUID.self, at: 0), terms: try row.decode(String.self, at: 1),
                      signedOn: CalendarDay(parsing: try row.decode(String.self, at: 2)) ?? CalendarDay(year: 1970, month: 1, day: 1),
                      signatories: try row.decode([String].self, at: 3))
        }
        let visit = try reads[3].first.map { row in
            ReturnVisit(
                id: try row.decode(UUID.self, at: 0),
                deadline: WorkingDeadline(dueAt: try row.decode(Date.self, at: 1), beyondCalendar: try row.decode(Bool.self, at: 2)),
                outcome: try row.decode(String?.self, at: 3).flatMap(ReturnVisitOutcome.init(rawValue:)), note: try row.decode(String?.self, at: 4),
                visitedAt: try row.decode(Date?.self, at: 5), visitedBy: try row.decode(String?.self, at: 6)
            )
        }
        let summons = try reads[4].map { row in
            Summons(
                id: try row.decode(UUID.self, at: 0),
                department: Department(id: try row.decode(UUID.self, at: 1), centre: try DivisionCode(validating: try row.decode(String.self, at: 2)),
                                       name: try row.decode(String.self, at: 3), apiKeyName: try row.decode(String.self, at: 4)),
                summonedBy: try DivisionCode(validating: try row.decode(String.self, at: 5)),
                reportDeadline: WorkingDeadline(dueAt: try row.decode(Date.self, at: 6), beyondCalendar: try row.decode(Bool.self, at: 7)),
                feedbackDeadline: WorkingDeadline(dueAt: try row.decode(Date.self, at: 8), beyondCalendar: try row.decode(Bool.self, at: 9)),
                reportedAt: try row.decode(Date?.self, at: 10), feedback: try row.decode(String?.self, at: 11), fedBackAt: try row.decode(Date?.self, at: 12)
            )
        }
        return CaseFile(record: record, attempts: attempts, agreement: agreement, returnVisit: visit, summons: summons)
    }

    static func decodeCase(_ row: PostgresRow) throws -> DisputeCase {
        let departments = try row.decode([String]?.self, at: 16)
        let representatives = try row.decode(Int?.self, at: 17) ?? 0
        return DisputeCase(
            id: try row.decode(UUID.self, at: 0),
            incidentID: try row.decode(UUID?.self, at: 1),
            village: try DivisionCode(validating: try row.decode(String.self, at: 2)),
            category: Pingan_Grid_V1_IncidentCategory(rawValue: try row.decode(Int.self, at: 3)) ?? .other,
            source: Pingan_Dispute_V1_CaseSource(rawValue: try row.decode(Int.self, at: 4)) ?? .unspecified,
            status: DisputeCase.Status(rawValue: try row.decode(String.self, at: 5)) ?? .open,
            description: try row.decode(String.self, at: 6),
            parties: try JSONDecoder().decode([Party].self, from: Data(try row.decode(PostgresJSON.self, at: 7).text.utf8)),
            facts: CaseFacts(
                threatOfViolence: try row.decode(Bool.self, at: 8), threatOfSelfHarm: try row.decode(Bool.self, at: 9),
                repeatIncident: try row.decode(Bool.self, at: 10), priorPoliceCalls: try row.decode(Int.self, at: 11),
                violenceOccurred: try row.decode(Bool.self, at: 14)
            ),
            openedAt: try row.decode(Date.self, at: 12),
            coordinator: try DivisionCode(validating: try row.decode(String.self, at: 13)),
            major: departments.map { MajorDispute(departments: $0, residentRepresentatives: representatives) },
            incidents: try row.decode(Int.self, at: 15),
            currentRung: try row.decode(Int?.self, at: 18).flatMap(LadderRung.init(rawValue:))
        )
    }

    static func decodeDepartment(_ row: PostgresRow) throws -> Department {
        Department(id: try row.decode(UUID.self, at: 0), centre: try DivisionCode(validating: try row.decode(String.self, at: 1)),
                   name: try row.decode(String.self, at: 2), apiKeyName: try row.decode(String.self, at: 3))
    }
}

/// The kinds of step that can run past their deadline, each found and marked by one statement.
enum OverdueStep: CaseIterable {
    case rung, summonsReport, summonsFeedback, returnVisit

    /// Marks up to `$2` steps due by `$1` and returns case id, village, coordinator, what, due.
    var sql: String {
        switch self {
        case .rung:
            Self.mark(table: "dispute.rung_attempts", flag: "overdue_notified_at", due: "due_at", pending: "ended_at IS NULL", what: "'rung ' || t.rung")
        case .summonsReport:
            Self.mark(table: "dispute.summons", flag: "report_overdue_notified_at", due: "report_due", pending: "reported_at IS NULL",
                      what: "(SELECT name FROM dispute.departments d WHERE d.id = t.department_id)")
        case .summonsFeedback:
            Self.mark(table: "dispute.summons", flag: "feedback_overdue_notified_at", due: "feedback_due", pending: "fed_back_at IS NULL",
                      what: "(SELECT name FROM dispute.departments d WHERE d.id = t.department_id)")
        case .returnVisit:
            Self.mark(table: "dispute.return_visits", flag: "overdue_notified_at", due: "due_at", pending: "visited_at IS NULL", what: "'return visit'")
        }
    }

    func summary(_ what: String) -> String {
        switch self {
        case .rung: "\(what) is past its deadline"
        case .summonsReport: "\(what) has not reported to the summons by its deadline"
        case .summonsFeedback: "\(what) has not fed back on the summons by its deadline"
        case .returnVisit: "the return visit is past its deadline"
        }
    }

    private static func mark(table: String, flag: String, due: String, pending: String, what: String) -> String {
        """
        WITH due AS (
            SELECT t.id FROM \(table) t
            WHERE t.\(pending) AND t.\(flag) IS NULL AND t.\(due) <= $1
            ORDER BY t.\(due) LIMIT $2 FOR UPDATE SKIP LOCKED
        )
        UPDATE \(table) t SET \(flag) = $1 FROM due, dispute.cases c
        WHERE t.id = due.id AND c.id = t.case_id
        RETURNING t.case_id, c.village_code, c.coordinator_code, \(what), t.\(due)
        """
    }
}
