import Foundation
import PinganContracts
import PinganDomain
import PinganOutbox
import PinganPostgres
import SwiftProtobuf

/// The reads schema `risk` is read with, and how their rows become domain values: shared by
/// the store's reads and the loads of its transactions, so one row is decoded one way.
enum RiskRows {
    static let warningColumns = """
        w.id, w.case_id, w.centre_code, w.score, w.status, w.raised_at, w.village_code, w.count,
        w.assignee, w.feedback, w.evaluation, w.outcome, w.escalates_at, w.level, w.rule, w.rules_version, w.held_by,
        ARRAY(SELECT m.case_id::text FROM risk.cluster_members m JOIN risk.incidents i ON i.case_id = m.case_id WHERE m.warning_id = w.id ORDER BY i.opened_at, m.case_id)
        """

    /// The case's assessment row, locked: taken before its warning's, in the order the
    /// rescoring chore takes them, so the two never wait on each other.
    static func lockedAssessment(of id: UUID) -> EventInbox.Read {
        ("SELECT warning_id FROM risk.assessments WHERE case_id = $1 FOR UPDATE", [id])
    }

    /// The case's warning that is not closed yet, locked: a new score acts on it.
    static func openWarning(of id: UUID) -> EventInbox.Read {
        ("SELECT case_id, id, score, centre_code, level FROM risk.warnings WHERE case_id = $1 AND status <> 'closed' FOR UPDATE", [id])
    }

    /// The open warnings of several cases, locked, in one round trip.
    static func openWarnings(of ids: [UUID]) -> EventInbox.Read {
        (
            "SELECT case_id, id, score, centre_code, level FROM risk.warnings WHERE case_id = ANY($1::text[]::uuid[]) AND status <> 'closed' FOR UPDATE",
            [ids.map(\.uuidString)]
        )
    }

    /// The open cluster warnings the cases are members of, each with the centre it warns now,
    /// oldest first: those that may hold back the cases' own pushes (``WarningDecision/heldBy(_:)``).
    static func clusterHolds(of ids: [UUID]) -> EventInbox.Read {
        (
            """
            SELECT m.case_id, w.id, w.centre_code FROM risk.cluster_members m JOIN risk.warnings w ON w.id = m.warning_id
            WHERE m.case_id = ANY($1::text[]::uuid[]) AND w.status <> 'closed' ORDER BY w.raised_at, w.id
            """,
            [ids.map(\.uuidString)]
        )
    }

    /// ``clusterHolds(of:)``' rows, by case, in their order.
    static func decodeClusterHolds(_ rows: PostgresRows) throws -> [UUID: [ClusterHold]] {
        var holds: [UUID: [ClusterHold]] = [:]
        for row in rows {
            holds[try row.decode(UUID.self, at: 0), default: []].append(ClusterHold(warning: try row.decode(UUID.self, at: 1), centre: try division(row, at: 2)))
        }
        return holds
    }

    /// ``openWarning(of:)``'s or ``openWarnings(of:)``' rows, by case.
    static func decodeOpenWarnings(_ rows: PostgresRows) throws -> [UUID: OpenWarning] {
        var open: [UUID: OpenWarning] = [:]
        for row in rows {
            open[try row.decode(UUID.self, at: 0)] = OpenWarning(
                id: try row.decode(UUID.self, at: 1), score: try row.decode(Int.self, at: 2), centre: try division(row, at: 3),
                level: try level(row, at: 4, column: "warnings.level")
            )
        }
        return open
    }

    static func history(of id: UUID) -> EventInbox.Read {
        // The latest ones only, through the (case_id, id) index backwards: what an event about
        // the case reads does not grow with the case.
        (
            """
            SELECT score, model_version, assessed_at, level FROM (
                SELECT id, score, model_version, assessed_at, level FROM risk.assessment_history WHERE case_id = $1 ORDER BY id DESC LIMIT $2
            ) latest ORDER BY id
            """,
            [id, Assessment.historyShown]
        )
    }

    static func decodeHistory(_ rows: PostgresRows) throws -> [ScoreChange] {
        try rows.map { row in
            ScoreChange(
                score: try row.decode(Int.self, at: 0), modelVersion: try row.decode(String.self, at: 1), assessedAt: try row.decode(Date.self, at: 2),
                level: try level(row, at: 3, column: "assessment_history.level")
            )
        }
    }

    static func assessment(of id: UUID) -> EventInbox.Read {
        ("SELECT case_id, village_code, score, reasons, warning_id, assessed_at, model_version, threshold, level FROM risk.assessments WHERE case_id = $1", [id])
    }

    /// The case's assessment, from ``assessment(of:)``'s row and ``history(of:)``'s rows.
    static func decodeAssessment(_ row: PostgresRow, history: PostgresRows) throws -> Assessment {
        Assessment(
            caseID: try row.decode(UUID.self, at: 0), village: try division(row, at: 1), score: try row.decode(Int.self, at: 2),
            threshold: try row.decode(Int.self, at: 7), reasons: try decodeReasons(try row.decode(PostgresJSON.self, at: 3)),
            warningID: try row.decode(UUID?.self, at: 4), assessedAt: try row.decode(Date.self, at: 5),
            modelVersion: try row.decode(String.self, at: 6), history: try decodeHistory(history),
            level: try level(row, at: 8, column: "assessments.level")
        )
    }

    /// Reasons as `risk.assessments.reasons` keeps them: a JSON array of `Reason` messages.
    static func encodeReasons(_ reasons: [Reason]) throws -> PostgresJSON {
        PostgresJSON("[" + (try reasons.map { try $0.wire.jsonString() }.joined(separator: ",")) + "]")
    }

    static func decodeReasons(_ json: PostgresJSON) throws -> [Reason] {
        try Pingan_Risk_V1_Reason.array(fromJSONString: json.text).map(Reason.init)
    }

    /// A case's facts as `risk.assessments.facts` keeps them: an `AssessCaseRequest`'s bytes.
    static func encodeFacts(_ assessed: AssessedCase) throws -> Data {
        Data(try assessed.wire.serializedBytes() as [UInt8])
    }

    static func decodeFacts(_ data: Data) throws -> CaseFacts {
        CaseFacts(try Pingan_Risk_V1_AssessCaseRequest(serializedBytes: [UInt8](data)))
    }

    /// A row of ``warningColumns``, without its steps.
    static func decodeWarning(_ row: PostgresRow) throws -> Warning {
        Warning(
            id: try row.decode(UUID.self, at: 0), caseID: try row.decode(UUID?.self, at: 1), centre: try division(row, at: 2),
            village: try division(row, at: 6), score: try row.decode(Int.self, at: 3),
            status: try known(WarningStatus.self, row, at: 4, column: "warnings.status"), raisedAt: try row.decode(Date.self, at: 5),
            count: try row.decode(Int.self, at: 7), assignee: try row.decode(String?.self, at: 8), feedback: try row.decode(String?.self, at: 9),
            evaluation: try row.decode(String?.self, at: 10), outcome: try row.decode(String?.self, at: 11),
            escalatesAt: try row.decode(Date?.self, at: 12), steps: [], level: try level(row, at: 13, column: "warnings.level"),
            members: try row.decode([String].self, at: 17).compactMap(UUID.init(uuidString:)), rule: try row.decode(String?.self, at: 14),
            rulesVersion: try row.decode(String?.self, at: 15), heldBy: try row.decode(UUID?.self, at: 16)
        )
    }

    static func steps(of warning: UUID) -> EventInbox.Read {
        ("SELECT at, kind, note, actor FROM risk.warning_steps WHERE warning_id = $1 ORDER BY id", [warning])
    }

    static func decodeStep(_ row: PostgresRow) throws -> WarningStep {
        WarningStep(
            at: try row.decode(Date.self, at: 0), kind: try known(WarningStepKind.self, row, at: 1, column: "warning_steps.kind"),
            note: try row.decode(String.self, at: 2), actor: try row.decode(String.self, at: 3)
        )
    }

    /// Records a step of a warning; it travels with the transaction's next statement.
    static func queueStep(_ transaction: PostgresConnection, _ warning: UUID, _ kind: WarningStepKind, note: String, actor: String, at: Date) async throws {
        try await transaction.queue(
            "INSERT INTO risk.warning_steps (warning_id, at, kind, note, actor) VALUES ($1, $2, $3, $4, $5)", [warning, at, kind.rawValue, note, actor]
        )
    }

    // Not inlined: Swift 6.3.1's optimiser crashes (signal 11, splitting the coroutine) when
    // the typed-throws `DivisionCode(validating:)` is inlined through this untyped wrapper into
    // the async closures of the store's chores. Release builds only; debug builds never inline.
    @inline(never)
    static func division(_ row: PostgresRow, at index: Int) throws -> DivisionCode {
        try DivisionCode(validating: try row.decode(String.self, at: index))
    }

    /// A stored level; one risk-service does not know is a damaged row.
    static func level(_ row: PostgresRow, at index: Int, column: String) throws -> RiskLevel {
        try known(RiskLevel.self, row, at: index, column: column)
    }

    private static func known<Value: RawRepresentable<String>>(_ type: Value.Type, _ row: PostgresRow, at index: Int, column: String) throws -> Value {
        let text = try row.decode(String.self, at: index)
        guard let value = Value(rawValue: text) else { throw RiskStoreError.unreadable(column, text) }
        return value
    }
}
