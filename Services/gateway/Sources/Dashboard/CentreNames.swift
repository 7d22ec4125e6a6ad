import Foundation
import Synchronization

/// The names of the centres people act for, for the frame of every page: read from
/// grid-service once and kept for ``lifetime``, so a page does not spend a call on its own
/// centre's name. There are at most as many as centres (2,447 in Changde); a renamed
/// division shows its new name within the lifetime.
final class CentreNames: Sendable {
    let lifetime: TimeInterval
    private let known = Mutex<[String: (name: String, until: Date)]>([:])

    init(lifetime: TimeInterval = 600) {
        self.lifetime = lifetime
    }

    /// The name of centre `code`: the one kept, or else what `read` answers, kept from `now`.
    /// When `read` fails the code stands in, and nothing is kept, so the next page asks again.
    func name(of code: String, now: Date, read: () async throws -> String) async -> String {
        if let kept = known.withLock({ $0[code] }), kept.until > now { return kept.name }
        guard let name = try? await read() else { return code }
        known.withLock { $0[code] = (name, now.addingTimeInterval(lifetime)) }
        return name
    }
}
