import Foundation
import PinganTestSupport
import Testing

/// The child processes the end-to-end suites start (services, `gateway add-user`, the year
/// generator, `pg_ctl restart`) are waited for without holding a thread: every test of the
/// process shares the Swift concurrency pool, about one thread per core (two on CI).
@Suite("child processes")
struct ChildProcessTests {
    /// On an executor of a single thread, a second task still runs while `run` waits: it lets
    /// the child finish. A wait that blocked the thread (as `waitpid` on the pool once did)
    /// would leave the child waiting for a file nobody creates, until it gives up with 3.
    @Test func waitingForAChildLeavesTheThreadToOtherTasks() async throws {
        let directory = NSTemporaryDirectory() + "pingan-child-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let started = directory + "/started", go = directory + "/go"
        let script = "touch '\(started)'; for i in $(seq 300); do [ -e '\(go)' ] && exit 0; sleep 0.1; done; exit 3"
        let executor = OneThreadExecutor()
        defer { executor.shutdown() }
        let status = try await withTaskExecutorPreference(executor) {
            try await withThrowingTaskGroup(of: Int32?.self) { group in
                group.addTask {
                    try await ChildProcess.run("/bin/sh", ["-c", script], environment: [:], logPath: directory + "/child.log").0
                }
                group.addTask {
                    // Only once the child is being waited for, so that the wait is what this must get past.
                    while !FileManager.default.fileExists(atPath: started) { try await Task.sleep(for: .milliseconds(20)) }
                    _ = FileManager.default.createFile(atPath: go, contents: nil)
                    return nil
                }
                var status: Int32?
                for try await result in group where result != nil { status = result }
                return status
            }
        }
        #expect(status == 0, "the child never saw \(go): waiting for it held the only thread")
    }

    /// `stop` waits for the exit the same way: told to stop, the child waits for a file that
    /// only a second task on the same single thread creates.
    @Test func stoppingAChildLeavesTheThreadToOtherTasks() async throws {
        let directory = NSTemporaryDirectory() + "pingan-child-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try """
            stop() {
              touch "$1/stopping"
              for i in $(seq 300); do if [ -e "$1/go" ]; then touch "$1/saw"; exit 0; fi; sleep 0.1; done
              exit 3
            }
            trap 'stop "$1"' TERM
            touch "$1/ready"
            while :; do sleep 0.1; done
            """.write(toFile: directory + "/child.sh", atomically: true, encoding: .utf8)
        let child = try ChildProcess(
            name: "child", executable: "/bin/sh", arguments: [directory + "/child.sh", directory], environment: [:], logDirectory: directory
        )
        // Signalled before its trap is set, the shell would just exit.
        while !FileManager.default.fileExists(atPath: directory + "/ready") { try await Task.sleep(for: .milliseconds(20)) }
        let executor = OneThreadExecutor()
        defer { executor.shutdown() }
        try await withTaskExecutorPreference(executor) {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await child.stop(signal: SIGTERM) }
                group.addTask {
                    while !FileManager.default.fileExists(atPath: directory + "/stopping") { try await Task.sleep(for: .milliseconds(20)) }
                    _ = FileManager.default.createFile(atPath: directory + "/go", contents: nil)
                }
                try await group.waitForAll()
            }
        }
        #expect(FileManager.default.fileExists(atPath: directory + "/saw"), "the child never saw go: waiting for it held the only thread")
        #expect(!child.isRunning)
    }
}

/// A task executor with one thread of its own. A task that prefers it runs nowhere else, so a
/// call that blocks its thread stops every other such task: the concurrency pool of a CI
/// machine, made small enough to be deterministic on any machine.
private final class OneThreadExecutor: TaskExecutor, @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []
    private var stopped = false

    init() {
        let thread = Thread { [self] in run() }
        thread.name = "one-thread-executor"
        thread.start()
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    /// Ends the thread once the jobs enqueued so far have run.
    func shutdown() {
        condition.lock()
        stopped = true
        condition.signal()
        condition.unlock()
    }

    private func run() {
        while true {
            condition.lock()
            while jobs.isEmpty && !stopped { condition.wait() }
            guard !jobs.isEmpty else {
                condition.unlock()
                return
            }
            let job = jobs.removeFirst()
            condition.unlock()
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }
}
