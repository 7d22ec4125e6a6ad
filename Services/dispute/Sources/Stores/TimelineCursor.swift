import Foundation
import PinganAccess

/// The position after the last entry of a timeline page listed newest first: the entry's
/// number, the order lines were appended in.
///
/// Timeline lines have no UUID and several may share a time, so they cannot page by
/// ``PageCursor``'s `(time, id)`; their number orders them exactly, and the index on
/// `(case_id, id)` reads a page without touching older lines. The token is opaque to callers,
/// and one from another listing is refused rather than misread.
struct TimelineCursor: PageToken, Equatable {
    /// `dispute.timeline.id` of the last entry shown.
    let entry: Int64

    init(entry: Int64) {
        self.entry = entry
    }

    private static let kind = "timeline"

    /// Parses a page token; `nil` for the first page.
    init?(token: String) throws {
        guard let text = try PageTokenText.decode(token, kind: Self.kind) else { return nil }
        guard let entry = Int64(text), entry > 0 else { throw PageTokenText.invalid }
        self.init(entry: entry)
    }

    var token: String { PageTokenText.encode(kind: Self.kind, String(entry)) }
}
