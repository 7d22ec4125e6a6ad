import Foundation
import Synchronization

/// A child process started for a test, with its output in a log file.
///
/// Uses posix_spawn and waitpid directly: Foundation's `Process.waitUntilExit` can miss the
/// exit of a command that leaves a daemon behind (as `pg_ctl restart` does).
///
/// Waiting for a child is awaited, never blocked on: `waitpid` runs on a thread of its own
/// (``ProcessExit``). On Linux the Swift concurrency pool has about one thread per core (two on
/// CI), and every test of the process shares it; a `waitpid` there held a thread for as long as
/// the child ran (a `gateway add-user`, the year generator, `pg_ctl restart`), and two at once
/// stopped every other test, whose calls then outlived their deadlines.
public final class ChildProcess: @unchecked Sendable {
    public let name: String
    public let logPath: String
    private(set) var pid: pid_t

    /// Starts `executable` with `arguments` and `environment` added to the test's own.
    public init(name: String, executable: String, arguments: [String] = [], environment: [String: String], logDirectory: String) throws {
        self.name = name
        logPath = "\(logDirectory)/\(name).log"
        pid = try Self.spawn(executable, arguments, environment, logPath)
    }

    /// Runs a command to completion and returns its exit status and output.
    public static func run(_ executable: String, _ arguments: [String], environment: [String: String], logPath: String) async throws -> (Int32, String) {
        let pid = try spawn(executable, arguments, environment, logPath)
        let status = await ProcessExit.status(of: pid)
        let output = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        return ((status >> 8) & 0xFF, output)
    }

    private static func spawn(_ executable: String, _ arguments: [String], _ environment: [String: String], _ logPath: String) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, logPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var merged = ProcessInfo.processInfo.environment
        for (key, value) in environment { merged[key] = value }
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = merged.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, executable, &actions, nil, argv, envp)
        guard result == 0 else { throw TestSetupError("could not start \(executable): errno \(result)") }
        return pid
    }

    /// Sends `signal` and waits for the process to exit, so that its port and files are free
    /// when this returns (a service restarted on the same port).
    public func stop(signal: Int32 = SIGTERM) async {
        guard let pid = take() else { return }
        kill(pid, signal)
        _ = await ProcessExit.status(of: pid)
    }

    /// Sends `signal` and returns at once; the exit is collected in the background. For a
    /// `defer`, which cannot await, when nothing depends on the process having gone.
    public func stopWithoutWaiting(signal: Int32 = SIGKILL) {
        guard let pid = take() else { return }
        kill(pid, signal)
        ProcessExit.collect(pid)
    }

    public var isRunning: Bool { pid > 0 }

    /// The pid, once: the first stop signals and reaps, later ones do nothing.
    private func take() -> pid_t? {
        guard pid > 0 else { return nil }
        defer { pid = 0 }
        return pid
    }

    deinit { stopWithoutWaiting(signal: SIGKILL) }
}

/// Waits for children to exit on threads of their own, never on a thread of the Swift
/// concurrency pool (see ``ChildProcess``).
enum ProcessExit {
    /// The raw `waitpid` status of `pid`, once it has exited.
    static func status(of pid: pid_t) async -> Int32 {
        await withCheckedContinuation { continuation in
            wait(for: pid) { continuation.resume(returning: $0) }
        }
    }

    /// Reaps `pid` when it exits, so that it does not stay a zombie; nobody waits for it.
    static func collect(_ pid: pid_t) {
        wait(for: pid) { _ in }
    }

    private static func wait(for pid: pid_t, then done: @escaping @Sendable (Int32) -> Void) {
        let thread = Thread {
            var status: Int32 = 0
            while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
            done(status)
        }
        thread.name = "pingan-waitpid"
        thread.start()
    }
}

private let handedOut = Mutex<Set<Int>>([])

/// A free TCP port on loopback for a child process to listen on.
///
/// Chosen below Linux's ephemeral range (32768 and up), so that between this check and the
/// child's own bind no outgoing connection (libpq, libcurl) and no server bound to port 0
/// can be handed the same port; a port in use now is skipped.
public func freePort() throws -> Int {
    for _ in 0..<200 {
        let candidate = Int.random(in: 20_000..<32_000)
        // Never the same port twice in one test run, so parallel tests cannot share one.
        guard handedOut.withLock({ $0.insert(candidate).inserted }) else { continue }
        if onLoopback(candidate, { bind($0, $1, $2) == 0 }) { return candidate }
    }
    throw TestSetupError("could not find a free port between 20000 and 32000")
}

/// Whether a server accepts TCP connections on loopback `port` now: for a child process that
/// must be listening before a test's flow reaches it (a retry's backoff would otherwise
/// decide how long the test takes).
public func accepts(port: Int) -> Bool {
    onLoopback(port) { connect($0, $1, $2) == 0 }
}

/// `call` with a new TCP socket and the address of `port` on 127.0.0.1; the socket is closed after.
private func onLoopback(_ port: Int, _ call: (Int32, UnsafePointer<sockaddr>, socklen_t) -> Bool) -> Bool {
    let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard socket >= 0 else { return false }
    defer { close(socket) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = UInt16(port).bigEndian
    let length = socklen_t(MemoryLayout<sockaddr_in>.size)
    return withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { call(socket, $0, length) }
    }
}

/// Polls `condition` until it holds or `timeout` passes; returns whether it held.
public func eventually(timeout: Duration = .seconds(60), every interval: Duration = .milliseconds(100), _ condition: () async throws -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if (try? await condition()) == true { return true }
        try? await Task.sleep(for: interval)
    }
    return false
}
