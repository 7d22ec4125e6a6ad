import Hummingbird
import Logging
import ServiceLifecycle

/// Runs an application on a loopback port for the length of `body`, then shuts it down.
///
/// - Parameters:
///   - makeApp: builds the application; it must pass its bound port to the callback it is given.
///   - body: receives the port the server listens on.
public func withLiveServer<App: ApplicationProtocol, R: Sendable>(
    _ makeApp: (_ onServerRunning: @escaping @Sendable (Int) async -> Void) throws -> App,
    _ body: (Int) async throws -> R
) async throws -> R {
    let (ports, announce) = AsyncStream<Int>.makeStream()
    let app = try makeApp { port in announce.yield(port) }
    let group = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [], logger: TestEnvironment.logger))
    return try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask {
            defer { announce.finish() }
            try await group.run()
        }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else {
            // The server stopped before listening: surface its error.
            try await tasks.waitForAll()
            throw TestSetupError("the server stopped before it listened")
        }
        do {
            let result = try await body(port)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            return result
        } catch {
            await group.triggerGracefulShutdown()
            try? await tasks.waitForAll()
            throw error
        }
    }
}
