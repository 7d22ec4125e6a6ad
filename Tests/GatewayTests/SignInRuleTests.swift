import Foundation
@testable import GatewayService
import PinganConnect
import PinganTestSupport
import Testing

/// The sign-in rule on its own, without a database or a clock: an account is locked by its
/// failures from anywhere; an address by its failures, but only for accounts that are
/// failing, so a whole centre behind one NAT or ingress is not locked out by one script.
@Suite("sign-in rule")
struct SignInRuleTests {
    let start = Date(timeIntervalSince1970: 1_800_000_000)
    let nat = "203.0.113.7"

    @Test func anAccountIsLockedByItsFailuresFromAnywhereDoublingAndARightPasswordClearsThem() {
        var rule = SignInRule()
        for index in 0..<4 {
            rule.failed(account: "xiaodukou", address: "198.51.100.\(index)", at: start)
        }
        #expect(rule.decide(account: "xiaodukou", address: nat, at: start) == .check(addressLocked: false))
        rule.failed(account: "XiaoDuKou", address: nat, at: start)
        #expect(rule.decide(account: "xiaodukou", address: "192.0.2.1", at: start) == .refuse(SignInRefused(holder: .account, retryAfter: 60)))
        #expect(rule.decide(account: "xiaodukou", address: nil, at: start.addingTimeInterval(59.5)) == .refuse(SignInRefused(holder: .account, retryAfter: 0.5)))
        #expect(SignInRefused(holder: .account, retryAfter: 0.5).description == "too many failed sign-ins for this account; try again in 1 s")
        let later = start.addingTimeInterval(61)
        #expect(rule.decide(account: "xiaodukou", address: nat, at: later) == .check(addressLocked: false))
        rule.failed(account: "xiaodukou", address: nat, at: later)
        #expect(rule.decide(account: "xiaodukou", address: nat, at: later) == .refuse(SignInRefused(holder: .account, retryAfter: 120)))
        rule.failed(account: "xiaodukou", address: nat, at: later)
        rule.failed(account: "xiaodukou", address: nat, at: later)
        #expect(rule.decide(account: "xiaodukou", address: nat, at: later) == .refuse(SignInRefused(holder: .account, retryAfter: 480)))
        for _ in 0..<10 { rule.failed(account: "xiaodukou", address: nat, at: later) }
        #expect(rule.decide(account: "xiaodukou", address: nat, at: later) == .refuse(SignInRefused(holder: .account, retryAfter: 900)))

        // Once it opens, the right password clears the failures: the next wrong one starts afresh.
        let opened = later.addingTimeInterval(901)
        rule.succeeded(account: "xiaodukou")
        rule.failed(account: "xiaodukou", address: nil, at: opened)
        #expect(rule.decide(account: "xiaodukou", address: nil, at: opened) == .check(addressLocked: false))
    }

    /// The finding: 1,000 failures from one address (a brute force on one account among them),
    /// and a colleague behind it signs in at once; the account guessed at stays locked, and
    /// the names the script tried are refused there, unchecked.
    @Test func aLockedAddressRefusesOnlyAccountsThatFailedLately() {
        var rule = SignInRule()
        for attempt in 0..<1000 {
            let name = attempt.isMultiple(of: 4) ? "xiaodukou" : "intruder\(attempt)"
            if case .check = rule.decide(account: name, address: nat, at: start) {
                rule.failed(account: name, address: nat, at: start)
            }
        }
        #expect(rule.decide(account: "mengxi", address: nat, at: start) == .check(addressLocked: true))
        #expect(rule.decide(account: "xiaodukou", address: nat, at: start) == .refuse(SignInRefused(holder: .account, retryAfter: 60)))
        #expect(rule.decide(account: "xiaodukou", address: "198.51.100.20", at: start) == .refuse(SignInRefused(holder: .account, retryAfter: 60)))
        #expect(rule.decide(account: "intruder1", address: nat, at: start) == .refuse(SignInRefused(holder: .address, retryAfter: 900)))
        #expect(SignInRefused(holder: .address, retryAfter: 900).description == "too many failed sign-ins for this address; try again in 900 s")
        // Elsewhere, a name that failed once is not locked.
        #expect(rule.decide(account: "intruder1", address: "198.51.100.20", at: start) == .check(addressLocked: false))
        #expect(rule.decide(account: "intruder1", address: nil, at: start) == .check(addressLocked: false))

        // A colleague's wrong password at the locked address: refused there until the lock
        // ends, unless the right one went through meanwhile from elsewhere.
        rule.failed(account: "lixian", address: nat, at: start)
        #expect(rule.decide(account: "lixian", address: nat, at: start) == .refuse(SignInRefused(holder: .address, retryAfter: 900)))
        rule.succeeded(account: "lixian")
        #expect(rule.decide(account: "lixian", address: nat, at: start) == .check(addressLocked: true))

        // The lock ends, and so does the address's hold on failing names.
        let after = start.addingTimeInterval(900)
        #expect(rule.decide(account: "intruder1", address: nat, at: after) == .check(addressLocked: false))
    }

    /// Twenty failures lock the address for a minute, doubling like an account's; a failure
    /// older than the window no longer marks its account as failing.
    @Test func anAddressLockDoublesAndAFailureOutsideTheWindowIsForgotten() {
        var rule = SignInRule()
        for attempt in 0..<19 { rule.failed(account: "name\(attempt)", address: nat, at: start) }
        #expect(rule.decide(account: "name0", address: nat, at: start) == .check(addressLocked: false))
        rule.failed(account: "name19", address: nat, at: start)
        #expect(rule.decide(account: "name0", address: nat, at: start) == .refuse(SignInRefused(holder: .address, retryAfter: 60)))
        rule.failed(account: "name20", address: nat, at: start)
        #expect(rule.decide(account: "name0", address: nat, at: start) == .refuse(SignInRefused(holder: .address, retryAfter: 120)))

        var window = SignInRule()
        window.failed(account: "lixian", address: nil, at: start)
        let later = start.addingTimeInterval(15 * 60 - 30)
        for attempt in 0..<20 { window.failed(account: "name\(attempt)", address: nat, at: later) }
        #expect(window.decide(account: "lixian", address: nat, at: later) == .refuse(SignInRefused(holder: .address, retryAfter: 60)))
        #expect(window.decide(account: "lixian", address: nat, at: later.addingTimeInterval(31)) == .check(addressLocked: true))
    }

    /// Whatever failed before, from wherever: an account with no recent failures is checked,
    /// so its right password goes through.
    @Test func aRightPasswordForAnAccountWithoutRecentFailuresIsAlwaysChecked() {
        var rule = SignInRule()
        var generator = SplitMix(seed: 24)
        let addresses = [nat, "198.51.100.20", "2001:db8::7"]
        for step in 0..<5000 {
            let at = start.addingTimeInterval(Double(step) / 4)
            let address = addresses[Int(generator.next() % 3)]
            rule.failed(account: "guess\(generator.next() % 200)", address: address, at: at)
            let decision = rule.decide(account: "mengxi", address: address, at: at)
            #expect(decision == .check(addressLocked: false) || decision == .check(addressLocked: true))
        }
    }
}

/// A small deterministic generator, so a failure can be replayed.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var value = state
        value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
        value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
        return value ^ (value >> 31)
    }
}

/// Password checks are bounded, and attempts from a locked address take at most one slot:
/// a script spraying names there cannot hold up the rest of the city's sign-ins.
@Suite("sign-in throttle")
struct SignInThrottleTests {
    @Test func aLockedAddressChecksInOneSlotAndTheOthersStayFree() async throws {
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        let throttle = SignInThrottle(now: { start })
        for attempt in 0..<20 { throttle.failed(account: "name\(attempt)", address: "203.0.113.7") }
        let locked = try throttle.admit(account: "mengxi", address: "203.0.113.7")
        let clean = try throttle.admit(account: "mengxi", address: "198.51.100.20")
        await expectCode(.resourceExhausted, containing: "too many failed sign-ins for this address; try again in 60 s") {
            _ = try throttle.admit(account: "name3", address: "203.0.113.7")
        }
        let checked = try await throttle.checking(locked) {
            await expectCode(.resourceExhausted, containing: "too many sign-ins at once; try again in 1 s") {
                _ = try await throttle.checking(locked) { 0 }
            }
            // Three more, from elsewhere, fill the four slots; a fifth is refused.
            return try await throttle.checking(clean) {
                try await throttle.checking(clean) {
                    try await throttle.checking(clean) {
                        await expectCode(.resourceExhausted, containing: "too many sign-ins at once; try again in 1 s") {
                            _ = try await throttle.checking(clean) { 0 }
                        }
                        return 1
                    }
                }
            }
        }
        #expect(checked == 1)
        // The slots are given back.
        #expect(try await throttle.checking(locked) { 2 } == 2)
    }
}
