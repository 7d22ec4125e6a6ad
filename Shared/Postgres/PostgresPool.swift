import Logging
import NIOPosix
import Synchronization

/// How to reach PostgreSQL and how many connections to keep.
public struct PostgresConfiguration: Sendable {
    /// A libpq connection string or `postgresql://` URI.
    public var url: String
    /// The most connections open at once; callers beyond that wait.
    public var maxConnections: Int
    /// How long a caller waits for a free connection before ``PostgresError/Code/poolTimeout``.
    public var acquireTimeout: Duration
    public var connectTimeoutSeconds: Int
    /// Shown in `pg_stat_activity`, so operators can tell the services apart.
    public var applicationName: String
    /// How long a connection keeps its first prepared statements before planning them
    /// afresh; the wait doubles after each time, up to five minutes. A plan made while the
    /// tables were small (just after a deployment) would otherwise go on scanning them whole
    /// as they grow.
    public var replanFirstAfter: Duration

    public init(
        url: String, maxConnections: Int = 8, acquireTimeout: Duration = .seconds(5),
        connectTimeoutSeconds: Int = 5, applicationName: String = "pingan", replanFirstAfter: Duration = .seconds(5)
    ) {
        self.url = url
        self.maxConnections = max(1, maxConnections)
        self.acquireTimeout = acquireTimeout
        self.connectTimeoutSeconds = connectTimeoutSeconds
        self.applicationName = applicationName
        self.replanFirstAfter = replanFirstAfter
    }
}

/// A point-in-time view of the pool, for `/metrics`.
public struct PostgresPoolStatistics: Sendable, Equatable {
    /// Connections checked out by callers.
    public var inUse = 0
    /// Connections open and idle.
    public var idle = 0
    /// Callers waiting for a connection.
    public var waiting = 0
}

/// A bounded pool of libpq connections.
///
/// At most ``PostgresConfiguration/maxConnections`` exist; further callers queue and give up
/// after ``PostgresConfiguration/acquireTimeout`` with a clear error instead of hanging. A
/// connection that broke (the server restarted, a rollback failed) is dropped when it comes
/// back or before it is handed out, and a fresh one is opened in its place, so the pool heals
/// by itself after a PostgreSQL restart.
public actor PostgresPool {
    private struct Waiter {
        let id: Int
        let continuation: CheckedContinuation<LibPQConnection, any Error>
        let timer: Task<Void, Never>
    }

    public nonisolated let configuration: PostgresConfiguration
    private nonisolated let threads: NIOThreadPool
    private nonisolated let snapshot = Mutex(PostgresPoolStatistics())
    private let logger: Logger
    private var idle: [LibPQConnection] = []
    private var open = 0
    private var waiters: [Waiter] = []
    private var nextWaiterID = 0
    private var closed = false

    public init(configuration: PostgresConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        threads = NIOThreadPool(numberOfThreads: configuration.maxConnections)
        threads.start()
    }

    /// The pool's current counts, readable without waiting on the pool.
    public nonisolated var statistics: PostgresPoolStatistics { snapshot.withLock { $0 } }

    /// Checks out a connection for the length of `body`, then returns it to the pool.
    public nonisolated func withConnection<T>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        let raw = try await acquire()
        do {
            let value = try await body(PostgresConnection(raw: raw, threads: threads))
            await release(raw)
            return value
        } catch {
            await release(raw)
            throw error
        }
    }

    /// Runs one statement on any free connection.
    @discardableResult
    public nonisolated func query(_ sql: String, _ parameters: [any PostgresEncodable] = []) async throws -> PostgresRows {
        try await withConnection { try await $0.query(sql, parameters) }
    }

    /// ``PostgresConnection/queryPlannedEachTime(_:_:)`` on a connection of the pool.
    public nonisolated func queryPlannedEachTime(_ sql: String, _ parameters: [any PostgresEncodable] = []) async throws -> PostgresRows {
        try await withConnection { try await $0.queryPlannedEachTime(sql, parameters) }
    }

    /// Runs `body` in a transaction on one connection; a throw rolls everything back.
    public nonisolated func transaction<T>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await withConnection { try await $0.transaction(body) }
    }

    /// Closes idle connections, fails waiting callers and stops the pool's threads. Connections
    /// in use are closed as they come back.
    public func close() async {
        guard !closed else { return }
        closed = true
        idle.removeAll()
        open = 0
        for waiter in waiters {
            waiter.timer.cancel()
            waiter.continuation.resume(throwing: PostgresError(.poolClosed, "the pool was closed"))
        }
        waiters.removeAll()
        publish()
        try? await threads.shutdownGracefully()
    }

    private func acquire() async throws -> LibPQConnection {
        guard !closed else { throw PostgresError(.poolClosed, "the pool is closed") }
        while let connection = idle.popLast() {
            if connection.isUsable {
                publish()
                return connection
            }
            open -= 1
            logger.info("dropped a broken idle PostgreSQL connection")
        }
        if open < configuration.maxConnections {
            open += 1
            publish()
            do {
                return try await connect()
            } catch {
                open -= 1
                publish()
                throw error
            }
        }
        return try await withCheckedThrowingContinuation { continuation in
            nextWaiterID += 1
            let id = nextWaiterID
            let timeout = configuration.acquireTimeout
            let timer = Task { [weak self] in
                try? await Task.sleep(for: timeout)
                guard !Task.isCancelled else { return }
                await self?.expire(waiter: id)
            }
            waiters.append(Waiter(id: id, continuation: continuation, timer: timer))
            publish()
        }
    }

    private func release(_ connection: LibPQConnection) {
        guard !closed else { return }
        guard connection.isUsable else {
            open -= 1
            logger.info("dropped a broken PostgreSQL connection")
            replaceForWaiter()
            publish()
            return
        }
        if waiters.isEmpty {
            idle.append(connection)
        } else {
            let waiter = waiters.removeFirst()
            waiter.timer.cancel()
            waiter.continuation.resume(returning: connection)
        }
        publish()
    }

    /// A connection was dropped while callers wait: open a new one for the first of them.
    private func replaceForWaiter() {
        guard !waiters.isEmpty, open < configuration.maxConnections else { return }
        let waiter = waiters.removeFirst()
        waiter.timer.cancel()
        open += 1
        Task {
            do {
                waiter.continuation.resume(returning: try await connect())
            } catch {
                connectFailed()
                waiter.continuation.resume(throwing: error)
            }
        }
    }

    private func connectFailed() {
        open -= 1
        publish()
    }

    private func expire(waiter id: Int) {
        guard let index = waiters.firstIndex(where: { $0.id == id }) else { return }
        let waiter = waiters.remove(at: index)
        publish()
        waiter.continuation.resume(throwing: PostgresError(
            .poolTimeout,
            "no PostgreSQL connection became free within \(configuration.acquireTimeout) (pool size \(configuration.maxConnections))"
        ))
    }

    private nonisolated func connect() async throws -> LibPQConnection {
        let configuration = self.configuration
        return try await threads.runIfActive {
            try LibPQConnection(
                url: configuration.url, applicationName: configuration.applicationName,
                connectTimeoutSeconds: configuration.connectTimeoutSeconds, replanFirstAfter: configuration.replanFirstAfter
            )
        }
    }

    private func publish() {
        let statistics = PostgresPoolStatistics(inUse: open - idle.count, idle: idle.count, waiting: waiters.count)
        snapshot.withLock { $0 = statistics }
    }
}
