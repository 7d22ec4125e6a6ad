import Foundation
import PinganAccess
import PinganDomain
import PinganRuntime

/// The record types grid-service imports, one file each, in this order: a member names its
/// grid, a screening its grid and its reporter, by their ids in the old system.
public enum ImportKind: String, Sendable, CaseIterable {
    case grids, members, screening
}

/// One value of a JSON object, as much of it as the import reads.
enum ImportValue: Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case nested

    /// The value `JSONSerialization` produced. It parses several times faster than
    /// `JSONDecoder` here, which matters at millions of lines; its booleans are `NSNumber`s of
    /// a subclass, told apart from numbers by their class, so `1` is never read as `true`.
    init(_ value: Any) {
        switch value {
        case let text as String: self = .string(text)
        case let number as NSNumber where type(of: number) == NSNumber.self: self = .number(number.doubleValue)
        case let flag as NSNumber: self = .bool(flag.boolValue)
        case is NSNull: self = .null
        default: self = .nested
        }
    }

    var kind: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .nested: "an array or object"
        }
    }
}

/// The fields of one line, read with every problem recorded rather than the first thrown, so a
/// refused line names all its faults at once.
struct ImportFields {
    let line: Int
    let values: [String: ImportValue]
    private(set) var refusals: [ImportRefusal] = []

    /// Parses `text` as one JSON object, or refuses the line when it is not one.
    static func parse(_ text: String, line: Int) -> Parsed {
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
            return .refused(ImportRefusal(line: line, field: "json", reason: "not a JSON object on one line"))
        }
        return .fields(ImportFields(line: line, values: object.mapValues(ImportValue.init)))
    }

    enum Parsed {
        case fields(ImportFields)
        case refused(ImportRefusal)
    }

    mutating func refuse(_ field: String, _ reason: String) {
        refusals.append(ImportRefusal(line: line, field: field, reason: reason))
    }

    /// Refuses every field not in `known`: a misspelt optional field would otherwise be
    /// dropped without a word.
    mutating func refuseUnknown(_ known: Set<String>) {
        for key in values.keys.sorted() where !known.contains(key) {
            refuse(key, "is not a field of this record type (fields: \(known.sorted().joined(separator: ", ")))")
        }
    }

    /// Text of 1 to `limit` code points (as PostgreSQL counts them), trimmed, without control
    /// characters (``String/checkedText(_:length:refusingControls:)``); `nil` when absent and
    /// not required.
    mutating func text(_ key: String, required: Bool = true, upTo limit: Int) -> String? {
        switch values[key] {
        case nil, .null?:
            if required { refuse(key, "is required") }
            return nil
        case .string(let raw)?:
            do {
                return try String.checkedText(raw, length: 1...limit, refusingControls: true)
            } catch .empty {
                refuse(key, "is empty")
                return nil
            } catch {
                refuse(key, error.description)
                return nil
            }
        case let other?:
            refuse(key, "must be a string, not \(other.kind)")
            return nil
        }
    }

    /// A whole number in `range`.
    mutating func integer(_ key: String, in range: ClosedRange<Int>) -> Int? {
        switch values[key] {
        case nil, .null?:
            refuse(key, "is required")
            return nil
        case .number(let value)?:
            guard value.rounded() == value, value >= Double(range.lowerBound), value <= Double(range.upperBound) else {
                refuse(key, "must be a whole number between \(range.lowerBound) and \(range.upperBound), not \(value)")
                return nil
            }
            return Int(value)
        case let other?:
            refuse(key, "must be a number, not \(other.kind)")
            return nil
        }
    }

    /// An RFC 3339 timestamp (`2025-03-01T08:30:00+08:00`) not after `now`.
    mutating func timestamp(_ key: String, notAfter now: Date) -> Date? {
        guard let text = text(key, upTo: 40) else { return nil }
        guard let date = Date(wireTimestamp: text) else {
            refuse(key, "\"\(text)\" is not an RFC 3339 timestamp such as 2025-03-01T08:30:00+08:00")
            return nil
        }
        guard date <= now else {
            refuse(key, "\(text) is in the future")
            return nil
        }
        return date
    }

    /// A day as `YYYY-MM-DD` (China time), not after the day of `now`.
    mutating func day(_ key: String, notAfter now: Date) -> Day? {
        guard let text = text(key, upTo: 10) else { return nil }
        guard let day = Day(parsing: text) else {
            refuse(key, "\"\(text)\" is not a date as YYYY-MM-DD")
            return nil
        }
        let today = Day(containing: now)
        guard day <= today else {
            refuse(key, "\(day) is after today (\(today), China time)")
            return nil
        }
        return day
    }
}

/// A grid as the old system knew it.
struct GridRecord: Sendable {
    static let fields: Set<String> = ["legacy_id", "village_code", "name", "created_at"]
    let line: Int
    let legacyID: String
    let village: DivisionCode
    let name: String
    let createdAt: Date

    /// The record on `fields`, or the refusals of every field at fault.
    static func read(_ fields: inout ImportFields, now: Date) -> GridRecord? {
        fields.refuseUnknown(Self.fields)
        let legacyID = fields.text("legacy_id", upTo: 100)
        var village: DivisionCode?
        if let code = fields.text("village_code", upTo: 12) {
            do {
                let parsed = try DivisionCode(validating: code)
                if parsed.level == .village { village = parsed } else { fields.refuse("village_code", "\(code) is a \(parsed.level.rawValue) code; a grid lies in a village") }
            } catch {
                fields.refuse("village_code", "\(error)")
            }
        }
        let name = fields.text("name", upTo: 100)
        let createdAt = fields.timestamp("created_at", notAfter: now)
        guard fields.refusals.isEmpty, let legacyID, let village, let name, let createdAt else { return nil }
        return GridRecord(line: fields.line, legacyID: legacyID, village: village, name: name, createdAt: createdAt)
    }
}

/// A member of a grid as the old system knew them.
struct MemberRecord: Sendable {
    static let fields: Set<String> = ["legacy_id", "grid_legacy_id", "name", "role", "created_at"]
    static let roles = ["grid_worker", "mediation_director", "political_legal_officer", "safety_volunteer"]
    let line: Int
    let legacyID: String
    let gridLegacyID: String
    let name: String
    let role: String
    let createdAt: Date

    static func read(_ fields: inout ImportFields, now: Date) -> MemberRecord? {
        fields.refuseUnknown(Self.fields)
        let legacyID = fields.text("legacy_id", upTo: 100)
        let grid = fields.text("grid_legacy_id", upTo: 100)
        let name = fields.text("name", upTo: 50)
        var role = fields.text("role", upTo: 40)
        if let given = role, !roles.contains(given) {
            fields.refuse("role", "\"\(given)\" is not one of \(roles.joined(separator: ", "))")
            role = nil
        }
        let createdAt = fields.timestamp("created_at", notAfter: now)
        guard fields.refusals.isEmpty, let legacyID, let grid, let name, let role, let createdAt else { return nil }
        return MemberRecord(line: fields.line, legacyID: legacyID, gridLegacyID: grid, name: name, role: role, createdAt: createdAt)
    }
}

/// A grid's screening of one day as the old system recorded it.
struct ScreeningRecord: Sendable {
    static let fields: Set<String> = [
        "legacy_id", "grid_legacy_id", "reporter_legacy_id", "day", "households_visited", "disputes_found", "recorded_at",
    ]
    let line: Int
    let legacyID: String
    let gridLegacyID: String
    let reporterLegacyID: String
    let day: Day
    let householdsVisited: Int
    let disputesFound: Int
    let recordedAt: Date

    /// - Parameter firstKept: the first day the retention policy keeps; older days are refused,
    ///   since the next upkeep would drop them.
    static func read(_ fields: inout ImportFields, now: Date, firstKept: Day?) -> ScreeningRecord? {
        fields.refuseUnknown(Self.fields)
        let legacyID = fields.text("legacy_id", upTo: 100)
        let grid = fields.text("grid_legacy_id", upTo: 100)
        let reporter = fields.text("reporter_legacy_id", upTo: 100)
        var day = fields.day("day", notAfter: now)
        if let given = day, let firstKept, given < firstKept {
            fields.refuse("day", "\(given) is older than the retention policy keeps (from \(firstKept), SCREENING_RETENTION_MONTHS); it would be dropped")
            day = nil
        }
        let households = fields.integer("households_visited", in: 0...10_000)
        let disputes = fields.integer("disputes_found", in: 0...1000)
        var recordedAt = fields.timestamp("recorded_at", notAfter: now)
        if let given = recordedAt, let day, given < day.start {
            fields.refuse("recorded_at", "\(given.wireTimestamp) is before the day it records (\(day), China time) began")
            recordedAt = nil
        }
        guard fields.refusals.isEmpty, let legacyID, let grid, let reporter, let day, let households, let disputes, let recordedAt else {
            return nil
        }
        return ScreeningRecord(
            line: fields.line, legacyID: legacyID, gridLegacyID: grid, reporterLegacyID: reporter, day: day,
            householdsVisited: households, disputesFound: disputes, recordedAt: recordedAt
        )
    }
}
