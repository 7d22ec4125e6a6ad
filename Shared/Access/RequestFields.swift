import Foundation
import PinganConnect
import PinganContracts
import PinganDomain

// Request fields parsed into domain values at the door, or `invalid_argument` naming the
// field: the one place handlers turn wire text into the domain's types.

extension DivisionCode {
    /// Parses a division code from a request field, or `invalid_argument` naming it.
    public static func field(_ text: String, _ field: String) throws -> DivisionCode {
        guard !text.isEmpty else { throw ConnectError.invalidArgument(field: field, "is required") }
        do {
            return try DivisionCode(validating: text)
        } catch {
            throw ConnectError.invalidArgument(field: field, error.description)
        }
    }
}

extension String {
    /// Free text from a request field, trimmed; `invalid_argument` naming the field when it is
    /// empty or longer than `limit` characters.
    public static func field(_ text: String, _ field: String, upTo limit: Int) throws -> String {
        try Self.field(text, field, length: 1...limit)
    }

    /// Free text from a request field, trimmed, whose length is in `length` (0 allows empty);
    /// `invalid_argument` naming the field otherwise (``checkedText(_:length:refusingControls:)``).
    public static func field(_ text: String, _ field: String, length: ClosedRange<Int>) throws -> String {
        do {
            return try checkedText(text, length: length)
        } catch {
            throw ConnectError.invalidArgument(field: field, error.description)
        }
    }

    /// Free text, trimmed, whose length is in `length` (0 allows empty), or why not: the one
    /// rule for text wherever it arrives, a request field or a line of an import file.
    ///
    /// Characters are counted the way PostgreSQL counts them (code points, so a name of
    /// combining marks that Swift sees as one character is not let through to fail a
    /// database check), and NUL, which PostgreSQL text cannot hold, is refused here.
    ///
    /// - Parameter refusingControls: refuse every control character (C0, DEL and C1: tabs and
    ///   line breaks inside the text too), not NUL alone.
    public static func checkedText(_ text: String, length: ClosedRange<Int>, refusingControls: Bool = false) throws(TextRefusal) -> String {
        let trimmed = text.trimmedOfWhitespace
        let scalars = trimmed.unicodeScalars
        if refusingControls {
            // Unicode's control characters (general category Cc) are exactly C0, DEL and C1;
            // compared by value, since asking each scalar its category costs at millions of rows.
            guard !scalars.contains(where: { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) }) else { throw .controlCharacter }
        } else {
            guard !scalars.contains("\u{0}") else { throw .nul }
        }
        let count = scalars.count
        if count == 0 {
            guard length.contains(0) else { throw .empty }
            return trimmed
        }
        guard count <= length.upperBound else { throw .longer(than: length.upperBound) }
        guard count >= length.lowerBound else { throw .shorter(than: length.lowerBound) }
        return trimmed
    }
}

/// Why ``String/checkedText(_:length:refusingControls:)`` refused a text, said as a refusal
/// says it after the field's name.
public enum TextRefusal: Error, Equatable, Sendable, CustomStringConvertible {
    /// Nothing but white space, where text is required.
    case empty
    case longer(than: Int)
    case shorter(than: Int)
    case nul
    case controlCharacter

    public var description: String {
        switch self {
        case .empty: "is required"
        case .longer(let limit): "is longer than \(limit) characters"
        case .shorter(let minimum): "is shorter than \(minimum) characters"
        case .nul: "contains a NUL character"
        case .controlCharacter: "contains a control character"
        }
    }
}

extension String {
    /// Without leading and trailing white space: the code points Foundation's
    /// `whitespacesAndNewlines` names (Unicode's White_Space, and U+200B, which Foundation
    /// still counts), read scalar by scalar instead of through `NSString` on every text field
    /// of every request.
    var trimmedOfWhitespace: String {
        func kept(_ scalar: Unicode.Scalar) -> Bool { !scalar.properties.isWhitespace && scalar != "\u{200B}" }
        let scalars = unicodeScalars
        guard let start = scalars.firstIndex(where: kept), let end = scalars.lastIndex(where: kept) else { return "" }
        if start == scalars.startIndex && scalars.index(after: end) == scalars.endIndex { return self }
        return String(scalars[start...end])
    }
}

/// The `page_size` of a list request: 0 for the method's default, else 1 to its maximum.
public enum PageSize {
    public static func field(_ requested: Int32, default defaultSize: Int, max maximum: Int) throws -> Int {
        switch requested {
        case 0: defaultSize
        case 1...Int32(maximum): Int(requested)
        default: throw ConnectError.invalidArgument(field: "page_size", "must be between 1 and \(maximum), or 0 for the default of \(defaultSize)")
        }
    }
}

extension UUID {
    /// Parses an id from a request field, or `invalid_argument` naming it.
    public static func field(_ text: String, _ field: String) throws -> UUID {
        guard !text.isEmpty else { throw ConnectError.invalidArgument(field: field, "is required") }
        guard let id = UUID(uuidString: text) else { throw ConnectError.invalidArgument(field: field, "is not a UUID") }
        return id
    }
}

extension Month {
    /// Parses `YYYY-MM`, or `invalid_argument` naming `field`.
    public static func field(_ text: String, _ field: String) throws -> Month {
        guard let month = Month(parsing: text) else {
            throw ConnectError.invalidArgument(field: field, "must be a month as YYYY-MM, got \"\(text)\"")
        }
        return month
    }
}

extension Date {
    /// Parses an optional RFC 3339 time from a request field: `nil` when it is empty, or
    /// `invalid_argument` naming `field`.
    public static func field(_ text: String, _ field: String) throws -> Date? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { return nil }
        guard let date = Date(wireTimestamp: trimmed) else {
            throw ConnectError.invalidArgument(field: field, "must be an RFC 3339 time such as 2026-09-29T10:00:00+08:00")
        }
        return date
    }
}

extension Day {
    /// Parses `YYYY-MM-DD`, or `invalid_argument` naming `field`.
    public static func field(_ text: String, _ field: String) throws -> Day {
        guard let day = Day(parsing: text) else {
            throw ConnectError.invalidArgument(field: field, "must be a date as YYYY-MM-DD, got \"\(text)\"")
        }
        return day
    }
}

extension Int32 {
    /// A count a person entered, or `invalid_argument` naming `field` when outside `range`.
    public static func field(_ value: Int32, _ field: String, in range: ClosedRange<Int32>) throws -> Int {
        guard range.contains(value) else {
            throw ConnectError.invalidArgument(field: field, "must be between \(range.lowerBound) and \(range.upperBound)")
        }
        return Int(value)
    }
}

/// The parts of an incident report that both grid-service (a grid worker's report) and
/// dispute-service (a call, a walk-in, a referral) receive, checked the same way.
public enum ReportFields {
    public static let maxDescription = 2000
    public static let maxParties = 20

    /// The description, trimmed; `invalid_argument` when empty or too long.
    public static func description(_ text: String) throws -> String {
        try String.field(text, "description", upTo: maxDescription)
    }

    /// One to twenty people, each with a name and at most a phone number; returns them with
    /// their names trimmed and their phones read by ``phone(_:_:)`` (empty when none was given).
    @discardableResult
    public static func parties(_ parties: [Pingan_Grid_V1_Party]) throws -> [Pingan_Grid_V1_Party] {
        guard !parties.isEmpty else { throw ConnectError.invalidArgument(field: "parties", "at least one person is required") }
        guard parties.count <= maxParties else { throw ConnectError.invalidArgument(field: "parties", "at most \(maxParties) people") }
        return try parties.enumerated().map { index, party in
            var checked = party
            checked.name = try String.field(party.name, "parties[\(index)].name", upTo: 50)
            checked.phone = try phone(party.phone, "parties[\(index)].phone")
            return checked
        }
    }

    /// A party's phone as people write it, spaces and hyphens included: a mobile number kept as
    /// its 11 digits (``MobilePhone``, the one rule for mobiles), or else a landline with its
    /// area code or a number from abroad, as written (0736-7221234, +852 …); empty when none
    /// was given. A number that starts like a mobile but is not one is a slip of the finger.
    static func phone(_ text: String, _ field: String) throws -> String {
        let compact = text.filter { !$0.isWhitespace }
        guard !compact.isEmpty else { return "" }
        if let mobile = MobilePhone(normalising: text) { return mobile.digits }
        guard !compact.hasPrefix("1"), compact.count <= 20,
              compact.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == "+" || $0 == "-") }) else {
            throw ConnectError.invalidArgument(field: field, "must be a mobile number (11 digits) or a landline with its area code, up to 20 digits, + and -")
        }
        return compact
    }

    /// Earlier police calls: 0 to 100.
    public static func priorPoliceCalls(_ count: Int32) throws {
        guard (0...100).contains(count) else {
            throw ConnectError.invalidArgument(field: "prior_police_calls", "must be between 0 and 100")
        }
    }

    /// A known category.
    public static func category(_ category: Pingan_Grid_V1_IncidentCategory, field: String = "category") throws -> Pingan_Grid_V1_IncidentCategory {
        switch category {
        case .unspecified: throw ConnectError.invalidArgument(field: field, "is required")
        case .UNRECOGNIZED(let value): throw ConnectError.invalidArgument(field: field, "unknown value \(value)")
        default: return category
        }
    }
}
