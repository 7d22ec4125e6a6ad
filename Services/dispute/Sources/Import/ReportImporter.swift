import Foundation
import PinganAccess
import PinganContracts
import PinganDomain
import PinganOutbox
import PinganPostgres
import PinganRuntime

/// Loads a source's reports in bulk (`dispute-service import reports FILE --by WHO [--source S]`):
/// the daily export of the grid chat groups' screening notes, say, or a 12345 hotline's day,
/// as a CSV of one report per line (docs/importing.md, "`reports`").
///
/// Unlike a history (``CaseImporter``), these are new reports: each goes the way an intake
/// does, checked as `IntakeCase` checks its fields, opening a case or joining the same
/// parties' case in its village, and telling risk-service in the same commit, so the topic
/// database's cluster rules see them as they see any report. A report keeps its time, which
/// may lie up to `BACKDATE_LIMIT_DAYS` back. Keyed by the source's own id (`legacy_id`): a
/// line loaded before is left as it is. Batches are checked whole and applied whole.
struct ReportImporter: Sendable {
    static let defaultBatchSize = 500
    static let header = ["legacy_id", "village_code", "category", "reported_at", "description", "parties", "threat_of_violence", "threat_of_self_harm"]

    /// A report of the file, checked.
    struct Report: Sendable {
        let line: Int
        let legacyID: String
        let newCase: NewCase
        let reportedAt: Date
        /// The intake request id the report is loaded under, derived from its legacy id.
        var requestID: UUID { ReportImporter.requestID(source: newCase.source, legacyID: legacyID) }
    }

    let pool: PostgresPool
    let outbox: Outbox
    let cases: PostgresCaseStore
    let source: Pingan_Dispute_V1_CaseSource
    let backdating: Backdating
    let batchSize: Int
    let now: @Sendable () -> Date

    func run(_ lines: ImportLines, by importer: String, refused: @Sendable (ImportRefusal) -> Void = { _ in }) async throws -> ImportSummary {
        var lines = lines
        guard let (_, first) = try lines.next() else { throw ImportError.badArgument("the file is empty; its first line is the header \(Self.header.joined(separator: ","))") }
        guard CSVFields.split(first.trimmingCharacters(in: .whitespaces))?.map({ $0.trimmingCharacters(in: .whitespaces) }) == Self.header else {
            throw ImportError.badArgument("line 1: the header must be \(Self.header.joined(separator: ","))")
        }
        let importedAt = now()
        let subject = "import:\(importer.trimmingCharacters(in: .whitespaces))"
        return try await ImportBatches.run(
            lines, by: importer, batchSize: batchSize, refused: refused,
            parse: { text, line in check(text, line: line, by: subject, now: importedAt) },
            apply: { batch, refused in try await apply(batch, refused: refused, by: subject) }
        )
    }

    /// One line checked as `IntakeCase` checks a report's fields, with every fault named.
    func check(_ text: String, line: Int, by subject: String, now: Date) -> ImportBatches.Parsed<Report> {
        guard let cells = CSVFields.split(text) else { return .refused([ImportRefusal(line: line, field: "line", reason: "a quoted field is not closed")]) }
        guard cells.count == Self.header.count else {
            return .refused([ImportRefusal(line: line, field: "line", reason: "has \(cells.count) fields; the header names \(Self.header.count)")])
        }
        var checks = CaseChecks(line: line, now: now)
        let legacyID = checks.text(cells[0], "legacy_id", upTo: 100)
        var village: DivisionCode?
        if let parsed = try? DivisionCode(validating: cells[1].trimmingCharacters(in: .whitespaces)), parsed.level == .village { village = parsed } else {
            checks.refuse("village_code", "\"\(cells[1].prefix(20))\" is not a village's 12-digit code")
        }
        let category = checks.choice(cells[2].trimmingCharacters(in: .whitespaces), "category", from: CaseRecord.categories)
        let reportedAt = checks.time(cells[3].trimmingCharacters(in: .whitespaces), "reported_at")
        if let reportedAt {
            do {
                _ = try backdating.stamp(reportedAt, field: "reported_at", now: now, notBefore: nil)
            } catch {
                checks.refuse("reported_at", "is more than \(backdating.limitDays) days ago (BACKDATE_LIMIT_DAYS); a history goes through import cases")
            }
        }
        let description = checks.text(cells[4], "description", upTo: ReportFields.maxDescription)
        let names = cells[5].split(whereSeparator: { "、|;；".contains($0) }).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        if !(1...ReportFields.maxParties).contains(names.count) { checks.refuse("parties", "must name 1 to \(ReportFields.maxParties) people, separated by 、") }
        for (index, name) in names.enumerated() where name.unicodeScalars.count > 50 { checks.refuse("parties[\(index)]", "is longer than 50 characters") }
        func flag(_ text: String, _ field: String) -> Bool {
            switch text.trimmingCharacters(in: .whitespaces).lowercased() {
            case "", "false", "0", "否": return false
            case "true", "1", "是": return true
            default:
                checks.refuse(field, "must be true or false")
                return false
            }
        }
        let violence = flag(cells[6], "threat_of_violence")
        let selfHarm = flag(cells[7], "threat_of_self_harm")
        guard checks.refusals.isEmpty, let legacyID, let village, let category, let reportedAt, let description else { return .refused(checks.refusals) }
        let newCase = NewCase(
            incidentID: nil, village: village, category: category, source: source, description: description,
            parties: names.map { Party(name: $0, phone: "", minor: false) },
            facts: CaseFacts(threatOfViolence: violence, threatOfSelfHarm: selfHarm, repeatIncident: false, priorPoliceCalls: 0), reportedBy: subject
        )
        return .record(Report(line: line, legacyID: legacyID, newCase: newCase, reportedAt: reportedAt))
    }

    /// Takes the batch's new reports in the order they were made, each as an intake at its own
    /// time, in one commit with the events that tell risk-service.
    func apply(_ batch: [Report], refused: [ImportRefusal], by subject: String) async throws -> ImportBatches.Outcome {
        let found = refused + ImportBatches.repeats(batch, key: \.legacyID, line: \.line, field: "legacy_id", what: "the same legacy_id")
        guard found.isEmpty else { return .refused(found) }
        return try await outbox.transaction(pool) { transaction in
            let read = try await transaction.pipeline([
                ("SELECT request_id FROM dispute.intake_requests WHERE request_id = ANY($1::uuid[])", [batch.map(\.requestID.wire)]),
                PostgresCaseStore.federatedCounties(of: batch.map(\.newCase.village)),
            ])
            let present = Set(try read[0].map { try $0.decode(UUID.self, at: 0) })
            let fresh = batch.filter { !present.contains($0.requestID) }.sorted { ($0.reportedAt, $0.line) < ($1.reportedAt, $1.line) }
            let owned = try PostgresCaseStore.refusingUnderCounty(read[1], lines: fresh.map { ($0.line, $0.newCase.village) })
            guard owned.isEmpty else { return .refused(owned.sorted { $0.line < $1.line }) }
            for report in fresh {
                _ = try await cases.intake(in: transaction, report.newCase, requestID: report.requestID, subject: subject, now: report.reportedAt)
            }
            return .applied(fresh.count)
        }
    }

    /// The intake request a line loads under: named by the source and its own id, so the same
    /// line loads once however often the file is loaded.
    static func requestID(source: Pingan_Dispute_V1_CaseSource, legacyID: String) -> UUID {
        UUID.named("pingan-report|\(source.rawValue)|\(legacyID)")
    }
}
