import Foundation
import PinganContracts
import PinganDomain
import PinganPostgres

/// How a case and its file are read from schema `dispute`: the columns, the reads of a
/// whole file in one round trip, and their decoding. Every store of the service reads cases
/// through here.
enum CaseRows {
    /// A case's columns, as ``decodeCase(_:)`` takes them; a query adds its own after them,
    /// from index ``count`` on. The parties come as an array of records, in their order,
    /// which PostgreSQL takes apart more cheaply than a JSON decoder per row would.
    static let columns = """
        c.id, c.incident_id, c.village_code, c.category, c.source, c.status, c.description,
        ARRAY(SELECT ROW(p.party->>'name', p.party->>'phone', (p.party->>'minor')::boolean)
              FROM jsonb_array_elements(c.parties) WITH ORDINALITY AS p (party, n) ORDER BY p.n),
        c.threat_of_violence, c.threat_of_self_harm, c.repeat_incident, c.prior_police_calls, c.opened_at,
        c.coordinator_code, c.violence_occurred, c.incidents, c.major_departments, c.resident_representatives, c.current_rung,
        c.revision, c.minors_involved, c.latest_source, c.latest_reported_at, c.federated_from, c.personal_data_erased_at
        """
    /// How many ``columns`` there are.
    static let count = 25

    /// A report's columns, as ``decodeReport(_:)`` takes them.
    static let reportColumns = reportColumns(qualifiedBy: "")
    /// How many ``reportColumns`` there are.
    static let reportCount = 14

    /// A report's columns qualified by `prefix` (`"r."`), for a query that joins its case.
    static func reportColumns(qualifiedBy prefix: String) -> String {
        ["id", "case_id", "source", "incident_id", "reported_at", "description", "threat_of_violence", "threat_of_self_harm",
         "violence_occurred", "minors_involved", "prior_police_calls", "opened_case", "backfilled", "reported_by"]
            .map { prefix + $0 }.joined(separator: ", ")
    }

    /// A case's ``columns`` and then its file: its rungs, its latest agreement, its latest
    /// return visit and its summons, each an array of records read by the same statement as the
    /// case (from index ``count`` on, ``fileCount`` columns in all), so a file is one statement
    /// for PostgreSQL to plan and run, not one per child table. A query adds its own columns
    /// after these; `c` is the case.
    static let fileColumns = columns + """
        ,
        ARRAY(SELECT ROW(a.id, a.rung, a.kind, a.lead, a.participants, a.bodies, a.centre_code, a.started_by, a.started_at, a.due_at,
                         a.beyond_calendar, a.outcome, a.outcome_note, a.ended_at, a.start_entered_at, a.ended_by, a.end_entered_at)
              FROM dispute.rung_attempts a WHERE a.case_id = c.id ORDER BY a.seq),
        ARRAY(SELECT ROW(g.id, g.terms, g.signed_on::text, g.signatories)
              FROM dispute.agreements g WHERE g.case_id = c.id ORDER BY g.seq DESC LIMIT 1),
        ARRAY(SELECT ROW(v.id, v.due_at, v.beyond_calendar, v.outcome, v.note, v.visited_at, v.visited_by, v.entered_at)
              FROM dispute.return_visits v WHERE v.case_id = c.id ORDER BY v.seq DESC LIMIT 1),
        ARRAY(SELECT ROW(\(summonsColumns))
              FROM dispute.summons s JOIN dispute.departments d ON d.id = s.department_id
              WHERE s.case_id = c.id ORDER BY s.created_at, d.name)
        """
    /// How many ``fileColumns`` there are.
    static let fileCount = count + 4

    /// The case and everything under it, in one statement.
    static func loadFile(_ connection: PostgresConnection, _ id: UUID) async throws -> CaseFile? {
        try decodeFile(try await connection.query("SELECT \(fileColumns) FROM dispute.cases c WHERE c.id = $1", [id]).first)
    }

    /// The file in a row that starts with ``fileColumns``; `nil` for no row.
    static func decodeFile(_ row: PostgresRow?) throws -> CaseFile? {
        guard let row else { return nil }
        let record = try decodeCase(row)
        let attempts = try row.records(at: count).map { row in
            RungAttempt(
                id: try row.decode(UUID.self, at: 0), rung: try decode(LadderRung.self, try row.decode(Int.self, at: 1), "rung_attempts.rung"),
                kind: try decode(MediationKind.self, try row.decode(String.self, at: 2), "rung_attempts.kind"), lead: try row.decode(String.self, at: 3),
                participants: try row.decode([String].self, at: 4), bodies: try row.decode([String].self, at: 5),
                centre: try DivisionCode(validating: try row.decode(String.self, at: 6)), startedBy: try row.decode(String.self, at: 7),
                startedAt: try row.decode(Date.self, at: 8), startEnteredAt: try row.decode(Date.self, at: 14),
                deadline: WorkingDeadline(dueAt: try row.decode(Date.self, at: 9), beyondCalendar: try row.decode(Bool.self, at: 10)),
                outcome: try row.decode(String?.self, at: 11).map { try decode(RungOutcome.self, $0, "rung_attempts.outcome") },
                outcomeNote: try row.decode(String?.self, at: 12), endedAt: try row.decode(Date?.self, at: 13),
                endedBy: try row.decode(String?.self, at: 15), endEnteredAt: try row.decode(Date?.self, at: 16)
            )
        }
        let agreement = try row.records(at: count + 1).first.map { row in
            let signedOn = try row.decode(String.self, at: 2)
            guard let day = Day(parsing: signedOn) else { throw CaseStoreError.unreadable("agreements.signed_on", signedOn) }
            return Agreement(id: try row.decode(UUID.self, at: 0), terms: try row.decode(String.self, at: 1), signedOn: day,
                             signatories: try row.decode([String].self, at: 3))
        }
        let visit = try row.records(at: count + 2).first.map { row in
            ReturnVisit(
                id: try row.decode(UUID.self, at: 0),
                deadline: WorkingDeadline(dueAt: try row.decode(Date.self, at: 1), beyondCalendar: try row.decode(Bool.self, at: 2)),
                outcome: try row.decode(String?.self, at: 3).map { try decode(ReturnVisitOutcome.self, $0, "return_visits.outcome") },
                note: try row.decode(String?.self, at: 4), visitedAt: try row.decode(Date?.self, at: 5), visitedBy: try row.decode(String?.self, at: 6),
                enteredAt: try row.decode(Date?.self, at: 7)
            )
        }
        let summons = try row.records(at: count + 3).map { row in try decodeSummons(row, from: 0) }
        return CaseFile(record: record, attempts: attempts, agreement: agreement, returnVisit: visit, summons: summons,
                        revision: try row.decode(Int.self, at: 19))
    }

    /// A summons' columns, with its department's, as ``decodeSummons(_:from:)`` takes them.
    static let summonsColumns = """
        s.id, d.id, d.centre_code, d.name, d.api_key_name, s.summoned_by, s.report_due, s.report_beyond_calendar,
        s.feedback_due, s.feedback_beyond_calendar, s.reported_at, s.feedback, s.fed_back_at
        """

    /// A summons from ``summonsColumns``, starting at column `offset`.
    static func decodeSummons(_ row: PostgresRow, from offset: Int) throws -> Summons {
        Summons(
            id: try row.decode(UUID.self, at: offset + 0),
            department: Department(id: try row.decode(UUID.self, at: offset + 1), centre: try DivisionCode(validating: try row.decode(String.self, at: offset + 2)),
                                   name: try row.decode(String.self, at: offset + 3), apiKeyName: try row.decode(String.self, at: offset + 4)),
            summonedBy: try DivisionCode(validating: try row.decode(String.self, at: offset + 5)),
            reportDeadline: WorkingDeadline(dueAt: try row.decode(Date.self, at: offset + 6), beyondCalendar: try row.decode(Bool.self, at: offset + 7)),
            feedbackDeadline: WorkingDeadline(dueAt: try row.decode(Date.self, at: offset + 8), beyondCalendar: try row.decode(Bool.self, at: offset + 9)),
            reportedAt: try row.decode(Date?.self, at: offset + 10), feedback: try row.decode(String?.self, at: offset + 11), fedBackAt: try row.decode(Date?.self, at: offset + 12)
        )
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
            status: try decode(DisputeCase.Status.self, try row.decode(String.self, at: 5), "cases.status"),
            description: try row.decode(String.self, at: 6),
            parties: try row.records(at: 7).map { Party(name: try $0.decode(String.self, at: 0), phone: try $0.decode(String.self, at: 1), minor: try $0.decode(Bool.self, at: 2)) },
            facts: CaseFacts(
                threatOfViolence: try row.decode(Bool.self, at: 8), threatOfSelfHarm: try row.decode(Bool.self, at: 9),
                repeatIncident: try row.decode(Bool.self, at: 10), priorPoliceCalls: try row.decode(Int.self, at: 11),
                violenceOccurred: try row.decode(Bool.self, at: 14), minorsInvolved: try row.decode(Bool.self, at: 20)
            ),
            openedAt: try row.decode(Date.self, at: 12),
            coordinator: try DivisionCode(validating: try row.decode(String.self, at: 13)),
            major: departments.map { MajorDispute(departments: $0, residentRepresentatives: representatives) },
            incidents: try row.decode(Int.self, at: 15),
            currentRung: try row.decode(Int?.self, at: 18).map { try decode(LadderRung.self, $0, "cases.current_rung") },
            joinedReport: try row.decode(Date?.self, at: 22).map { at in
                DisputeCase.ReportStamp(source: Pingan_Dispute_V1_CaseSource(rawValue: try row.decode(Int?.self, at: 21) ?? 0) ?? .unspecified, at: at)
            },
            federatedFrom: try row.decode(String?.self, at: 23).map { try DivisionCode(validating: $0) },
            personalDataErasedAt: try row.decode(Date?.self, at: 24)
        )
    }

    static func decodeReport(_ row: PostgresRow) throws -> CaseReport {
        CaseReport(
            id: try row.decode(UUID.self, at: 0), caseID: try row.decode(UUID.self, at: 1),
            source: Pingan_Dispute_V1_CaseSource(rawValue: try row.decode(Int.self, at: 2)) ?? .unspecified, incidentID: try row.decode(UUID?.self, at: 3),
            reportedAt: try row.decode(Date.self, at: 4), description: try row.decode(String.self, at: 5),
            facts: CaseFacts(
                threatOfViolence: try row.decode(Bool.self, at: 6), threatOfSelfHarm: try row.decode(Bool.self, at: 7),
                repeatIncident: false, priorPoliceCalls: try row.decode(Int.self, at: 10),
                violenceOccurred: try row.decode(Bool.self, at: 8), minorsInvolved: try row.decode(Bool.self, at: 9)
            ),
            openedCase: try row.decode(Bool.self, at: 11), backfilled: try row.decode(Bool.self, at: 12),
            reportedBy: try row.decode(String?.self, at: 13)
        )
    }

    /// A report with its case's category, status, rung and coordinator after it, from
    /// ``reportCount`` on.
    static func decodeFiledReport(_ row: PostgresRow) throws -> FiledReport {
        let at = reportCount
        return FiledReport(
            report: try decodeReport(row),
            category: Pingan_Grid_V1_IncidentCategory(rawValue: try row.decode(Int.self, at: at)) ?? .other,
            status: try decode(DisputeCase.Status.self, try row.decode(String.self, at: at + 1), "cases.status"),
            currentRung: try row.decode(Int?.self, at: at + 2).map { try decode(LadderRung.self, $0, "cases.current_rung") },
            coordinator: try DivisionCode(validating: try row.decode(String.self, at: at + 3))
        )
    }

    static func decodeDepartment(_ row: PostgresRow) throws -> Department {
        Department(id: try row.decode(UUID.self, at: 0), centre: try DivisionCode(validating: try row.decode(String.self, at: 1)),
                   name: try row.decode(String.self, at: 2), apiKeyName: try row.decode(String.self, at: 3))
    }

    /// A stored value of one of the domain's closed sets; anything else is an error, never a guess.
    static func decode<T: RawRepresentable>(_: T.Type, _ raw: T.RawValue, _ column: String) throws -> T {
        guard let value = T(rawValue: raw) else { throw CaseStoreError.unreadable(column, "\(raw)") }
        return value
    }
}
