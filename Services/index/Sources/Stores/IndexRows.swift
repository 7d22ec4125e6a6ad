import Foundation
import PinganDomain
import PinganPostgres
import PinganRuntime

/// How the index's rows are read from schema `index`: the columns each store selects and
/// their decoding into domain values. An unreadable stored value is an error, never a guess.
enum IndexRows {
    static let versionColumns = "month, version, status, catalogue_version, computed_at, computed_by, reason"
    static let actionColumns = "id, month, division_code, division_name, centre_code, kind, owner, due_on::text, score, status, outcome, done_by, done_at, created_at"
    static let ruleColumns = "centre_code, share_at, remind_below, summon_below, share_days, remind_days, summon_days, share_owner, remind_owner, summon_owner"

    static func decodeVersion(_ row: PostgresRow) throws -> MonthVersion {
        MonthVersion(
            month: try month(try row.decode(String.self, at: 0), "months.month"),
            version: try row.decode(Int.self, at: 1),
            status: try decode(MonthVersion.Status.self, try row.decode(String.self, at: 2), "months.status"),
            catalogueVersion: try row.decode(String.self, at: 3), computedAt: try row.decode(Date.self, at: 4),
            computedBy: try row.decode(String.self, at: 5), reason: try row.decode(String.self, at: 6)
        )
    }

    static func decodeAction(_ row: PostgresRow) throws -> IndexAction {
        let dueOn = try row.decode(String.self, at: 7)
        guard let day = Day(parsing: dueOn) else { throw IndexStoreError.unreadable("actions.due_on", dueOn) }
        return IndexAction(
            id: try row.decode(UUID.self, at: 0), month: try month(try row.decode(String.self, at: 1), "actions.month"),
            division: try row.decode(String.self, at: 2), divisionName: try row.decode(String.self, at: 3),
            centre: try DivisionCode(validating: try row.decode(String.self, at: 4)),
            kind: try decode(ThresholdRule.Kind.self, try row.decode(String.self, at: 5), "actions.kind"),
            owner: try row.decode(String.self, at: 6), dueOn: day, score: try row.decode(Double.self, at: 8),
            status: try decode(IndexAction.Status.self, try row.decode(String.self, at: 9), "actions.status"),
            outcome: try row.decode(String?.self, at: 10), doneBy: try row.decode(String?.self, at: 11),
            doneAt: try row.decode(Date?.self, at: 12), createdAt: try row.decode(Date.self, at: 13)
        )
    }

    /// A month's action as ``ThresholdActions`` compares it: `id, division_code, kind, status`.
    static func decodeExisting(_ row: PostgresRow) throws -> ThresholdActions.Existing {
        ThresholdActions.Existing(
            id: try row.decode(UUID.self, at: 0), division: try row.decode(String.self, at: 1),
            kind: try decode(ThresholdRule.Kind.self, try row.decode(String.self, at: 2), "actions.kind"),
            status: try decode(IndexAction.Status.self, try row.decode(String.self, at: 3), "actions.status")
        )
    }

    /// A centre's rule and the centre it belongs to, from ``ruleColumns``.
    static func decodeRule(_ row: PostgresRow) throws -> (centre: DivisionCode, rule: ThresholdRule) {
        (
            try DivisionCode(validating: try row.decode(String.self, at: 0)),
            ThresholdRule(
                shareAt: try row.decode(Double.self, at: 1), remindBelow: try row.decode(Double.self, at: 2),
                summonBelow: try row.decode(Double.self, at: 3), shareDays: try row.decode(Int.self, at: 4),
                remindDays: try row.decode(Int.self, at: 5), summonDays: try row.decode(Int.self, at: 6),
                shareOwner: try row.decode(String.self, at: 7), remindOwner: try row.decode(String.self, at: 8),
                summonOwner: try row.decode(String.self, at: 9)
            )
        )
    }

    /// A score's indicators as stored (`index.scores.indicators_json`, and `indicators` for
    /// the scores written before migration 5): a JSON array of ``IndicatorValue``s, each written
    /// as ``StoredIndicatorValue`` encodes it (the same members, numbers and escapes as
    /// `JSONEncoder` writes), byte by byte: `JSONEncoder` was a quarter of a month's
    /// computation for the city's 2,447 scores.
    static func indicatorsJSON(_ values: [IndicatorValue]) throws -> PostgresJSON {
        var json: [UInt8] = []
        json.reserveCapacity(values.count * 200)
        json.append(UInt8(ascii: "["))
        for (at, value) in values.enumerated() {
            if at > 0 { json.append(UInt8(ascii: ",")) }
            var first = true
            func key(_ name: StaticString) {
                json.append(UInt8(ascii: first ? "{" : ","))
                first = false
                json.append(UInt8(ascii: "\""))
                name.withUTF8Buffer { json.append(contentsOf: $0) }
                json.append(contentsOf: "\":".utf8)
            }
            // In jsonb's own order (shorter keys first, then byte order), the order the scores
            // written before migration 5 read back in: old and new scores read alike.
            if !value.name.isEmpty { key("name"); JSONText.string(value.name, into: &json) }
            if value.value != 0 { key("value"); JSONText.number(value.value, into: &json) }
            if value.points != 0 { key("points"); JSONText.number(value.points, into: &json) }
            if value.weight != 0 { key("weight"); JSONText.number(value.weight, into: &json) }
            if !value.category.isEmpty { key("category"); JSONText.string(value.category, into: &json) }
            if !value.indicator.isEmpty { key("indicator"); JSONText.string(value.indicator, into: &json) }
            if value.enoughData { key("enoughData"); json.append(contentsOf: "true".utf8) }
            if value.normalised != 0 { key("normalised"); JSONText.number(value.normalised, into: &json) }
            json.append(UInt8(ascii: first ? "{" : "}"))
            if first { json.append(UInt8(ascii: "}")) }
        }
        json.append(UInt8(ascii: "]"))
        return PostgresJSON(String(decoding: json, as: UTF8.self))
    }

    static func decodeIndicators(_ json: PostgresJSON) throws -> [IndicatorValue] {
        try JSONDecoder().decode([StoredIndicatorValue].self, from: Data(json.text.utf8)).map(\.value)
    }

    private static func month(_ text: String, _ column: String) throws -> Month {
        guard let month = Month(parsing: text) else { throw IndexStoreError.unreadable(column, text) }
        return month
    }

    /// A stored value of one of the domain's closed sets.
    private static func decode<T: RawRepresentable>(_: T.Type, _ raw: T.RawValue, _ column: String) throws -> T {
        guard let value = T(rawValue: raw) else { throw IndexStoreError.unreadable(column, "\(raw)") }
        return value
    }
}

/// Why a store could not read what it holds.
enum IndexStoreError: Error, Equatable, CustomStringConvertible {
    /// A stored value that is not one the domain knows: the column and the value.
    case unreadable(String, String)

    var description: String {
        switch self {
        case let .unreadable(column, value): "\(column) holds \"\(value)\", which is not a value Pingan knows"
        }
    }
}

/// An ``IndicatorValue`` in the JSON a score's indicators have always been stored as: the
/// protobuf message `IndicatorValue`'s JSON (lowerCamelCase names, fields at their default
/// value left out), so months stored before and after read the same.
struct StoredIndicatorValue: Codable {
    let value: IndicatorValue

    init(_ value: IndicatorValue) {
        self.value = value
    }

    private enum CodingKeys: String, CodingKey {
        case indicator, value, points, name, category, weight, enoughData, normalised
    }

    init(from decoder: any Decoder) throws {
        let stored = try decoder.container(keyedBy: CodingKeys.self)
        value = IndicatorValue(
            indicator: try stored.decodeIfPresent(String.self, forKey: .indicator) ?? "",
            name: try stored.decodeIfPresent(String.self, forKey: .name) ?? "",
            category: try stored.decodeIfPresent(String.self, forKey: .category) ?? "",
            weight: try stored.decodeIfPresent(Double.self, forKey: .weight) ?? 0,
            enoughData: try stored.decodeIfPresent(Bool.self, forKey: .enoughData) ?? false,
            value: try stored.decodeIfPresent(Double.self, forKey: .value) ?? 0,
            normalised: try stored.decodeIfPresent(Double.self, forKey: .normalised) ?? 0,
            points: try stored.decodeIfPresent(Double.self, forKey: .points) ?? 0
        )
    }

    func encode(to encoder: any Encoder) throws {
        var stored = encoder.container(keyedBy: CodingKeys.self)
        if !value.indicator.isEmpty { try stored.encode(value.indicator, forKey: .indicator) }
        if value.value != 0 { try stored.encode(value.value, forKey: .value) }
        if value.points != 0 { try stored.encode(value.points, forKey: .points) }
        if !value.name.isEmpty { try stored.encode(value.name, forKey: .name) }
        if !value.category.isEmpty { try stored.encode(value.category, forKey: .category) }
        if value.weight != 0 { try stored.encode(value.weight, forKey: .weight) }
        if value.enoughData { try stored.encode(value.enoughData, forKey: .enoughData) }
        if value.normalised != 0 { try stored.encode(value.normalised, forKey: .normalised) }
    }
}

/// JSON values written as `JSONEncoder` writes them (its default settings), for
/// ``IndexRows/indicatorsJSON(_:)``.
enum JSONText {
    /// A string: `"`, `\\` and `/` escaped, the short escapes for \b \f \n \r \t, other control
    /// characters as `\u00XX`, everything else as its UTF-8.
    static func string(_ text: String, into json: inout [UInt8]) {
        json.append(UInt8(ascii: "\""))
        // Names and ids rarely hold anything to escape: then they are copied whole.
        guard text.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") || $0 == UInt8(ascii: "/") }) else {
            json.append(contentsOf: text.utf8)
            json.append(UInt8(ascii: "\""))
            return
        }
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"):
                json.append(UInt8(ascii: "\\"))
                json.append(byte)
            case 0x08: json.append(contentsOf: "\\b".utf8)
            case 0x0C: json.append(contentsOf: "\\f".utf8)
            case 0x0A: json.append(contentsOf: "\\n".utf8)
            case 0x0D: json.append(contentsOf: "\\r".utf8)
            case 0x09: json.append(contentsOf: "\\t".utf8)
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                json.append(contentsOf: "\\u00".utf8)
                json.append(hex[Int(byte >> 4)])
                json.append(hex[Int(byte & 0xF)])
            default:
                json.append(byte)
            }
        }
        json.append(UInt8(ascii: "\""))
    }

    /// A finite number as its shortest round-tripping text, a whole number without `.0`.
    static func number(_ value: Double, into json: inout [UInt8]) {
        var text = value.description
        if text.hasSuffix(".0") { text.removeLast(2) }
        json.append(contentsOf: text.utf8)
    }
}
