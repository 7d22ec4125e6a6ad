import Foundation
import PinganAccess
import PinganDomain
import PinganPostgres
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
        guard let values = JSONLine.object(text) else {
            return .refused(ImportRefusal(line: line, field: "json", reason: "not a JSON object on one line"))
        }
        return .fields(ImportFields(line: line, values: values))
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

    /// Days already parsed, by their text: a year of screenings names each day thousands of
    /// times, and parsing one goes through the calendar.
    struct Days {
        private var parsed: [String: Day] = [:]
        /// Enough for thirty years of days; past it, days are parsed each time.
        static let limit = 11_000

        init() {}

        mutating func day(_ text: String) -> Day? {
            if let day = parsed[text] { return day }
            guard let day = Day(parsing: text) else { return nil }
            if parsed.count < Self.limit { parsed[text] = day }
            return day
        }
    }

    /// A day as `YYYY-MM-DD` (China time), not after the day of `now`, with its text (which
    /// is the day's own `YYYY-MM-DD`, as only that form parses).
    mutating func day(_ key: String, notAfter now: Date, days: inout Days) -> (day: Day, text: String)? {
        guard let text = text(key, upTo: 10) else { return nil }
        guard let day = days.day(text) else {
            refuse(key, "\"\(text)\" is not a date as YYYY-MM-DD")
            return nil
        }
        let today = Day(containing: now)
        guard day <= today else {
            refuse(key, "\(day) is after today (\(today), China time)")
            return nil
        }
        return (day, text)
    }
}

/// One line's JSON object, read into its top-level values (a nested array or object is
/// checked and kept only as ``ImportValue/nested``), or `nil` when the line is not exactly one
/// JSON object (RFC 8259; like `JSONSerialization`, which the imports used before, it lets a
/// comma end an object or array, and refuses a number too large for a `Double`).
///
/// Written for the imports' flat records: several times cheaper than `JSONSerialization`,
/// whose `Any` values each cost a dynamic cast, which matters at millions of lines.
struct JSONLine {
    private let bytes: [UInt8]
    private var at = 0
    /// Deeper nesting is refused rather than followed.
    static let maxDepth = 256

    private init(_ text: String) {
        bytes = Array(text.utf8)
    }

    /// The object's values by key (a repeated key keeps its last value); `nil` unless the
    /// text is one JSON object, with nothing but white space around it.
    static func object(_ text: String) -> [String: ImportValue]? {
        var reader = JSONLine(text)
        reader.skipSpace()
        guard reader.peek == UInt8(ascii: "{") else { return nil }
        var values: [String: ImportValue] = [:]
        guard reader.members(depth: 1, { key, value in values[key] = value }) else { return nil }
        reader.skipSpace()
        return reader.at == reader.bytes.count ? values : nil
    }

    private var peek: UInt8? { at < bytes.count ? bytes[at] : nil }

    private mutating func skipSpace() {
        while let byte = peek, byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D { at += 1 }
    }

    /// An object from its `{`: each member handed to `member`; `false` if it is not one.
    private mutating func members(depth: Int, _ member: (String, ImportValue) -> Void) -> Bool {
        at += 1
        skipSpace()
        if peek == UInt8(ascii: "}") {
            at += 1
            return true
        }
        while true {
            skipSpace()
            if peek == UInt8(ascii: "}") {
                at += 1
                return true
            }
            guard peek == UInt8(ascii: "\""), let key = string() else { return false }
            skipSpace()
            guard peek == UInt8(ascii: ":") else { return false }
            at += 1
            skipSpace()
            guard let value = value(depth: depth) else { return false }
            member(key, value)
            skipSpace()
            switch peek {
            case UInt8(ascii: ","): at += 1
            case UInt8(ascii: "}"):
                at += 1
                return true
            default: return false
            }
        }
    }

    /// An array from its `[`; `false` if it is not one.
    private mutating func elements(depth: Int) -> Bool {
        at += 1
        skipSpace()
        if peek == UInt8(ascii: "]") {
            at += 1
            return true
        }
        while true {
            skipSpace()
            if peek == UInt8(ascii: "]") {
                at += 1
                return true
            }
            guard value(depth: depth) != nil else { return false }
            skipSpace()
            switch peek {
            case UInt8(ascii: ","): at += 1
            case UInt8(ascii: "]"):
                at += 1
                return true
            default: return false
            }
        }
    }

    private mutating func value(depth: Int) -> ImportValue? {
        guard let first = peek else { return nil }
        switch first {
        case UInt8(ascii: "\""): return string().map(ImportValue.string)
        case UInt8(ascii: "t"): return literal(Self.trueBytes) ? .bool(true) : nil
        case UInt8(ascii: "f"): return literal(Self.falseBytes) ? .bool(false) : nil
        case UInt8(ascii: "n"): return literal(Self.nullBytes) ? .null : nil
        case UInt8(ascii: "{"):
            guard depth < Self.maxDepth else { return nil }
            return members(depth: depth + 1, { _, _ in }) ? .nested : nil
        case UInt8(ascii: "["):
            guard depth < Self.maxDepth else { return nil }
            return elements(depth: depth + 1) ? .nested : nil
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return number().map(ImportValue.number)
        default: return nil
        }
    }

    private static let trueBytes = Array("true".utf8), falseBytes = Array("false".utf8), nullBytes = Array("null".utf8)

    private mutating func literal(_ word: [UInt8]) -> Bool {
        guard at + word.count <= bytes.count, bytes[at..<at + word.count].elementsEqual(word) else { return false }
        at += word.count
        return true
    }

    private func isDigit(_ byte: UInt8?) -> Bool { byte.map { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) } ?? false }

    private mutating func digits() -> Bool {
        guard isDigit(peek) else { return false }
        while isDigit(peek) { at += 1 }
        return true
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
    private mutating func number() -> Double? {
        let start = at
        if peek == UInt8(ascii: "-") { at += 1 }
        if peek == UInt8(ascii: "0") {
            at += 1
        } else {
            guard digits() else { return nil }
        }
        if peek == UInt8(ascii: ".") {
            at += 1
            guard digits() else { return nil }
        }
        if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
            at += 1
            if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { at += 1 }
            guard digits() else { return nil }
        }
        return Double(String(decoding: bytes[start..<at], as: UTF8.self)).flatMap { $0.isFinite ? $0 : nil }
    }

    /// A string from its opening quote, its escapes decoded.
    private mutating func string() -> String? {
        at += 1
        let start = at
        while let byte = peek {
            switch byte {
            case UInt8(ascii: "\""):
                let text = String(decoding: bytes[start..<at], as: UTF8.self)
                at += 1
                return text
            case UInt8(ascii: "\\"): return escapedString(from: start)
            case 0..<0x20: return nil
            default: at += 1
            }
        }
        return nil
    }

    /// The rest of a string that holds an escape, from `start` (its first byte).
    private mutating func escapedString(from start: Int) -> String? {
        var text = Array(bytes[start..<at])
        while let byte = peek {
            switch byte {
            case UInt8(ascii: "\""):
                at += 1
                return String(decoding: text, as: UTF8.self)
            case 0..<0x20: return nil
            case UInt8(ascii: "\\"):
                at += 1
                guard let code = peek else { return nil }
                at += 1
                switch code {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): text.append(code)
                case UInt8(ascii: "b"): text.append(0x08)
                case UInt8(ascii: "f"): text.append(0x0C)
                case UInt8(ascii: "n"): text.append(0x0A)
                case UInt8(ascii: "r"): text.append(0x0D)
                case UInt8(ascii: "t"): text.append(0x09)
                case UInt8(ascii: "u"):
                    guard let scalar = unicodeEscape() else { return nil }
                    text.append(contentsOf: String(Character(scalar)).utf8)
                default: return nil
                }
            default:
                text.append(byte)
                at += 1
            }
        }
        return nil
    }

    /// The scalar of `\uXXXX` after its `u` (a surrogate pair as one); `nil` for a lone surrogate.
    private mutating func unicodeEscape() -> Unicode.Scalar? {
        guard let high = hex4() else { return nil }
        switch high {
        case 0xD800...0xDBFF:
            guard at + 1 < bytes.count, bytes[at] == UInt8(ascii: "\\"), bytes[at + 1] == UInt8(ascii: "u") else { return nil }
            at += 2
            guard let low = hex4(), (0xDC00...0xDFFF).contains(low) else { return nil }
            return Unicode.Scalar(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))
        case 0xDC00...0xDFFF: return nil
        default: return Unicode.Scalar(high)
        }
    }

    private mutating func hex4() -> UInt32? {
        guard at + 4 <= bytes.count else { return nil }
        var value: UInt32 = 0
        for byte in bytes[at..<at + 4] {
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: return nil
            }
            value = value << 4 | UInt32(digit)
        }
        at += 4
        return value
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
    /// `day` as `YYYY-MM-DD`, as the file gave it (the only form that parses).
    let dayText: String
    let householdsVisited: Int
    let disputesFound: Int
    let recordedAt: Date
    /// The record's own columns as `COPY` text, written when the line is read (while the
    /// batch before is applied): ``ScreeningRecord/ownColumns``, each followed by a tab.
    let copyText: [UInt8]
    static let ownColumns = ["day", "households_visited", "disputes_found", "recorded_at", "legacy_id"]

    /// - Parameter firstKept: the first day the retention policy keeps; older days are refused,
    ///   since the next upkeep would drop them.
    static func read(_ fields: inout ImportFields, now: Date, firstKept: Day?, days: inout ImportFields.Days) -> ScreeningRecord? {
        fields.refuseUnknown(Self.fields)
        let legacyID = fields.text("legacy_id", upTo: 100)
        let grid = fields.text("grid_legacy_id", upTo: 100)
        let reporter = fields.text("reporter_legacy_id", upTo: 100)
        let parsed = fields.day("day", notAfter: now, days: &days)
        var day = parsed?.day
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
        guard fields.refusals.isEmpty, let legacyID, let grid, let reporter, let day, let dayText = parsed?.text, let households, let disputes,
              let recordedAt
        else {
            return nil
        }
        var copyText: [UInt8] = []
        copyText.reserveCapacity(96)
        PostgresConnection.appendCopyRow([dayText, households, disputes, recordedAt, legacyID], to: &copyText)
        copyText[copyText.count - 1] = UInt8(ascii: "\t")
        return ScreeningRecord(
            line: fields.line, legacyID: legacyID, gridLegacyID: grid, reporterLegacyID: reporter, day: day, dayText: dayText,
            householdsVisited: households, disputesFound: disputes, recordedAt: recordedAt, copyText: copyText
        )
    }
}
