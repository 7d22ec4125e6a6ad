import Foundation
import PinganAccess
import PinganConnect
import PinganContracts
import PinganDomain
import PinganOutbox
import PinganPostgres
import PinganRuntime

/// Filters of a case listing.
struct CaseFilter: Sendable {
    var rung: LadderRung?
    var overdueOnly = false
    var department: UUID?
}

/// Where cases live: opening them (or joining the same parties' case), reading them, and
/// applying what ``MediationRules`` decided.
protocol CaseStore: Sendable {
    /// Opens the case for a grid incident once, or joins the same parties' case, as
    /// ``SameParties`` decides; a redelivered event returns the case the first delivery
    /// opened or joined.
    func open(_ newCase: NewCase, applying event: EventDelivery, now: Date) async throws -> DisputeCase
    /// Reads ahead, for a batch of incidents about to be opened in this order, the cases of
    /// the same parties each will look for, as far as no earlier incident of the batch can
    /// change what a later one finds.
    func readAhead(_ incidents: [(event: UUID, newCase: NewCase)], in batch: EventBatch, now: Date) async throws
    /// Opens a case a person or department system reported, once per `requestID`, or joins
    /// the same parties' case.
    func intake(_ newCase: NewCase, requestID: UUID, subject: String, now: Date) async throws -> (case: DisputeCase, joined: Bool)
    func file(_ id: UUID) async throws -> CaseFile?
    /// The case file and up to `limit` of its timeline entries older than `cursor`, newest
    /// first, each with its cursor, read in one statement. A case may hold thousands of
    /// entries; only the page is read.
    func fileWithTimeline(_ id: UUID, before cursor: TimelineCursor?, limit: Int) async throws -> (file: CaseFile, timeline: [(entry: TimelineEntry, cursor: TimelineCursor)])?
    /// The case file and up to `limit` of the reports that opened or joined it after `cursor`,
    /// newest first, each with its cursor, read in one statement.
    func fileWithReports(_ id: UUID, after cursor: PageCursor?, limit: Int) async throws -> (file: CaseFile, reports: [(report: CaseReport, cursor: PageCursor)])?
    /// Applies `changes`, decided on `file`, in one transaction, and returns the file as it
    /// then is; ``CaseStoreError/stale(_:)`` when the case changed since `file` was read, so
    /// the caller decides again on the new file.
    func apply(_ changes: [CaseChange], to file: CaseFile, now: Date) async throws -> CaseFile
    /// The case a summons belongs to.
    func caseOfSummons(_ id: UUID) async throws -> UUID?
    /// Up to `limit` of the reports `subject` filed, after `cursor`, newest first, each with
    /// where its case stands and its cursor.
    func reports(filedBy subject: String, after cursor: PageCursor?, limit: Int) async throws -> [(filed: FiledReport, cursor: PageCursor)]
    /// Up to `limit` of the summons addressed to `department`, after `cursor`, newest first,
    /// each with its case and its cursor.
    func summons(of department: UUID, after cursor: PageCursor?, limit: Int) async throws -> [(summons: Summons, case: DisputeCase, cursor: PageCursor)]
    /// Records that `principal` saw the case's personal data, and why that was allowed.
    func auditPersonalDataRead(case id: UUID, by principal: Principal, rule: String) async throws
    /// Cases under `root`, newest first, after `cursor`, each with its own cursor.
    func list(under root: DivisionCode, filter: CaseFilter, now: Date, after cursor: PageCursor?, limit: Int) async throws -> [(case: DisputeCase, cursor: PageCursor)]
    /// Resolves an open case with `outcome`; a resolved one is returned unchanged.
    func resolve(_ id: UUID, outcome: String, actor: String, now: Date) async throws -> DisputeCase?
}

/// Why a store refused a change or could not read what it holds.
enum CaseStoreError: Error, CustomStringConvertible {
    case vanished(UUID)
    /// The case changed since the file a change was decided on was read.
    case stale(UUID)
    /// The department's name or key is held by another department (its id, when found).
    case duplicateDepartment(UUID?)
    /// A stored value that is not one the domain knows: the column and the value.
    case unreadable(String, String)
    /// The case is the city's copy of a case of the county `owner`, whose mesh alone changes it.
    case copyOfCounty(UUID, String)
    /// A new report in a village of `county`, which runs its own platform: only its mesh
    /// records under it, so that every record has one owner.
    case underCounty(String)

    var description: String {
        switch self {
        case .vanished(let id): "case \(id.wire) vanished inside its transaction"
        case .stale(let id): "case \(id.wire) changed while the change was being decided"
        case .duplicateDepartment(let id): "a department with that name or API key is registered already\(id.map { ": department \($0.wire)" } ?? "")"
        case let .unreadable(column, value): "\(column) holds \"\(value)\", which is not a value Pingan knows"
        case let .copyOfCounty(id, owner): "case \(id.wire) belongs to county \(owner), which runs its own platform: act on it there"
        case let .underCounty(county): "county \(county) runs its own platform and records the cases under it: record this one there"
        }
    }
}

extension CaseStoreError: ConnectErrorConvertible {
    /// The refusals a caller can act on are `failed_precondition`; the others are faults.
    var connectError: ConnectError? {
        switch self {
        case .copyOfCounty, .underCounty: ConnectError(.failedPrecondition, description)
        case .vanished, .stale, .duplicateDepartment, .unreadable: nil
        }
    }
}

/// Cases in schema `dispute`.
struct PostgresCaseStore: CaseStore {
    let pool: PostgresPool
    let outbox: Outbox
    var inbox: EventInbox { EventInbox(pool: pool, outbox: outbox) }

    // MARK: Opening

    func open(_ newCase: NewCase, applying event: EventDelivery, now: Date) async throws -> DisputeCase {
        try await inbox.apply(event, reading: Self.readings(newCase, now: now)) { change in
            if change.firstDelivery {
                try Self.refuseUnderCounty(change.read[1])
                return try await openOrJoin(change.transaction, newCase, now: now, candidates: change.read[0]).case
            }
            guard let incident = newCase.incidentID,
                  let found = try await change.transaction.query(
                      "SELECT \(CaseRows.columns) FROM dispute.cases c JOIN dispute.case_incidents i ON i.case_id = c.id WHERE i.incident_id = $1",
                      [incident]
                  ).first
            else { throw CaseStoreError.vanished(newCase.incidentID ?? UUID.random()) }
            return try CaseRows.decodeCase(found)
        }
    }

    func readAhead(_ incidents: [(event: UUID, newCase: NewCase)], in batch: EventBatch, now: Date) async throws {
        // An incident's finding can change only through an earlier one of the batch that
        // opens a case in its village naming one of its parties, or that joins (or could
        // join) one of the cases it finds; read ahead stops before the first such incident.
        var found: Set<UUID> = []
        var named: [(village: DivisionCode, names: Set<String>)] = []
        try await inbox.readAhead(incidents.map { ($0.event, Self.readings($0.newCase, now: now)) }, in: batch) { index, rows in
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
        try await outbox.transaction(pool) { try await intake(in: $0, newCase, requestID: requestID, subject: subject, now: now) }
    }

    /// ``intake(_:requestID:subject:now:)`` inside `transaction`, for a caller that records
    /// more in the same commit (a resident's request and the case it opens).
    func intake(in transaction: PostgresConnection, _ newCase: NewCase, requestID: UUID, subject: String, now: Date) async throws -> (case: DisputeCase, joined: Bool) {
        let read = try await transaction.pipeline([
            ("INSERT INTO dispute.intake_requests (request_id, subject) VALUES ($1, $2) ON CONFLICT DO NOTHING", [requestID, subject]),
        ] + Self.readings(newCase, now: now))
        if read[0].affectedRows != 1 {
            guard let row = try await transaction.query(
                "SELECT \(CaseRows.columns), r.joined FROM dispute.intake_requests r JOIN dispute.cases c ON c.id = r.case_id WHERE r.request_id = $1",
                [requestID]
            ).first else { throw CaseStoreError.vanished(requestID) }
            return (try CaseRows.decodeCase(row), try row.decode(Bool.self, at: CaseRows.count))
        }
        try Self.refuseUnderCounty(read[2])
        let opened = try await openOrJoin(transaction, newCase, now: now, candidates: read[1])
        try await transaction.queue(
            "UPDATE dispute.intake_requests SET case_id = $2, joined = $3 WHERE request_id = $1", [requestID, opened.case.id, opened.joined]
        )
        return opened
    }

    /// What opening or joining a case for `newCase` reads first, in the round trip that records
    /// the request or event: ``casesOfTheSameParties(_:now:)``, then whether the village's
    /// county runs its own platform (``refuseUnderCounty(_:)``).
    static func readings(_ newCase: NewCase, now: Date) -> [PostgresStatement] {
        [
            casesOfTheSameParties(newCase, now: now),
            ("SELECT county_code FROM dispute.federation_peers WHERE county_code = $1", [newCase.village.county?.rawValue]),
        ]
    }

    /// Refuses a new report under a county that runs its own platform and sends the city its
    /// cases (a row of `dispute.federation_peers`, from its relay's first call): the city
    /// holds copies of that county's cases, and a record of its own there would have two owners.
    static func refuseUnderCounty(_ peers: PostgresRows) throws {
        if let county = peers.first { throw CaseStoreError.underCounty(try county.decode(String.self, at: 0)) }
    }

    /// The same rule for an import, which refuses lines rather than the whole run: reads which
    /// of `villages`' counties run their own platform (``refusingUnderCounty(_:lines:)``).
    static func federatedCounties(of villages: [DivisionCode]) -> PostgresStatement {
        ("SELECT county_code FROM dispute.federation_peers WHERE county_code = ANY($1)", [Array(Set(villages.compactMap { $0.county?.rawValue }))])
    }

    /// A refusal for each of `lines` (a line and its village) under a county
    /// ``federatedCounties(of:)`` read; a case imported before the county first called stays,
    /// as a live one does.
    static func refusingUnderCounty(_ peers: PostgresRows, lines: [(line: Int, village: DivisionCode)]) throws -> [ImportRefusal] {
        let federated = Set(try peers.map { try $0.decode(String.self, at: 0) })
        return lines.compactMap { line, village in
            guard let county = village.county?.rawValue, federated.contains(county) else { return nil }
            return ImportRefusal(line: line, field: "village_code", reason: CaseStoreError.underCounty(county).description)
        }
    }

    /// The village's cases that name one of `newCase`'s parties and may still take a new
    /// incident, locked, newest first: the candidates ``SameParties`` decides among.
    static func casesOfTheSameParties(_ newCase: NewCase, now: Date) -> PostgresStatement {
        // Found by name first, through the GIN index, then each by its key: under a steady
        // flow of reports the statistics lag behind the table, and plans that trusted them
        // walked the village's cases (newest first, or by status to join against the names).
        // The names reach the plan through a sub-select, so no plan can see them: PostgreSQL
        // estimates a plan for given names as one for any names and keeps that one, instead
        // of planning each lookup. The plan's shape is the one written here either way.
        // The status and time window only narrow the lookup; SameParties.mayJoin decides.
        (
            """
            WITH named AS MATERIALIZED (SELECT id FROM dispute.cases WHERE party_names && (SELECT $2::text[]))
            SELECT c.* FROM named, LATERAL (
                SELECT \(CaseRows.columns), c.party_names, c.closed_at FROM dispute.cases c
                WHERE c.id = named.id AND c.village_code = $1
                  AND (c.status IN ('open', 'settled') OR (c.status = 'closed' AND c.closed_at > $3))
                FOR UPDATE
            ) c
            ORDER BY c.opened_at DESC
            """,
            [newCase.village.rawValue, newCase.partyNames, now.addingTimeInterval(-SameParties.reopenWithin)]
        )
    }

    /// Applies what ``SameParties`` decides for `newCase` among `candidates`
    /// (``casesOfTheSameParties(_:now:)``'s rows, read by the caller in the round trip that
    /// records the request or event).
    private func openOrJoin(
        _ transaction: PostgresConnection, _ newCase: NewCase, now: Date, candidates: PostgresRows
    ) async throws -> (case: DisputeCase, joined: Bool) {
        let found = try candidates.map { row in
            SameParties.Candidate(record: try CaseRows.decodeCase(row), partyNames: try row.decode([String].self, at: CaseRows.count),
                                  closedAt: try row.decode(Date?.self, at: CaseRows.count + 1))
        }
        switch SameParties.decide(newCase, candidates: found, now: now.atPostgresPrecision) {
        case let .join(joined, reopened):
            try await transaction.queue(
                """
                UPDATE dispute.cases SET threat_of_violence = $2, threat_of_self_harm = $3, repeat_incident = $4,
                    prior_police_calls = $5, violence_occurred = $6, incidents = $7, status = 'open', closed_at = NULL,
                    minors_involved = $8, latest_source = $9, latest_reported_at = $10, revision = revision + 1
                WHERE id = $1
                """,
                [joined.id, joined.facts.threatOfViolence, joined.facts.threatOfSelfHarm, joined.facts.repeatIncident,
                 joined.facts.priorPoliceCalls, joined.facts.violenceOccurred, joined.incidents, joined.facts.minorsInvolved,
                 joined.latest.source.rawValue, joined.latest.at]
            )
            try await Self.insertReport(transaction, newCase.report(on: joined.id, at: joined.latest.at, openedCase: false))
            if reopened {
                try await transaction.queue(
                    """
                    UPDATE dispute.return_visits SET outcome = 'unsettled', note = 'a new incident between the same parties',
                        visited_at = $2, visited_by = 'dispute-service', entered_at = $2
                    WHERE case_id = $1 AND visited_at IS NULL
                    """,
                    [joined.id, now]
                )
            }
            if let incident = newCase.incidentID {
                try await transaction.queue("INSERT INTO dispute.case_incidents (incident_id, case_id) VALUES ($1, $2) ON CONFLICT DO NOTHING", [incident, joined.id])
            }
            let source = newCase.incidentID.map { "incident \($0.wire)" } ?? "a \(newCase.source) report"
            try await Self.appendTimeline(transaction, case: joined.id, kind: reopened ? "reopened" : "incident_joined",
                                          note: "\(source) between the same parties: \(newCase.description)", actor: "dispute-service", at: now)
            let facts = try await CaseRows.loadFile(transaction, joined.id)?.assessment(now: now) ?? joined.assessment
            try await outbox.enqueue(transaction, CaseEvents.changed, facts)
            return (joined, true)
        case let .open(opened):
            let json = String(decoding: try JSONEncoder().encode(opened.parties), as: UTF8.self)
            // The row as the table's defaults make it (open, one incident, no rung yet), so
            // the insert need not read it back and travels with the next statement.
            try await transaction.queue(
                """
                INSERT INTO dispute.cases (id, incident_id, village_code, category, source, description, parties,
                    threat_of_violence, threat_of_self_harm, repeat_incident, prior_police_calls, opened_at,
                    coordinator_code, violence_occurred, party_names, minors_involved)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
                """,
                [opened.id, opened.incidentID, opened.village.rawValue, opened.category.rawValue, opened.source.rawValue,
                 opened.description, PostgresJSON(json), opened.facts.threatOfViolence, opened.facts.threatOfSelfHarm,
                 opened.facts.repeatIncident, opened.facts.priorPoliceCalls, opened.openedAt, opened.coordinator.rawValue,
                 opened.facts.violenceOccurred, newCase.partyNames, opened.facts.minorsInvolved]
            )
            try await Self.insertReport(transaction, newCase.report(on: opened.id, at: opened.openedAt, openedCase: true))
            if let incident = newCase.incidentID {
                try await transaction.queue("INSERT INTO dispute.case_incidents (incident_id, case_id) VALUES ($1, $2)", [incident, opened.id])
            }
            let note = newCase.incidentID.map { "opened from incident \($0.wire)" } ?? "opened from a \(newCase.source) report"
            try await Self.appendTimeline(transaction, case: opened.id, kind: "opened", note: note,
                                          actor: newCase.incidentID == nil ? "intake" : "grid-service", at: now)
            try await outbox.enqueue(transaction, CaseEvents.opened, opened.assessment)
            return (opened, false)
        }
    }

    // MARK: Reading

    func file(_ id: UUID) async throws -> CaseFile? {
        try await pool.withConnection { try await CaseRows.loadFile($0, id) }
    }

    func fileWithTimeline(_ id: UUID, before cursor: TimelineCursor?, limit: Int) async throws -> (file: CaseFile, timeline: [(entry: TimelineEntry, cursor: TimelineCursor)])? {
        let rows = try await pool.query(
            """
            SELECT \(CaseRows.fileColumns),
                   ARRAY(SELECT ROW(t.id, t.at, t.kind, t.note, t.actor) FROM dispute.timeline t
                         WHERE t.case_id = c.id AND ($2::bigint IS NULL OR t.id < $2) ORDER BY t.id DESC LIMIT $3)
            FROM dispute.cases c WHERE c.id = $1
            """,
            [id, cursor?.entry, limit]
        )
        guard let row = rows.first, let file = try CaseRows.decodeFile(row) else { return nil }
        let timeline = try row.records(at: CaseRows.fileCount).map { row in
            let entry = TimelineEntry(at: try row.decode(Date.self, at: 1), kind: try row.decode(String.self, at: 2),
                                      note: try row.decode(String.self, at: 3), actor: try row.decode(String.self, at: 4))
            return (entry: entry, cursor: TimelineCursor(entry: try row.decode(Int64.self, at: 0)))
        }
        return (file, timeline)
    }

    /// Pages by `(reported_at, id)` at the database's microsecond precision, through the index
    /// on `(case_id, reported_at DESC, id DESC)`.
    func fileWithReports(_ id: UUID, after cursor: PageCursor?, limit: Int) async throws -> (file: CaseFile, reports: [(report: CaseReport, cursor: PageCursor)])? {
        let rows = try await pool.query(
            """
            SELECT \(CaseRows.fileColumns),
                   ARRAY(SELECT ROW(\(CaseRows.reportColumns(qualifiedBy: "r."))) FROM dispute.case_reports r
                         WHERE r.case_id = c.id AND ($2::timestamptz IS NULL OR (r.reported_at, r.id) < ($2, $3))
                         ORDER BY r.reported_at DESC, r.id DESC LIMIT $4)
            FROM dispute.cases c WHERE c.id = $1
            """,
            [id, cursor?.time, cursor?.id, limit]
        )
        guard let row = rows.first, let file = try CaseRows.decodeFile(row) else { return nil }
        let reports = try row.records(at: CaseRows.fileCount).map { row in
            let report = try CaseRows.decodeReport(row)
            return (report: report, cursor: PageCursor(time: report.reportedAt, id: report.id))
        }
        return (file, reports)
    }

    /// Pages by `(reported_at, id)` through the reporter's index, at the database's precision.
    func reports(filedBy subject: String, after cursor: PageCursor?, limit: Int) async throws -> [(filed: FiledReport, cursor: PageCursor)] {
        try await pool.query(
            """
            SELECT \(CaseRows.reportColumns(qualifiedBy: "r.")), c.category, c.status, c.current_rung, c.coordinator_code
            FROM dispute.case_reports r JOIN dispute.cases c ON c.id = r.case_id
            WHERE r.reported_by = $1 AND ($2::timestamptz IS NULL OR (r.reported_at, r.id) < ($2, $3))
            ORDER BY r.reported_at DESC, r.id DESC LIMIT $4
            """,
            [subject, cursor?.time, cursor?.id, limit]
        ).map { row in
            let filed = try CaseRows.decodeFiledReport(row)
            return (filed, PageCursor(time: filed.report.reportedAt, id: filed.report.id))
        }
    }

    /// Pages by `(created_at, id)` on index `summons_department_newest`.
    func summons(of department: UUID, after cursor: PageCursor?, limit: Int) async throws -> [(summons: Summons, case: DisputeCase, cursor: PageCursor)] {
        try await pool.query(
            """
            SELECT \(CaseRows.columns), \(CaseRows.summonsColumns), s.created_at
            FROM dispute.summons s JOIN dispute.departments d ON d.id = s.department_id JOIN dispute.cases c ON c.id = s.case_id
            WHERE s.department_id = $1 AND ($2::timestamptz IS NULL OR (s.created_at, s.id) < ($2, $3))
            ORDER BY s.created_at DESC, s.id DESC LIMIT $4
            """,
            [department, cursor?.time, cursor?.id, limit]
        ).map { row in
            let found = try CaseRows.decodeCase(row)
            let summons = try CaseRows.decodeSummons(row, from: CaseRows.count)
            return (summons, found, PageCursor(time: try row.decode(Date.self, at: CaseRows.count + 13), id: summons.id))
        }
    }

    func caseOfSummons(_ id: UUID) async throws -> UUID? {
        try await pool.query("SELECT case_id FROM dispute.summons WHERE id = $1", [id]).first?.decode(UUID.self, at: 0)
    }

    func auditPersonalDataRead(case id: UUID, by principal: Principal, rule: String) async throws {
        try await pool.query(
            "INSERT INTO dispute.personal_data_reads (subject, centre, case_id, rule) VALUES ($1, $2, $3, $4)",
            [principal.subject, principal.centre.rawValue, id, rule]
        )
    }

    /// Pages by `(opened_at, id)` at the database's microsecond precision, so no case is skipped.
    /// The cursor is written into the statement only when there is one, so that it is an index
    /// condition on `cases_newest` (a seek) rather than a filter: a page deep in a city's years
    /// of cases costs what the first one does.
    ///
    /// A township's or a village's cases are a few thousand in years, a 178th of the city's or
    /// less: walked newest first through `cases_newest`, a page of them read most of the city's
    /// recent cases to find its own (197 ms and 15,000 buffers for a township's page with three
    /// years loaded). Their subtree is read whole through `cases_village_opened` first
    /// (`MATERIALIZED`, so PostgreSQL cannot turn it back into the walk) and then sorted.
    ///
    /// Planned for its values each time: the range is a county or the city and the filters are
    /// optional, and the generic plan PostgreSQL settled on after five runs checked a county's
    /// overdue steps case by case (90-98 ms against 15-26 ms planned for the values).
    func list(under root: DivisionCode, filter: CaseFilter, now: Date, after cursor: PageCursor?, limit: Int) async throws -> [(case: DisputeCase, cursor: PageCursor)] {
        let after = cursor == nil ? "$3::timestamptz IS NULL AND $4::uuid IS NULL" : "(c.opened_at, c.id) < ($3, $4)"
        let narrow = root.level >= .township
        let rows = try await pool.queryPlannedEachTime(
            """
            \(narrow ? "WITH subtree AS MATERIALIZED (SELECT * FROM dispute.cases WHERE village_code BETWEEN $1 AND $2)" : "")
            SELECT \(CaseRows.columns) FROM \(narrow ? "subtree" : "dispute.cases") c
            WHERE c.village_code BETWEEN $1 AND $2 AND \(after)
              AND ($6::integer IS NULL OR c.current_rung = $6)
              AND ($7::uuid IS NULL OR EXISTS (SELECT 1 FROM dispute.summons s WHERE s.case_id = c.id AND s.department_id = $7))
              AND (NOT $8 OR \(OverdueStep.sqlCaseHasOverdueStep(now: "$9")))
            ORDER BY c.opened_at DESC, c.id DESC LIMIT $5
            """,
            [root.rawValue, root.lastInSubtree, cursor?.time, cursor?.id, limit, filter.rung?.rawValue, filter.department, filter.overdueOnly, now]
        )
        return try rows.map { row in
            let found = try CaseRows.decodeCase(row)
            return (found, PageCursor(time: found.openedAt, id: found.id))
        }
    }

    func resolve(_ id: UUID, outcome: String, actor: String, now: Date) async throws -> DisputeCase? {
        try await pool.transaction { transaction in
            let updated = try await transaction.query(
                """
                UPDATE dispute.cases SET status = 'resolved', resolved_at = $3, outcome = $2, revision = revision + 1
                WHERE id = $1 AND status = 'open'
                """,
                [id, outcome, now]
            )
            if updated.affectedRows == 1 {
                try await Self.appendTimeline(transaction, case: id, kind: "resolved", note: outcome, actor: actor, at: now)
            }
            return try await transaction.query("SELECT \(CaseRows.columns) FROM dispute.cases c WHERE c.id = $1", [id]).first.map(CaseRows.decodeCase)
        }
    }

    /// Records a report that opened or joined a case, in the transaction that did it.
    static func insertReport(_ transaction: PostgresConnection, _ report: CaseReport) async throws {
        try await transaction.queue(
            """
            INSERT INTO dispute.case_reports (id, case_id, source, incident_id, reported_at, description, threat_of_violence,
                threat_of_self_harm, violence_occurred, minors_involved, prior_police_calls, opened_case, reported_by)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
            """,
            [report.id, report.caseID, report.source.rawValue, report.incidentID, report.reportedAt, report.description,
             report.facts.threatOfViolence, report.facts.threatOfSelfHarm, report.facts.violenceOccurred, report.facts.minorsInvolved,
             report.facts.priorPoliceCalls, report.openedCase, report.reportedBy]
        )
    }

    static func appendTimeline(_ transaction: PostgresConnection, case id: UUID, kind: String, note: String, actor: String, at: Date) async throws {
        try await transaction.queue(
            "INSERT INTO dispute.timeline (case_id, at, kind, note, actor) VALUES ($1, $2, $3, $4, $5)", [id, at, kind, note, actor]
        )
    }
}
