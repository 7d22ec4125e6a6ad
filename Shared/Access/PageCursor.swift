import Foundation
import PinganConnect

/// A position in a listing, carried from one page to the next as an opaque token.
public protocol PageToken: Sendable {
    var token: String { get }
}

/// The text of a page token other than ``PageCursor``'s: `kind|position` in base64, so a token
/// from one listing is refused by another instead of being misread as a position in it.
public enum PageTokenText {
    public static func encode(kind: String, _ position: String) -> String {
        Data("\(kind)|\(position)".utf8).base64EncodedString()
    }

    /// The position `token` holds; `nil` for an empty token (the first page), and
    /// `invalid_argument` naming `page_token` for one that is not `kind`'s.
    public static func decode(_ token: String, kind: String) throws -> String? {
        guard !token.isEmpty else { return nil }
        guard let data = Data(base64Encoded: token), let text = String(data: data, encoding: .utf8), text.hasPrefix("\(kind)|") else {
            throw invalid
        }
        return String(text.dropFirst(kind.count + 1))
    }

    public static let invalid = ConnectError.invalidArgument(field: "page_token", "is not a token from a previous page of this listing")
}

/// The position after the last row of a page listed by time (newest first, or soonest first):
/// its `(time, id)`, with the time in whole microseconds as PostgreSQL stores it, so no row is
/// skipped. The token is opaque to callers.
public struct PageCursor: PageToken {
    public let time: Date
    public let id: UUID

    public init(time: Date, id: UUID) {
        self.time = time
        self.id = id
    }

    /// Parses a page token; `nil` for the first page.
    public init?(token: String) throws {
        guard !token.isEmpty else { return nil }
        guard let data = Data(base64Encoded: token), let text = String(data: data, encoding: .utf8),
              case let parts = text.split(separator: "|"), parts.count == 2,
              let micros = Int64(parts[0]), let id = UUID(uuidString: String(parts[1]))
        else { throw ConnectError.invalidArgument(field: "page_token", "is not a token from a previous page") }
        self.init(time: Date(timeIntervalSince1970: Double(micros) / 1_000_000), id: id)
    }

    public var token: String {
        let micros = Int64((time.timeIntervalSince1970 * 1_000_000).rounded())
        return Data("\(micros)|\(id.wire)".utf8).base64EncodedString()
    }
}

/// One page of a listing read with one row more than the page holds: the extra row only says
/// that a next page exists, and the page's last item is where it starts.
public struct Page<Item> {
    public let items: [Item]
    /// Empty on the last page.
    public let nextPageToken: String

    /// - Parameter rows: up to `limit + 1` rows, in listing order.
    public init(_ rows: [Item], limit: Int, cursor: (Item) -> some PageToken) {
        items = Array(rows.prefix(limit))
        nextPageToken = rows.count > limit ? items.last.map { cursor($0).token } ?? "" : ""
    }
}
