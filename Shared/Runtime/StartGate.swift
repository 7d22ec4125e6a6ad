import ServiceLifecycle
import Synchronization

/// Opens once; services that need the migrated schema wait on it.
final class StartGate: Sendable {
    private let isOpen = Mutex(false)

    func open() { isOpen.withLock { $0 = true } }

    /// Returns when the gate opens, or early if the task is cancelled.
    func wait() async {
        while !isOpen.withLock({ $0 }), !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(20))
        }
    }
}

/// Runs `service` only after `gate` opens: a relay must not poll an outbox table that the
/// migrations have not created yet.
struct AfterGate: Service {
    let gate: StartGate
    let service: any Service

    func run() async throws {
        await gate.wait()
        guard !Task.isCancelled else { return }
        try await service.run()
    }
}
