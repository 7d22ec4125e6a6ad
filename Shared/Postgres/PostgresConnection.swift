import NIOPosix
import Synchronization

/// A connection checked out of a ``PostgresPool`` for the length of one closure.
///
/// Every call runs the blocking libpq work on the pool's own threads, so awaiting it never
/// blocks an event loop or the Swift concurrency pool.
public struct PostgresConnection: Sendable {
    let raw: LibPQConnection
    let threads: NIOThreadPool
    /// Statements of the open transaction not sent yet; `nil` outside a transaction.
    let queued: QueuedStatements?

    init(raw: LibPQConnection, threads: NIOThreadPool, queued: QueuedStatements? = nil) {
        self.raw = raw
        self.threads = threads
        self.queued = queued
    }

    /// Runs one statement with `parameters` bound to `$1`, `$2`, ... and returns its rows.
    @discardableResult
    public func query(_ sql: String, _ parameters: [any PostgresEncodable] = []) async throws -> PostgresRows {
        let encoded = parameters.map(\.postgresParameter)
        guard queued?.isEmpty == false else {
            let raw = self.raw
            return try await threads.runIfActive { try raw.execute(sql, encoded) }
        }
        return try await sendAfterQueued([(sql: sql, parameters: encoded)])[0]
    }

    /// Runs a read planned for its parameters every time, as an unnamed statement: for one
    /// whose best plan depends on them, such as a division's range that may be one village or
    /// the whole city. A prepared statement is planned for its values only for its first five
    /// runs; then PostgreSQL may keep one generic plan for every value, the plan of neither.
    public func queryPlannedEachTime(_ sql: String, _ parameters: [any PostgresEncodable] = []) async throws -> PostgresRows {
        try await flush()
        let encoded = parameters.map(\.postgresParameter)
        let raw = self.raw
        return try await threads.runIfActive { try raw.execute(sql, encoded, prepare: false) }
    }

    /// Runs several statements in one round trip and returns each one's rows, in order: for
    /// reads that need not wait for one another, such as a record and its children.
    @discardableResult
    public func pipeline(_ statements: [PostgresStatement]) async throws -> [PostgresRows] {
        try await sendAfterQueued(statements.map { (sql: $0.sql, parameters: $0.parameters.map(\.postgresParameter)) })
    }

    /// Runs `statements` in one round trip behind whatever ``queue(_:_:)`` holds, and returns
    /// `statements`' rows. If one fails, its error is thrown after `failed` is told where it
    /// was among `statements` (negative: a queued one, so none of `statements` ran).
    ///
    /// A value libpq cannot send is refused before the queue is taken: the queue, and `BEGIN`
    /// in it, must reach the server with a later statement, not be dropped unsent.
    private func sendAfterQueued(
        _ statements: [(sql: String, parameters: [PostgresParameter])], failed: (_ at: Int) -> Void = { _ in }
    ) async throws -> [PostgresRows] {
        for statement in statements { try LibPQConnection.refuseNUL(statement.parameters) }
        let earlier = queued?.take() ?? []
        guard !earlier.isEmpty || !statements.isEmpty else { return [] }
        let raw = self.raw
        do {
            return Array(try await threads.runIfActive { try raw.executePipeline(earlier + statements) }.dropFirst(earlier.count))
        } catch let failure as PipelineFailure {
            failed(failure.index - earlier.count)
            throw failure.error
        }
    }

    /// Queues a statement whose rows nobody reads, such as an insert into a log or an outbox:
    /// inside a transaction it travels with the next statement, or with `COMMIT`, so it costs
    /// no round trip of its own. Outside a transaction it runs at once.
    ///
    /// - Important: If it fails, the later call throws its error; the transaction is lost
    ///   either way, but do not read that error as the later statement's.
    public func queue(_ sql: String, _ parameters: [any PostgresEncodable] = []) async throws {
        guard let queued else {
            try await query(sql, parameters)
            return
        }
        let encoded = parameters.map(\.postgresParameter)
        try LibPQConnection.refuseNUL(encoded)
        queued.append(sql: sql, parameters: encoded)
    }

    /// Sends whatever ``queue(_:_:)`` holds now, so that its errors surface here rather than
    /// with a later statement.
    public func flush() async throws {
        _ = try await sendAfterQueued([])
    }

    /// Runs `body` inside `BEGIN` / `COMMIT`; if `body` throws, the transaction is rolled back
    /// and the error rethrown, so nothing it wrote survives.
    ///
    /// `BEGIN` travels with the transaction's first statement and queued statements
    /// (``queue(_:_:)``) with `COMMIT`, so a transaction costs no round trips beyond its
    /// statements'.
    public func transaction<T>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        let queued = QueuedStatements(first: "BEGIN")
        let inside = PostgresConnection(raw: raw, threads: threads, queued: queued)
        do {
            let value = try await body(inside)
            // A statement that failed inside `body` and was caught there leaves the
            // transaction aborted, and COMMIT would roll everything back without an error.
            guard !raw.inFailedTransaction else {
                throw PostgresError(.server, "the transaction was rolled back: a statement inside it failed", sqlState: .inFailedTransaction)
            }
            try await inside.query("COMMIT")
            return value
        } catch {
            // Nothing to roll back if `BEGIN` never left; if ROLLBACK cannot run, the
            // connection is not idle and the pool discards it.
            if queued.discard() { _ = try? await query("ROLLBACK") }
            throw error
        }
    }

    /// Runs several `;`-separated statements that take no parameters.
    ///
    /// - Important: For SQL that ships in code, such as migrations; never build `sql` from input.
    public func runScript(_ sql: String) async throws {
        try await flush()
        let raw = self.raw
        try await threads.runIfActive { try raw.executeScript(sql) }
    }

    /// Runs `body` behind a savepoint of the transaction this connection is in: if `body`
    /// throws, only what it wrote is rolled back and the transaction goes on, so one failed
    /// step of a batch does not undo the others.
    ///
    /// - Parameter first: statements to send in the same round trip as `SAVEPOINT`; their
    ///   rows are handed to `body`, in order.
    public func savepoint<T>(
        first: [PostgresStatement], _ body: (PostgresConnection, [PostgresRows]) async throws -> T
    ) async throws -> T {
        let opening = [(sql: "SAVEPOINT pingan_step", parameters: [PostgresParameter]())]
            + first.map { (sql: $0.sql, parameters: $0.parameters.map(\.postgresParameter)) }
        var set = false
        do {
            let rows = try await sendAfterQueued(opening) { failedAt in set = failedAt > 0 }
            set = true
            let value = try await body(self, Array(rows.dropFirst()))
            try await query("RELEASE SAVEPOINT pingan_step")
            return value
        } catch {
            // This step's savepoint was not set, so `pingan_step` would name an enclosing
            // step's, or none. Either a statement queued before the step failed, or the
            // transaction had failed already: the error is the enclosing step's or the
            // transaction's, to be rolled back there. Or nothing was sent (a refused value),
            // and what is queued belongs to the transaction.
            guard set else { throw error }
            // What `body` queued is undone by the rollback anyway: it need not be sent.
            _ = queued?.discard()
            // If this fails too, its error says more than `body`'s: the whole transaction is lost.
            try await query("ROLLBACK TO SAVEPOINT pingan_step")
            // ROLLBACK TO keeps the savepoint; released with the next statement, so the next
            // step's savepoint is not nested inside it.
            try await queue("RELEASE SAVEPOINT pingan_step")
            throw error
        }
    }

    /// Bulk-loads `rows` into `table` with `COPY ... FROM STDIN`, much faster than INSERTs.
    ///
    /// - Parameters:
    ///   - table: a plain identifier, optionally schema-qualified (`grid.divisions`).
    ///   - columns: plain identifiers, in the order each row lists its values.
    /// - Returns: the number of rows the server loaded.
    @discardableResult
    public func copy(into table: String, columns: [String], rows: [[any PostgresEncodable]]) async throws -> Int {
        var data: [UInt8] = []
        // A guess at the size (most rows of the imports are 100 to 300 bytes), so the buffer
        // grows a few times rather than dozens.
        data.reserveCapacity(rows.count * columns.count * 24)
        for (index, row) in rows.enumerated() {
            guard row.count == columns.count else {
                throw PostgresError(.invalidParameter, "row \(index + 1) has \(row.count) values for \(columns.count) columns")
            }
            Self.appendCopyRow(row, to: &data)
        }
        return try await copy(into: table, columns: columns, text: data)
    }

    /// Bulk-loads rows already written in COPY's text format (``appendCopyRow(_:to:)``), for a
    /// caller that encodes its rows ahead, while the connection is busy with something else.
    ///
    /// - Parameter data: one line per row, each value as ``appendCopyRow(_:to:)`` writes it,
    ///   in the order of `columns`. A malformed line fails the `COPY` on the server.
    /// - Returns: the number of rows the server loaded.
    @discardableResult
    public func copy(into table: String, columns: [String], text data: [UInt8]) async throws -> Int {
        let sql = try Self.copyStatement(into: table, columns: columns)
        try await flush()
        let raw = self.raw
        return try await threads.runIfActive { try raw.copyIn(sql, data: data) }
    }

    /// Bulk-loads rows in COPY's text format (``appendCopyRow(_:to:)``) as `write` hands them
    /// to its ``CopyWriter``, each part sent while `write` makes the next: for rows that take
    /// about as long to compute as the server takes to load them, so that the two overlap.
    ///
    /// If `write` throws, the `COPY` is abandoned (the server keeps none of its rows, and the
    /// transaction around it fails) and the error rethrown.
    /// - Returns: the number of rows the server loaded.
    @discardableResult
    public func copy(into table: String, columns: [String], _ write: (CopyWriter) async throws -> Void) async throws -> Int {
        let sql = try Self.copyStatement(into: table, columns: columns)
        try await flush()
        let raw = self.raw
        try await threads.runIfActive { try raw.beginCopy(sql) }
        do {
            try await write(CopyWriter(raw: raw, threads: threads))
        } catch {
            _ = try? await threads.runIfActive { try raw.endCopy(failure: "\(error)") }
            throw error
        }
        return try await threads.runIfActive { try raw.endCopy(failure: nil) }
    }

    private static func copyStatement(into table: String, columns: [String]) throws -> String {
        for name in table.split(separator: ".", omittingEmptySubsequences: false).map(String.init) + columns {
            guard isPlainIdentifier(name) else {
                throw PostgresError(.invalidIdentifier, "\"\(name)\" is not a plain lower-case identifier")
            }
        }
        return "COPY \(table) (\(columns.joined(separator: ", "))) FROM STDIN"
    }

    /// Appends `row` to `data` as one line of COPY's text format, for
    /// ``copy(into:columns:text:)``.
    public static func appendCopyRow(_ row: [any PostgresEncodable], to data: inout [UInt8]) {
        for (position, value) in row.enumerated() {
            if position > 0 { data.append(UInt8(ascii: "\t")) }
            appendCopyText(value.postgresParameter.text, to: &data)
        }
        data.append(UInt8(ascii: "\n"))
    }

    static func isPlainIdentifier(_ name: String) -> Bool {
        guard let first = name.utf8.first, first == UInt8(ascii: "_") || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(first) else {
            return false
        }
        return name.utf8.count <= 63 && name.utf8.allSatisfy { byte in
            byte == UInt8(ascii: "_") || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
        }
    }

    /// Appends a value in COPY's text format: `\N` for NULL, and backslash escapes for the
    /// characters that separate columns and rows. NUL, which no PostgreSQL text holds, is left
    /// out: one in a value from outside (a path in the access log) would otherwise fail the
    /// `COPY` of every row around it. Importers refuse it, by line, before they encode.
    static func appendCopyText(_ text: String?, to data: inout [UInt8]) {
        guard var text else {
            data.append(UInt8(ascii: "\\"))
            data.append(UInt8(ascii: "N"))
            return
        }
        // Runs of bytes that need no escape (nearly all of them) are copied whole.
        text.withUTF8 { bytes in
            var start = 0
            for (index, byte) in bytes.enumerated() {
                let escaped: UInt8?
                switch byte {
                case UInt8(ascii: "\\"): escaped = UInt8(ascii: "\\")
                case UInt8(ascii: "\t"): escaped = UInt8(ascii: "t")
                case UInt8(ascii: "\n"): escaped = UInt8(ascii: "n")
                case UInt8(ascii: "\r"): escaped = UInt8(ascii: "r")
                case 0: escaped = nil
                default: continue
                }
                data.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<index]))
                if let escaped {
                    data.append(UInt8(ascii: "\\"))
                    data.append(escaped)
                }
                start = index + 1
            }
            data.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start...]))
        }
    }
}

/// The statements a transaction has queued and not sent yet, in order.
final class QueuedStatements: Sendable {
    private struct State {
        var statements: [(sql: String, parameters: [PostgresParameter])]
        var sentAny = false
    }

    private let state: Mutex<State>

    init(first sql: String) {
        state = Mutex(State(statements: [(sql: sql, parameters: [])]))
    }

    func append(sql: String, parameters: [PostgresParameter]) {
        state.withLock { $0.statements.append((sql: sql, parameters: parameters)) }
    }

    var isEmpty: Bool { state.withLock { $0.statements.isEmpty } }

    /// Empties the queue for sending.
    func take() -> [(sql: String, parameters: [PostgresParameter])] {
        state.withLock { state in
            defer { state.statements.removeAll(keepingCapacity: true) }
            state.sentAny = state.sentAny || !state.statements.isEmpty
            return state.statements
        }
    }

    /// Empties the queue unsent, for a transaction or savepoint being rolled back; true when
    /// something was sent before, so the server has a transaction to roll back.
    func discard() -> Bool {
        state.withLock { state in
            state.statements.removeAll()
            return state.sentAny
        }
    }
}

/// The sending end of a `COPY` under way (``PostgresConnection/copy(into:columns:_:)``).
public struct CopyWriter: Sendable {
    let raw: LibPQConnection
    let threads: NIOThreadPool

    /// Sends lines in COPY's text format; the server loads them while the caller goes on.
    public func send(_ lines: [UInt8]) async throws {
        guard !lines.isEmpty else { return }
        let raw = self.raw
        try await threads.runIfActive { try raw.putCopyData(lines) }
    }
}
