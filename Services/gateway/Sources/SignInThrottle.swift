import Foundation
import PinganConnect
import Synchronization

/// Slows password guessing and bounds the bcrypt work anyone can make the gateway do.
///
/// Who is refused is ``SignInRule``'s to say; this applies it with the time of day, shared
/// by every sign-in. Refusals are `resource_exhausted` and say when to try again; they cost
/// no bcrypt. At most ``Slots/hashesInFlight`` password checks run at once, and of those at
/// most ``Slots/lockedAddressHashesInFlight`` for attempts from a locked address, so a script
/// spraying names from one address cannot take the slots the rest of the city signs in with;
/// beyond that a sign-in is refused at once rather than queued.
final class SignInThrottle: Sendable {
    struct Slots: Sendable {
        var hashesInFlight = 4
        var lockedAddressHashesInFlight = 1
    }

    let slots: Slots
    private let now: @Sendable () -> Date
    private let rule: Mutex<SignInRule>
    private let hashing = Atomic<Int>(0)
    private let hashingForLockedAddresses = Atomic<Int>(0)

    init(policy: SignInRule.Policy = SignInRule.Policy(), slots: Slots = Slots(), now: @escaping @Sendable () -> Date) {
        rule = Mutex(SignInRule(policy: policy))
        self.slots = slots
        self.now = now
    }

    /// Refuses a sign-in while its account is locked, or its address is and the account has
    /// failed lately; otherwise says how its password is to be checked.
    func admit(account: String, address: String?) throws(ConnectError) -> Admission {
        let at = now()
        switch rule.withLock({ $0.decide(account: account, address: address, at: at) }) {
        case .refuse(let refused): throw ConnectError(.resourceExhausted, refused.description)
        case .check(let addressLocked): return Admission(addressLocked: addressLocked)
        }
    }

    /// A sign-in let through to its password check.
    struct Admission: Sendable {
        fileprivate let addressLocked: Bool
    }

    /// Runs a password check in one of the bounded slots.
    func checking<T: Sendable>(_ admission: Admission, _ body: () async throws -> T) async throws -> T {
        try take(hashing, upTo: slots.hashesInFlight)
        defer { hashing.subtract(1, ordering: .relaxed) }
        guard admission.addressLocked else { return try await body() }
        try take(hashingForLockedAddresses, upTo: slots.lockedAddressHashesInFlight)
        defer { hashingForLockedAddresses.subtract(1, ordering: .relaxed) }
        return try await body()
    }

    func failed(account: String, address: String?) {
        let at = now()
        rule.withLock { $0.failed(account: account, address: address, at: at) }
    }

    /// A right password clears the account's failures (not the address's).
    func succeeded(account: String) {
        rule.withLock { $0.succeeded(account: account) }
    }

    private func take(_ counter: borrowing Atomic<Int>, upTo limit: Int) throws(ConnectError) {
        guard counter.add(1, ordering: .relaxed).newValue <= limit else {
            counter.subtract(1, ordering: .relaxed)
            throw ConnectError(.resourceExhausted, "too many sign-ins at once; try again in 1 s")
        }
    }
}
