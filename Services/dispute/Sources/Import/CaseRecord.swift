import Foundation
import PinganAccess
import PinganContracts
import PinganDomain
import PinganRuntime

/// One line of a cases file (docs/importing.md, "`cases`"), as written: every field optional
/// here, so that a line missing several fields is refused naming each of them.
struct CaseRecord: Decodable {
    struct PartyRecord: Decodable {
        let name: String?
        let phone: String?
        let minor: Bool?
    }

    struct RungRecord: Decodable {
        let rung: String?
        let mediation_kind: String?
        let started_at: String?
        let ended_at: String?
        let outcome: String?
    }

    struct DepartmentRecord: Decodable {
        let legacy_id: String?
        let name: String?
        let centre_code: String?
    }

    struct SummonsRecord: Decodable {
        let legacy_id: String?
        let department: DepartmentRecord?
        let rung: String?
        let summoned_at: String?
        let reported_at: String?
        let fed_back_at: String?
        let feedback: String?
    }

    struct AgreementRecord: Decodable {
        let signed_on: String?
        let terms: String?
        let written: Bool?
    }

    struct VisitRecord: Decodable {
        let visited_at: String?
        let outcome: String?
        let note: String?
    }

    let legacy_id: String?
    let generated: Bool?
    let village_code: String?
    let category: String?
    let source: String?
    let grid_legacy_id: String?
    let reporter_legacy_id: String?
    let reported_at: String?
    let description: String?
    let parties: [PartyRecord]?
    let threat_of_violence: Bool?
    let threat_of_self_harm: Bool?
    let repeat_incident: Bool?
    let prior_police_calls: Int?
    let rungs: [RungRecord]?
    let summons: [SummonsRecord]?
    let agreement: AgreementRecord?
    let return_visits: [VisitRecord]?
    let status: String?
    let closed_at: String?
    let resolution: String?

    static let fields: Set<String> = [
        "legacy_id", "generated", "village_code", "category", "source", "grid_legacy_id", "reporter_legacy_id", "reported_at",
        "description", "parties", "threat_of_violence", "threat_of_self_harm", "repeat_incident", "prior_police_calls", "rungs",
        "summons", "agreement", "return_visits", "status", "closed_at", "resolution",
    ]

    static let categories: [String: Pingan_Grid_V1_IncidentCategory] = [
        "marriage_family": .marriageFamily, "neighbour": .neighbour, "economic_debt": .economicDebt, "land": .land,
        "demolition_compensation": .demolitionCompensation, "property_management": .propertyManagement, "other": .other,
    ]
    static let sources: [String: Pingan_Dispute_V1_CaseSource] = [
        "grid_report": .gridReport, "screening": .screening, "hotline": .hotline, "police_transfer": .policeTransfer,
        "walk_in": .walkIn, "department_referral": .departmentReferral, "citizen_app": .citizenApp,
    ]
    static let rungNames: [String: LadderRung] = [
        "finder": .finder, "village_secretary": .villageSecretary, "township_cadre": .townshipCadre,
        "political_legal": .politicalLegal, "township_leaders": .townshipLeaders,
    ]

    /// Parses one line: the record, or the refusals that say why it is not one.
    static func parse(_ text: String, line: Int) -> ImportBatches.Parsed<CaseRecord> {
        let data = Data(text.utf8)
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            return .refused([ImportRefusal(line: line, field: "json", reason: "not a JSON object on one line")])
        }
        let unknown = object.keys.filter { !fields.contains($0) }.sorted()
        if !unknown.isEmpty {
            return .refused(unknown.map { ImportRefusal(line: line, field: $0, reason: "is not a field of a case (docs/importing.md)") })
        }
        do {
            return .record(try JSONDecoder().decode(CaseRecord.self, from: data))
        } catch let DecodingError.typeMismatch(type, context), let DecodingError.valueNotFound(type, context) {
            return .refused([ImportRefusal(line: line, field: path(context.codingPath), reason: "must be \(describe(type))")])
        } catch {
            return .refused([ImportRefusal(line: line, field: "json", reason: "not a case record")])
        }
    }

    static func path(_ keys: [any CodingKey]) -> String {
        keys.reduce("") { path, key in
            if let index = key.intValue { return "\(path)[\(index)]" }
            return path.isEmpty ? key.stringValue : "\(path).\(key.stringValue)"
        }
    }

    static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Bool.Type: "true or false"
        case is Int.Type: "a whole number"
        default: "an array or object of the documented shape"
        }
    }
}

/// A case from the old system, checked: what ``CaseImporter`` writes.
struct ImportedCase: Sendable {
    struct Rung: Sendable {
        let rung: LadderRung
        let kind: MediationKind
        let startedAt: Date
        let endedAt: Date?
        let outcome: RungOutcome?
    }

    struct Department: Sendable, Hashable {
        let legacyID: String
        let name: String
        let centre: DivisionCode
    }

    struct Summons: Sendable {
        let department: Department
        let rung: LadderRung
        let summonedAt: Date
        let reportedAt: Date?
        let fedBackAt: Date?
        let feedback: String?
    }

    struct Agreement: Sendable {
        let signedOn: Day
        let terms: String
    }

    struct Visit: Sendable {
        let visitedAt: Date
        let outcome: ReturnVisitOutcome
        let note: String
    }

    let line: Int
    let legacyID: String
    let village: DivisionCode
    let category: Pingan_Grid_V1_IncidentCategory
    let source: Pingan_Dispute_V1_CaseSource
    let reportedAt: Date
    let description: String
    let parties: [Party]
    let facts: CaseFacts
    let rungs: [Rung]
    let summons: [Summons]
    let agreement: Agreement?
    let visits: [Visit]
    let status: DisputeCase.Status
    let closedAt: Date?
    let resolution: String?

    /// The rung attempt the agreement was signed at: the last settled one.
    var settlingRung: Int? { rungs.lastIndex { $0.outcome == .settled } }

    /// The id an imported case gets: ``UUID/named(_:)`` of `pingan-case|<legacy id>`, the same
    /// in every import and every service (risk-service's import of warnings names cases so).
    static func id(legacyID: String) -> UUID { UUID.named("pingan-case|\(legacyID)") }
}

/// Checks a ``CaseRecord`` field by field, collecting every fault of the line.
struct CaseChecks {
    let line: Int
    let now: Date
    private(set) var refusals: [ImportRefusal] = []

    init(line: Int, now: Date) {
        self.line = line
        self.now = now
    }

    mutating func refuse(_ field: String, _ reason: String) {
        refusals.append(ImportRefusal(line: line, field: field, reason: reason))
    }

    /// Text of 1 to `limit` code points, trimmed, as a request field would be read
    /// (``String/checkedText(_:length:refusingControls:)``); `nil` when absent or empty, refused
    /// only when `required`.
    mutating func text(_ value: String?, _ field: String, upTo limit: Int, required: Bool = true) -> String? {
        guard let value else {
            if required { refuse(field, "is required") }
            return nil
        }
        do {
            return try String.checkedText(value, length: 1...limit)
        } catch .empty {
            if required { refuse(field, "is empty") }
            return nil
        } catch {
            refuse(field, error.description)
            return nil
        }
    }

    /// An RFC 3339 time not after the import's now; `nil` (refused if required) otherwise.
    mutating func time(_ value: String?, _ field: String, required: Bool = true, notBefore earliest: Date? = nil, earliestName: String = "") -> Date? {
        guard let text = value, !text.isEmpty else {
            if required { refuse(field, "is required") }
            return nil
        }
        guard let date = Date(wireTimestamp: text) else {
            refuse(field, "must be an RFC 3339 time such as 2026-03-02T09:30:00+08:00")
            return nil
        }
        if date > now {
            refuse(field, "is in the future")
            return nil
        }
        if let earliest, date < earliest {
            refuse(field, "is before \(earliestName)")
            return nil
        }
        return date
    }

    mutating func choice<T>(_ value: String?, _ field: String, from table: [String: T]) -> T? {
        guard let value else {
            refuse(field, "is required")
            return nil
        }
        guard let found = table[value] else {
            refuse(field, "\"\(value.prefix(40))\" is not one of \(table.keys.sorted().joined(separator: ", "))")
            return nil
        }
        return found
    }

    /// The whole record, or `nil` with every fault in ``refusals``.
    mutating func check(_ record: CaseRecord) -> ImportedCase? {
        let legacyID = text(record.legacy_id, "legacy_id", upTo: 100)
        var village: DivisionCode?
        if let code = record.village_code {
            if let parsed = try? DivisionCode(validating: code), parsed.level == .village { village = parsed } else { refuse("village_code", "\"\(code.prefix(20))\" is not a village's 12-digit code") }
        } else {
            refuse("village_code", "is required")
        }
        let category = choice(record.category, "category", from: CaseRecord.categories)
        let source = choice(record.source, "source", from: CaseRecord.sources)
        let reportedAt = time(record.reported_at, "reported_at")
        let description = text(record.description, "description", upTo: 2000)
        var parties: [Party] = []
        if let written = record.parties, (1...20).contains(written.count) {
            for (index, party) in written.enumerated() {
                let name = text(party.name, "parties[\(index)].name", upTo: 50)
                let phone = party.phone ?? ""
                if phone.count > 20 || !phone.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == "+" || $0 == "-") }) {
                    refuse("parties[\(index)].phone", "must be up to 20 digits")
                }
                if let name { parties.append(Party(name: name, phone: phone, minor: party.minor ?? false)) }
            }
        } else {
            refuse("parties", record.parties == nil ? "is required" : "must name 1 to 20 people")
        }
        let calls = record.prior_police_calls ?? 0
        if !(0...100).contains(calls) { refuse("prior_police_calls", "must be between 0 and 100") }

        var rungs: [ImportedCase.Rung] = []
        var previousEnd = reportedAt
        for (index, written) in (record.rungs ?? []).enumerated() {
            let field = "rungs[\(index)]"
            let rung = choice(written.rung, "\(field).rung", from: CaseRecord.rungNames)
            let kind = choice(written.mediation_kind, "\(field).mediation_kind", from: ["peoples": MediationKind.peoples, "administrative": .administrative,
                                                                                        "arbitration": .arbitration, "judicial": .judicial, "other": .other])
            let started = time(written.started_at, "\(field).started_at", notBefore: previousEnd, earliestName: index == 0 ? "reported_at" : "the previous rung's end")
            let ended = time(written.ended_at, "\(field).ended_at", required: false, notBefore: started, earliestName: "started_at")
            var outcome: RungOutcome?
            if written.outcome != nil || ended != nil {
                outcome = choice(written.outcome, "\(field).outcome", from: ["settled": RungOutcome.settled, "eased": .eased, "failed": .failed])
            }
            if ended == nil, index < (record.rungs?.count ?? 0) - 1 { refuse("\(field).ended_at", "is required: only the last rung may be under way") }
            if let rung, let last = rungs.last, rung < last.rung || (rung == last.rung && last.outcome != .settled) {
                refuse("\(field).rung", "the ladder is climbed upwards: \(rung) cannot follow \(last.rung)")
            }
            if let rung, let kind, let started {
                rungs.append(ImportedCase.Rung(rung: rung, kind: kind, startedAt: started, endedAt: ended, outcome: outcome))
            }
            previousEnd = ended ?? started ?? previousEnd
        }

        var summons: [ImportedCase.Summons] = []
        for (index, written) in (record.summons ?? []).enumerated() {
            let field = "summons[\(index)]"
            let departmentID = text(written.department?.legacy_id, "\(field).department.legacy_id", upTo: 100)
            let name = text(written.department?.name, "\(field).department.name", upTo: 100)
            var centre: DivisionCode?
            if let code = written.department?.centre_code, let parsed = try? DivisionCode(validating: code) { centre = parsed } else { refuse("\(field).department.centre_code", "must be a 12-digit division code") }
            let rung = choice(written.rung, "\(field).rung", from: CaseRecord.rungNames)
            let summoned = time(written.summoned_at, "\(field).summoned_at", notBefore: reportedAt, earliestName: "reported_at")
            let reported = time(written.reported_at, "\(field).reported_at", required: false, notBefore: summoned, earliestName: "summoned_at")
            let fedBack = time(written.fed_back_at, "\(field).fed_back_at", required: false, notBefore: summoned, earliestName: "summoned_at")
            let feedback = text(written.feedback, "\(field).feedback", upTo: 2000, required: fedBack != nil)
            if let departmentID, let name, let centre, let rung, let summoned {
                summons.append(ImportedCase.Summons(department: ImportedCase.Department(legacyID: departmentID, name: name, centre: centre),
                                                    rung: rung, summonedAt: summoned, reportedAt: reported, fedBackAt: fedBack, feedback: feedback))
            }
        }

        let settled = rungs.last { $0.outcome == .settled }
        var agreement: ImportedCase.Agreement?
        if let written = record.agreement {
            let terms = text(written.terms, "agreement.terms", upTo: 2000)
            var signedOn: Day?
            if let text = written.signed_on, let day = Day(parsing: text) { signedOn = day } else { refuse("agreement.signed_on", "must be a date as YYYY-MM-DD") }
            if settled == nil { refuse("agreement", "needs a rung that ended settled") }
            if let signedOn, let terms { agreement = ImportedCase.Agreement(signedOn: signedOn, terms: terms) }
        }
        var visits: [ImportedCase.Visit] = []
        for (index, written) in (record.return_visits ?? []).enumerated() {
            let field = "return_visits[\(index)]"
            let visited = time(written.visited_at, "\(field).visited_at", notBefore: settled?.endedAt, earliestName: "the settlement")
            let outcome = choice(written.outcome, "\(field).outcome", from: ["confirmed": ReturnVisitOutcome.confirmed, "unsettled": .unsettled])
            let note = text(written.note, "\(field).note", upTo: 2000, required: false) ?? ""
            if record.agreement == nil { refuse(field, "a return visit follows an agreement") }
            if let visited, let outcome { visits.append(ImportedCase.Visit(visitedAt: visited, outcome: outcome, note: note)) }
        }

        let status = choice(record.status, "status", from: ["open": DisputeCase.Status.open, "resolved": .resolved, "settled": .settled, "closed": .closed])
        let closedAt = time(record.closed_at, "closed_at", required: status == .closed || status == .resolved, notBefore: reportedAt, earliestName: "reported_at")
        let resolution = text(record.resolution, "resolution", upTo: 2000, required: status == .resolved)
        switch status {
        case .settled?: if agreement == nil { refuse("status", "a settled case has an agreement") }
        case .closed?: if visits.last?.outcome != .confirmed { refuse("status", "a closed case's last return visit confirmed the settlement") }
        case .open?: if record.closed_at != nil { refuse("closed_at", "an open case has none") }
        default: break
        }

        guard refusals.isEmpty, let legacyID, let village, let category, let source, let reportedAt, let description, let status else { return nil }
        return ImportedCase(
            line: line, legacyID: legacyID, village: village, category: category, source: source, reportedAt: reportedAt,
            description: description, parties: parties,
            facts: CaseFacts(threatOfViolence: record.threat_of_violence ?? false, threatOfSelfHarm: record.threat_of_self_harm ?? false,
                             repeatIncident: record.repeat_incident ?? false, priorPoliceCalls: calls,
                             minorsInvolved: parties.contains(where: \.minor)),
            rungs: rungs, summons: summons, agreement: agreement, visits: visits, status: status, closedAt: closedAt, resolution: resolution
        )
    }
}
