import Foundation

/// What sign-in throttling decides, from the failures it has seen: a value without a clock or
/// a lock, so the rule can be tested on its own (``SignInThrottle`` gives it both).
///
/// - **An account** with ``Policy/accountFailures`` wrong passwords within ``Policy/window``
///   is locked for ``Policy/firstLock``, doubling with each further failure up to
///   ``Policy/longestLock``, from every address: that is what stops guessing one password.
/// - **An address** with ``Policy/addressFailures`` failures is locked likewise, but a locked
///   address refuses only attempts on accounts with failures in the window (every name that
///   does not exist fails, so it is among them after its first try). Behind an ingress or a
///   county office's NAT a whole centre shares one address: one script there must not lock
///   out its colleagues, so a right password for an account with no recent failures always
///   goes through. What the address lock stops is spraying: one guess per account per window,
///   and those guesses checked in fewer password slots (``SignInThrottle``).
///
/// A refusal costs no password check.
struct SignInRule: Sendable {
    struct Policy: Sendable {
        var accountFailures = 5
        var addressFailures = 20
        var window: TimeInterval = 15 * 60
        var firstLock: TimeInterval = 60
        var longestLock: TimeInterval = 15 * 60
        /// Keys remembered at most; the oldest are forgotten first.
        var capacity = 100_000
    }

    /// What to do with an attempt before its password is checked.
    enum Decision: Sendable, Equatable {
        /// Check the password. `addressLocked`: the attempt comes from a locked address, for
        /// an account with no recent failures.
        case check(addressLocked: Bool)
        case refuse(SignInRefused)
    }

    private enum Key: Hashable {
        case account(String)
        case address(String)
    }

    private struct Record {
        /// The most recent failures, oldest first; only as many as can still lengthen a lock.
        var failures: [Date] = []
        var lockedUntil: Date?
    }

    let policy: Policy
    private var records: [Key: Record] = [:]

    init(policy: Policy = Policy()) {
        self.policy = policy
    }

    func decide(account: String, address: String?, at now: Date) -> Decision {
        let accountRecord = records[.account(account.lowercased())]
        if let until = accountRecord?.lockedUntil, until > now {
            return .refuse(SignInRefused(holder: .account, retryAfter: until.timeIntervalSince(now)))
        }
        guard let address, let until = records[.address(address)]?.lockedUntil, until > now else { return .check(addressLocked: false) }
        let recentlyFailed = accountRecord?.failures.contains { now.timeIntervalSince($0) < policy.window } ?? false
        return recentlyFailed ? .refuse(SignInRefused(holder: .address, retryAfter: until.timeIntervalSince(now))) : .check(addressLocked: true)
    }

    /// A wrong password, or a name that does not exist: counts against both.
    mutating func failed(account: String, address: String?, at now: Date) {
        fail(.account(account.lowercased()), limit: policy.accountFailures, at: now)
        if let address { fail(.address(address), limit: policy.addressFailures, at: now) }
        if records.count > policy.capacity {
            // Forget whoever failed longest ago.
            let oldest = records.min { ($0.value.failures.last ?? .distantPast) < ($1.value.failures.last ?? .distantPast) }
            if let oldest { records[oldest.key] = nil }
        }
    }

    /// A right password clears the account's failures (not the address's).
    mutating func succeeded(account: String) {
        records[.account(account.lowercased())] = nil
    }

    private mutating func fail(_ key: Key, limit: Int, at now: Date) {
        var record = records[key] ?? Record()
        record.failures = record.failures.filter { now.timeIntervalSince($0) < policy.window } + [now]
        if record.failures.count >= limit {
            let doublings = Double(record.failures.count - limit)
            record.lockedUntil = now.addingTimeInterval(min(policy.longestLock, policy.firstLock * pow(2, doublings)))
        }
        // Past `limit + 64` failures the lock is at its longest whatever the policy, so older
        // ones need not be kept: an address that fails thousands of times costs no more.
        record.failures.removeFirst(max(0, record.failures.count - (limit + 64)))
        records[key] = record
    }
}

/// A sign-in refused without a password check, saying when to try again.
struct SignInRefused: Error, Sendable, Equatable, CustomStringConvertible {
    enum Holder: String, Sendable {
        case account
        case address
    }

    /// Which of the two is locked.
    let holder: Holder
    /// Whole seconds until it opens, rounded up.
    let retryAfter: Int

    init(holder: Holder, retryAfter: TimeInterval) {
        self.holder = holder
        self.retryAfter = Int(retryAfter.rounded(.up))
    }

    var description: String { "too many failed sign-ins for this \(holder.rawValue); try again in \(retryAfter) s" }
}
