import PinganOutbox
import Testing

@Suite("outbox wake-up")
struct OutboxWakeupTests {
    /// With an hour-long poll, only a signal can end these waits inside the time limit.
    @Test(.timeLimit(.minutes(1))) func aSignalWakesTheRelayBeforeItsPoll() async {
        let wakeup = OutboxWakeup()
        wakeup.signal()
        await wakeup.wait(upTo: .seconds(3600))
        let waiting = Task { await wakeup.wait(upTo: .seconds(3600)) }
        try? await Task.sleep(for: .milliseconds(50))
        wakeup.signal()
        await waiting.value
    }

    @Test(.timeLimit(.minutes(1))) func withoutASignalTheWaitEndsAtItsTimeout() async {
        await OutboxWakeup().wait(upTo: .milliseconds(20))
    }
}
