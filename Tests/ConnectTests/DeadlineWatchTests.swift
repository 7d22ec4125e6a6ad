@testable import PinganConnect
import Testing

@Suite("One watcher for every call's deadline")
struct DeadlineWatchTests {
    /// Deadlines fire in the order they fall due, a removed one never fires, and an earlier
    /// deadline added after a later one still fires first (the watcher is restarted).
    @Test(.timeLimit(.minutes(1)))
    func deadlinesExpireInOrderAndRemovedOnesNever() async throws {
        let watch = DeadlineWatch()
        let (fired, record) = AsyncStream.makeStream(of: String.self)
        let now = ContinuousClock.now
        let far = watch.add(now + .seconds(3600)) { record.yield("far") }
        _ = watch.add(now + .milliseconds(60)) { record.yield("later") }
        _ = watch.add(now + .milliseconds(30)) { record.yield("sooner") }
        let removed = watch.add(now + .milliseconds(10)) { record.yield("removed") }
        watch.remove(removed)

        var iterator = fired.makeAsyncIterator()
        #expect(await iterator.next() == "sooner")
        #expect(await iterator.next() == "later")
        #expect(watch.count == 1, "only the far deadline is still watched")
        watch.remove(far)
        #expect(watch.count == 0)

        // With nothing left the watcher has ended or will find nothing; a new deadline
        // starts one again.
        _ = watch.add(.now + .milliseconds(5)) { record.yield("again") }
        #expect(await iterator.next() == "again")
        record.finish()
        #expect(await iterator.next() == nil, "nothing else fired, the removed and far deadlines included")
    }
}
