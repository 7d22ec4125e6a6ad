import Foundation
import Logging
import PinganAccess
import PinganPostgres
import ServiceLifecycle
import Synchronization

/// Which people's bearer tokens have ended before they expire: those of a user disabled, or
/// whose password or roles changed, after the token was issued.
///
/// Tokens are signed, not stored, so a gateway cannot look one up; each user instead has a
/// time (`gateway.users.sessions_valid_after`) before which their tokens no longer count.
/// The times of the last token lifetime are kept here in memory, so checking a token costs
/// no database round trip: a change made through this gateway applies at once
/// (``ended(_:at:)``), and one made through another replica or the command line within
/// ``refreshInterval``, when every gateway reads the table again.
final class SessionRevocations: Service, Sendable {
    let pool: PostgresPool
    let logger: Logger
    /// The lifetime of the tokens this gateway issues: a token was issued this long before it expires.
    let tokenLifetime: TimeInterval
    let refreshInterval: Duration
    private let validAfter = Mutex<[String: Date]>([:])

    init(pool: PostgresPool, logger: Logger, tokenLifetime: TimeInterval, refreshInterval: Duration = .seconds(1)) {
        self.pool = pool
        self.logger = logger
        self.tokenLifetime = tokenLifetime
        self.refreshInterval = refreshInterval
    }

    /// Whether `principal`'s token still counts. Only people's tokens can end early; an API
    /// key is looked up on every call, so a revoked one is refused there.
    func isCurrent(_ principal: Principal) -> Bool {
        guard principal.subject.hasPrefix("user:") else { return true }
        let username = String(principal.subject.dropFirst(5))
        guard let after = validAfter.withLock({ $0[username] }) else { return true }
        return principal.expiresAt.addingTimeInterval(-tokenLifetime) >= after
    }

    /// Tokens of `username` issued before `time` end now, on this gateway.
    func ended(_ username: String, at time: Date) {
        validAfter.withLock { known in
            if let current = known[username], current >= time { return }
            known[username] = time
        }
    }

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await self.refresh()
                try? await Task.sleep(for: self.refreshInterval)
            }
        }
    }

    /// Reads the times of the last token lifetime; older ones no longer matter, since every
    /// token issued before them has expired.
    func refresh() async {
        do {
            let rows = try await pool.query(
                "SELECT username, sessions_valid_after FROM gateway.users WHERE sessions_valid_after > $1",
                [Date().addingTimeInterval(-tokenLifetime - 60)]
            )
            var fresh: [String: Date] = [:]
            for row in rows { fresh[try row.decode(String.self, at: 0)] = try row.decode(Date.self, at: 1) }
            validAfter.withLock { known in
                // A change made here a moment ago may not be read back yet; keep the later time.
                for (name, time) in known where (fresh[name] ?? .distantPast) < time && time > Date().addingTimeInterval(-tokenLifetime - 60) {
                    fresh[name] = time
                }
                known = fresh
            }
        } catch {
            logger.warning("reading ended sessions failed; the last ones read still apply", metadata: ["error": "\(error)"])
        }
    }
}
