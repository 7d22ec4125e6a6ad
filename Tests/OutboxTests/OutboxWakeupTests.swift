@testable import PinganOutbox
import Synchronization
import Testing

/// The relay's wake-up, watched through whether a wait is parked rather than through the
/// clock: every wait below has an hour-long timeout, so only a signal can end it.
@Suite("outbox wake-up")
struct OutboxWakeupTests {
    @Test(.timeLimit(.minutes(1))) func aWaitParksUntilASignalEndsIt() async {
        let wakeup = OutboxWakeup()
        let finished = Mutex(false)
        let waiting = Task {
            await wakeup.wait(upTo: .seconds(3600))
            finished.withLock { $0 = true }
        }
        while !wakeup.hasWaiter { await Task.yield() }
        #expect(!finished.withLock { $0 }, "the wait returned without a signal")
        wakeup.signal()
        await waiting.value
        #expect(finished.withLock { $0 })
        #expect(!wakeup.hasWaiter)
    }

    /// A commit that signals while the relay is busy is not lost: the next wait returns at
    /// once, and the signal is used up by it, so the wait after that parks again.
    @Test(.timeLimit(.minutes(1))) func aSignalWithNobodyWaitingIsKeptForTheNextWaitOnly() async {
        let wakeup = OutboxWakeup()
        wakeup.signal()
        wakeup.signal()
        await wakeup.wait(upTo: .seconds(3600))
        #expect(!wakeup.hasWaiter)
        let second = Task { await wakeup.wait(upTo: .seconds(3600)) }
        while !wakeup.hasWaiter { await Task.yield() }
        wakeup.signal()
        await second.value
    }
}
