import Foundation
import PinganConnect

/// The position after the last case of a ListCases page: its `(opened_at, id)`, with
/// opened_at in whole microseconds as PostgreSQL stores it, so no case is skipped.
struct CaseCursor: Sendable {
    let openedAt: Date
    let id: UUID

    init(openedAt: Date, id: UUID) {
        self.openedAt = openedAt
        self.id = id
    }

    /// Parses a page token; `nil` for the first page.
    init?(token: String) throws {
        guard !token.isEmpty else { return nil }
        guard let data = Data(base64Encoded: token), let text = String(data: data, encoding: .utf8),
              case let parts = text.split(separator: "|"), parts.count == 2,
              let micros = Int64(parts[0]), let id = UUID(uuidString: String(parts[1]))
        else { throw ConnectError.invalidArgument(field: "page_token", "is not a token from a previous page") }
        self.init(openedAt: Date(timeIntervalSince1970: Double(micros) / 1_000_000), id: id)
    }

    var token: String {
        let micros = Int64((openedAt.timeIntervalSince1970 * 1_000_000).rounded())
        return Data("\(micros)|\(id.wire)".utf8).base64EncodedString()
    }
}
