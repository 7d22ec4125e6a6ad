import Foundation
import PinganConnect
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
