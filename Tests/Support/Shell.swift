import Foundation

/// Runs `command` with `/bin/sh -c`, its output discarded, and returns its exit status.
///
/// Uses posix_spawn and waitpid directly: Foundation's `Process.waitUntilExit` can miss the
/// exit of a command that leaves a daemon behind (as `pg_ctl restart` does).
public func runShell(_ command: String) throws -> Int32 {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    for descriptor: Int32 in [0, 1, 2] {
        posix_spawn_file_actions_addopen(&actions, descriptor, "/dev/null", descriptor == 0 ? O_RDONLY : O_WRONLY, 0)
    }
    let arguments = ["/bin/sh", "-c", command]
    var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
    defer { argv.forEach { free($0) } }
    var pid: pid_t = 0
    let spawned = posix_spawn(&pid, "/bin/sh", &actions, nil, &argv, environ)
    guard spawned == 0 else { throw TestSetupError("could not start /bin/sh: errno \(spawned)") }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
    return (status >> 8) & 0xFF
}
