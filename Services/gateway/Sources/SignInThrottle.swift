import Foundation
import PinganConnect
import Synchronization

/// Slows password guessing and bounds the bcrypt work anyone can make the gateway do.
///
/// After ``Policy/accountFailures`` wrong passwords for one username within ``Policy/window``,
/// that username is refused for ``Policy/firstLock``, doubling with each further failure up
/// to ``Policy/longestLock``; after ``Policy/addressFailures`` from one address, the address
/// is refused likewise. Refusals are `resource_exhausted` and say when to try again; they
/// cost no bcrypt. At most ``Policy/hashesInFlight`` password checks run at once; beyond
/// that a sign-in is refused at once rather than queued.
final class SignInThrottle: Sendable {
    struct Policy: Sendable {
        var accountFailures = 5
        var addressFailures = 20
        var window: TimeInterval = 15 * 60
        var firstLock: TimeInterval = 60
        var longestLock: TimeInterval = 15 * 60
        var hashesInFlight = 4
        /// Keys remembered at most; the oldest are forgotten first.
        var capacity = 100_000
    }

    private struct Record {
        var failures: [Date] = []
        var lockedUntil: Date?
    }

    let policy: Policy
    private let now: @Sendable () -> Date
    private let records = Mutex<[String: Record]>([:])
    private let hashing = Atomic<Int>(0)

    init(policy: Policy = Policy(), now: @escaping @Sendable () -> Date) {
        self.policy = policy
        self.now = now
    }

    /// Refuses a sign-in while its account or address is locked.
    func admit(account: String, address: String?) throws {
        let at = now()
        for (key, what) in keys(account, address) {
            if let until = records.withLock({ $0[key]?.lockedUntil }), until > at {
                let seconds = Int(until.timeIntervalSince(at).rounded(.up))
                throw ConnectError(.resourceExhausted, "too many failed sign-ins for this \(what); try again in \(seconds) s")
            }
        }
    }

    /// Runs a password check in one of the bounded slots.
    func checking<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        guard hashing.add(1, ordering: .relaxed).newValue <= policy.hashesInFlight else {
            hashing.subtract(1, ordering: .relaxed)
            throw ConnectError(.resourceExhausted, "too many sign-ins at once; try again in 1 s")
        }
        defer { hashing.subtract(1, ordering: .relaxed) }
        return try await body()
    }

    func failed(account: String, address: String?) {
        let at = now()
        records.withLock { records in
            for (key, what) in keys(account, address) {
                var record = records[key] ?? Record()
                record.failures = record.failures.filter { at.timeIntervalSince($0) < policy.window } + [at]
                let limit = what == "account" ? policy.accountFailures : policy.addressFailures
                if record.failures.count >= limit {
                    let doublings = Double(record.failures.count - limit)
                    record.lockedUntil = at.addingTimeInterval(min(policy.longestLock, policy.firstLock * pow(2, doublings)))
                }
                records[key] = record
            }
            if records.count > policy.capacity {
                // Forget whoever failed longest ago.
                let oldest = records.min { ($0.value.failures.last ?? .distantPast) < ($1.value.failures.last ?? .distantPast) }
                if let oldest { records[oldest.key] = nil }
            }
        }
    }

    /// A right password clears the account's failures (not the address's).
    func succeeded(account: String) {
        _ = records.withLock { $0.removeValue(forKey: "account:" + account.lowercased()) }
    }

    private func keys(_ account: String, _ address: String?) -> [(String, String)] {
        [("account:" + account.lowercased(), "account")] + (address.map { [("address:" + $0, "address")] } ?? [])
    }
}
