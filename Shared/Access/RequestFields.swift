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

    /// Free text from a request field, trimmed, whose length is in `length` (0 allows empty).
    ///
    /// Characters are counted the way PostgreSQL counts them (code points, so a name of
    /// combining marks that Swift sees as one character is not let through to fail a
    /// database check), and NUL, which PostgreSQL text cannot hold, is refused here.
    public static func field(_ text: String, _ field: String, length: ClosedRange<Int>) throws -> String {
        let trimmed = text.trimmedOfWhitespace
        guard !trimmed.unicodeScalars.contains("\u{0}") else {
            throw ConnectError.invalidArgument(field: field, "contains a NUL character")
        }
        let count = trimmed.unicodeScalars.count
        if count == 0 {
            guard length.contains(0) else { throw ConnectError.invalidArgument(field: field, "is required") }
            return trimmed
        }
        guard count <= length.upperBound else { throw ConnectError.invalidArgument(field: field, "is longer than \(length.upperBound) characters") }
        guard count >= length.lowerBound else { throw ConnectError.invalidArgument(field: field, "is shorter than \(length.lowerBound) characters") }
        return trimmed
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

    /// One to twenty people, each with a name and at most a phone number.
    public static func parties(_ parties: [Pingan_Grid_V1_Party]) throws {
        guard !parties.isEmpty else { throw ConnectError.invalidArgument(field: "parties", "at least one person is required") }
        guard parties.count <= maxParties else { throw ConnectError.invalidArgument(field: "parties", "at most \(maxParties) people") }
        for (index, party) in parties.enumerated() {
            _ = try String.field(party.name, "parties[\(index)].name", upTo: 50)
            guard party.phone.count <= 20, party.phone.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == "+" || $0 == "-") }) else {
                throw ConnectError.invalidArgument(field: "parties[\(index)].phone", "must be up to 20 digits")
            }
        }
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
