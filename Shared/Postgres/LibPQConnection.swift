import CLibPQ
import Foundation

/// The one place that touches libpq: a blocking connection and the pointers it owns.
///
/// - Important: Every method blocks on the network. The pool calls them only from its own
///   threads, never from a Swift concurrency executor or an HTTP event loop, and hands a
///   connection to one task at a time; that exclusivity is what makes `@unchecked Sendable`
///   sound here.
final class LibPQConnection: @unchecked Sendable {
    private let handle: OpaquePointer

    /// Opens a connection; `url` is anything libpq accepts as a connection string or URI.
    init(url: String, applicationName: String, connectTimeoutSeconds: Int, replanFirstAfter: Duration = .seconds(5)) throws {
        replanAfter = replanFirstAfter
        replanAt = .now + replanFirstAfter
        // JIT off unless the URL says otherwise (`options` before `dbname`, so the URL's own
        // `options` win): the services' statements are short, and PostgreSQL compiled any whose
        // estimate passed `jit_above_cost`, such as a county's overdue cases (20 of its 57 ms).
        let keys = ["options", "dbname", "application_name", "connect_timeout", "client_encoding"]
        let values = ["-c jit=off", url, applicationName, String(connectTimeoutSeconds), "UTF8"]
        let connection = withCStringArray(keys) { keyPointers in
            withCStringArray(values) { valuePointers in
                PQconnectdbParams(keyPointers, valuePointers, 1)
            }
        }
        guard let connection else {
            throw PostgresError(.connectionFailed, "libpq could not allocate a connection")
        }
        guard PQstatus(connection) == CONNECTION_OK else {
            let message = Self.errorMessage(connection)
            PQfinish(connection)
            throw PostgresError(.connectionFailed, message)
        }
        // Notices (such as "already exists, skipping") are not errors; keep them off stderr.
        PQsetNoticeProcessor(connection, { _, _ in }, nil)
        handle = connection
    }

    deinit { PQfinish(handle) }

    /// False once libpq has seen the socket close or the server end the session.
    ///
    /// Reads whatever the server sent while the connection sat idle (after a restart that is a
    /// FATAL notice followed by end-of-file), without blocking.
    var isUsable: Bool {
        guard PQstatus(handle) == CONNECTION_OK else { return false }
        for _ in 0..<2 {
            if PQconsumeInput(handle) == 0 { return false }
        }
        return PQstatus(handle) == CONNECTION_OK && PQtransactionStatus(handle) == PQTRANS_IDLE
    }

    /// True when a statement of the open transaction failed: PostgreSQL now refuses every
    /// statement but ROLLBACK, and answers COMMIT by rolling back without an error.
    var inFailedTransaction: Bool { PQtransactionStatus(handle) == PQTRANS_INERROR }

    /// Statements prepared on this connection, by their text and parameter types.
    private var prepared: [PreparedKey: String] = [:]
    private var preparedNames = 0
    /// Beyond this many, statements run unprepared: text built per call (rare here) must not
    /// grow the server's memory without bound.
    static let maxPrepared = 512
    /// When the statements prepared so far are dropped, to be prepared and planned again
    /// with the tables as they are by then; the wait doubles each time, up to
    /// ``maxReplanAfter``.
    private var replanAt: ContinuousClock.Instant
    private var replanAfter: Duration
    static let maxReplanAfter: Duration = .seconds(300)

    private struct PreparedKey: Hashable {
        let sql: String
        let types: [Oid]
    }

    /// Runs one parameterised statement and copies its binary-format result out.
    ///
    /// Each statement is prepared once per connection and executed by name afterwards, so
    /// PostgreSQL parses and plans it once instead of on every call.
    /// - Parameter prepare: false runs the statement unnamed, which PostgreSQL plans for the
    ///   parameters of each run instead of keeping a plan for every value.
    func execute(_ sql: String, _ parameters: [PostgresParameter], prepare: Bool = true) throws -> PostgresRows {
        try Self.refuseNUL(parameters)
        try replanIfDue()
        let types = parameters.map { Oid($0.typeOID) }
        guard prepare, let name = try preparedName(sql, types) else { return try consume(send(sql, types, parameters, as: nil, wait: true)) }
        do {
            return try consume(send(sql, types, parameters, as: name, wait: true))
        } catch let error as PostgresError where error.sqlState == .featureNotSupported {
            // A table changed shape since the statement was prepared ("cached plan must not
            // change result type"): forget the plan and run the statement as written. Inside
            // a transaction the error has aborted it, so the retry could only fail with 25P02
            // and hide this error.
            prepared[PreparedKey(sql: sql, types: types)] = nil
            guard !inFailedTransaction else { throw error }
            return try consume(send(sql, types, parameters, as: nil, wait: true))
        }
    }

    /// Runs several statements in one round trip (libpq's pipeline mode) and returns each
    /// one's rows, in order; if one fails, its error (the first) is thrown as a
    /// ``PipelineFailure`` once every result has been read.
    ///
    /// A statement new to this connection is prepared in the pipeline too, just before it
    /// first runs, never ahead of the statements before it: those may be `BEGIN`, a
    /// `SAVEPOINT` or what the caller queued, and a prepare that fails (a typo, an unknown
    /// column) must fail their transaction like any other error rather than leave them
    /// unsent. A failed prepare aborts the rest of the pipeline as a failed statement does.
    func executePipeline(_ statements: [(sql: String, parameters: [PostgresParameter])]) throws -> [PostgresRows] {
        for statement in statements { try Self.refuseNUL(statement.parameters) }
        try replanIfDue()
        guard PQenterPipelineMode(handle) == 1 else { throw PostgresError(.server, Self.errorMessage(handle)) }
        defer { PQexitPipelineMode(handle) }
        // Statements prepared by this pipeline, kept once the server confirms them.
        var preparing: [PreparedKey: String] = [:]
        var prepares: [PreparedKey?] = []
        prepares.reserveCapacity(statements.count)
        for statement in statements {
            let types = statement.parameters.map { Oid($0.typeOID) }
            let key = PreparedKey(sql: statement.sql, types: types)
            var name = prepared[key] ?? preparing[key]
            var prepare: PreparedKey?
            if name == nil, prepared.count + preparing.count < Self.maxPrepared {
                let fresh = "p\(preparedNames)"
                preparedNames += 1
                let sent = types.withUnsafeBufferPointer { PQsendPrepare(handle, fresh, statement.sql, Int32(types.count), $0.baseAddress) }
                guard sent == 1 else { throw PostgresError(.connectionLost, Self.errorMessage(handle)) }
                preparing[key] = fresh
                name = fresh
                prepare = key
            }
            prepares.append(prepare)
            _ = try send(statement.sql, types, statement.parameters, as: name, wait: false)
        }
        guard PQpipelineSync(handle) == 1 else { throw PostgresError(.connectionLost, Self.errorMessage(handle)) }
        var results: [PostgresRows] = []
        var failure: PipelineFailure?
        for (index, prepare) in prepares.enumerated() {
            if let prepare {
                do {
                    _ = try consume(PQgetResult(handle))
                    prepared[prepare] = preparing[prepare]
                } catch {
                    failure = failure ?? PipelineFailure(index: index, error: error)
                }
                while let extra = PQgetResult(handle) { PQclear(extra) }
            }
            do {
                results.append(try consume(PQgetResult(handle)))
            } catch {
                failure = failure ?? PipelineFailure(index: index, error: error)
            }
            // Each statement's results end with a NULL.
            while let extra = PQgetResult(handle) { PQclear(extra) }
        }
        // The sync point, after which the connection is idle again.
        while let result = PQgetResult(handle) {
            let done = PQresultStatus(result) == PGRES_PIPELINE_SYNC
            PQclear(result)
            if done { break }
        }
        if let failure { throw failure }
        return results
    }

    /// Sends one statement, by the name it was prepared under or (`nil`) as written. With
    /// `wait`, runs it and returns its result; otherwise queues it in the pipeline.
    private func send(_ sql: String, _ types: [Oid], _ parameters: [PostgresParameter], as name: String?, wait: Bool) throws -> OpaquePointer? {
        let count = Int32(parameters.count)
        if wait {
            return withOptionalCStringArray(parameters.map(\.text)) { values in
                if let name { return PQexecPrepared(handle, name, count, values, nil, nil, 1) }
                return types.withUnsafeBufferPointer { PQexecParams(handle, sql, count, $0.baseAddress, values, nil, nil, 1) }
            }
        }
        let sent = withOptionalCStringArray(parameters.map(\.text)) { values in
            if let name { return PQsendQueryPrepared(handle, name, count, values, nil, nil, 1) }
            return types.withUnsafeBufferPointer { PQsendQueryParams(handle, sql, count, $0.baseAddress, values, nil, nil, 1) }
        }
        guard sent == 1 else { throw PostgresError(.connectionLost, Self.errorMessage(handle)) }
        return nil
    }

    /// The name `sql` is prepared under on this connection, preparing it the first time (in
    /// a round trip of its own: only for ``execute(_:_:)``, which has nothing to send before
    /// it); `nil` once ``maxPrepared`` statements are, so it runs as written.
    private func preparedName(_ sql: String, _ types: [Oid]) throws -> String? {
        let key = PreparedKey(sql: sql, types: types)
        if let name = prepared[key] { return name }
        guard prepared.count < Self.maxPrepared else { return nil }
        let name = "p\(preparedNames)"
        preparedNames += 1
        _ = try consume(types.withUnsafeBufferPointer { PQprepare(handle, name, sql, Int32(types.count), $0.baseAddress) })
        prepared[key] = name
        return name
    }

    /// Drops every prepared statement once ``replanAt`` has passed, so each is prepared and
    /// planned again. Called before a call names any statement, never between names.
    ///
    /// Only between transactions: in a failed one, PostgreSQL refuses `DEALLOCATE ALL`
    /// (25P02), and that error would stand in for the caller's `ROLLBACK TO SAVEPOINT` or
    /// `ROLLBACK`, which never got sent, and leave the transaction aborted. Inside a healthy
    /// one it would still add a statement of ours to the caller's transaction; a connection
    /// goes back to the pool between transactions, so a due replan waits little.
    private func replanIfDue() throws {
        guard ContinuousClock.now >= replanAt, PQtransactionStatus(handle) == PQTRANS_IDLE else { return }
        _ = try consume(PQexec(handle, "DEALLOCATE ALL"))
        prepared.removeAll()
        replanAfter = min(replanAfter * 2, Self.maxReplanAfter)
        replanAt = .now + replanAfter
    }

    /// libpq takes C strings: a NUL would silently cut a value short, so it is refused.
    /// ``PostgresConnection`` refuses it before a statement is queued or the queue is taken,
    /// so that a refusal here never leaves queued statements unsent.
    static func refuseNUL(_ parameters: [PostgresParameter]) throws {
        if let index = parameters.firstIndex(where: { $0.text?.utf8.contains(0) == true }) {
            throw PostgresError(.invalidParameter, "parameter $\(index + 1) contains a NUL character, which PostgreSQL text cannot hold")
        }
    }

    /// Runs a script of several statements with no parameters, for migrations shipped in code.
    func executeScript(_ sql: String) throws {
        _ = try consume(PQexec(handle, sql))
    }

    /// Runs `COPY ... FROM STDIN` and streams `data`, in COPY's text format, to the server.
    func copyIn(_ sql: String, data: [UInt8]) throws -> Int {
        try beginCopy(sql)
        do {
            try putCopyData(data)
        } catch {
            _ = try? endCopy(failure: "\(error)")
            throw error
        }
        return try endCopy(failure: nil)
    }

    /// Starts `COPY ... FROM STDIN`: the connection then takes only ``putCopyData(_:)`` until
    /// ``endCopy(failure:)``.
    func beginCopy(_ sql: String) throws {
        let started = PQexec(handle, sql)
        defer { PQclear(started) }
        guard PQresultStatus(started) == PGRES_COPY_IN else {
            _ = try consume(started, clear: false)
            throw PostgresError(.server, "COPY did not start")
        }
    }

    /// Sends `data` (whole lines or not) to the COPY under way, in chunks libpq takes at once.
    func putCopyData(_ data: [UInt8]) throws {
        let chunkSize = 64 * 1024
        var offset = 0
        while offset < data.count {
            let end = min(offset + chunkSize, data.count)
            let sent = data[offset..<end].withUnsafeBufferPointer { chunk in
                chunk.withMemoryRebound(to: CChar.self) { PQputCopyData(handle, $0.baseAddress, Int32($0.count)) }
            }
            guard sent == 1 else { throw PostgresError(.connectionLost, Self.errorMessage(handle)) }
            offset = end
        }
    }

    /// Ends the COPY under way: with `failure`, the server discards every row and the COPY
    /// fails with that message, so the connection is idle again either way.
    /// - Returns: the number of rows the server loaded.
    func endCopy(failure: String?) throws -> Int {
        guard PQputCopyEnd(handle, failure) == 1 else {
            throw PostgresError(.connectionLost, Self.errorMessage(handle))
        }
        var affected = 0
        var failed: (any Error)?
        // COPY ends with one command result; drain every result so the connection is idle again.
        while let result = PQgetResult(handle) {
            do {
                affected = try consume(result).affectedRows
            } catch {
                failed = failed ?? error
            }
        }
        if let failed { throw failed }
        return affected
    }

    private func consume(_ result: OpaquePointer?, clear: Bool = true) throws -> PostgresRows {
        guard let result else {
            throw PostgresError(PQstatus(handle) == CONNECTION_OK ? .server : .connectionLost, Self.errorMessage(handle))
        }
        defer { if clear { PQclear(result) } }
        switch PQresultStatus(result) {
        case PGRES_TUPLES_OK, PGRES_COMMAND_OK, PGRES_EMPTY_QUERY:
            return Self.rows(result)
        default:
            let sqlState = Self.field(result, DiagnosticField.sqlState).map(SQLState.init(rawValue:))
            // DETAIL is left out on purpose: for a check or unique violation it quotes the row,
            // and an error's text reaches logs, where personal data must not.
            let message = Self.field(result, DiagnosticField.message) ?? Self.errorMessage(handle)
            let lost = PQstatus(handle) != CONNECTION_OK
            throw PostgresError(
                lost ? .connectionLost : .server, message,
                sqlState: sqlState, constraint: Self.field(result, DiagnosticField.constraint),
                column: Self.field(result, DiagnosticField.column), table: Self.field(result, DiagnosticField.table)
            )
        }
    }

    private static func rows(_ result: OpaquePointer) -> PostgresRows {
        let columnCount = PQnfields(result)
        let rowCount = PQntuples(result)
        let columns = (0..<columnCount).map { column in
            PostgresColumn(name: String(cString: PQfname(result, column)), typeOID: UInt32(PQftype(result, column)))
        }
        var cells: [[[UInt8]?]] = []
        cells.reserveCapacity(Int(rowCount))
        for row in 0..<rowCount {
            var values: [[UInt8]?] = []
            values.reserveCapacity(Int(columnCount))
            for column in 0..<columnCount {
                if PQgetisnull(result, row, column) == 1 {
                    values.append(nil)
                } else {
                    let length = Int(PQgetlength(result, row, column))
                    let bytes = PQgetvalue(result, row, column).map { pointer in
                        pointer.withMemoryRebound(to: UInt8.self, capacity: length) {
                            Array(UnsafeBufferPointer(start: $0, count: length))
                        }
                    }
                    values.append(bytes ?? [])
                }
            }
            cells.append(values)
        }
        let affected = Int(String(cString: PQcmdTuples(result))) ?? 0
        return PostgresRows(columns: columns, cells: cells, affectedRows: affected)
    }

    private static func field(_ result: OpaquePointer, _ code: Int32) -> String? {
        PQresultErrorField(result, code).map { String(cString: $0) }
    }

    private static func errorMessage(_ connection: OpaquePointer) -> String {
        let message = PQerrorMessage(connection).map { String(cString: $0) } ?? ""
        return message.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// The first error of a pipeline, and the position of the statement it came from: the
/// statements before it ran, the ones after it did not.
struct PipelineFailure: Error {
    let index: Int
    let error: any Error
}

/// The `PG_DIAG_*` field codes of libpq's error results, which Swift does not import
/// because they are character-literal macros.
private enum DiagnosticField {
    static let sqlState = Int32(UInt8(ascii: "C"))
    static let message = Int32(UInt8(ascii: "M"))
    static let constraint = Int32(UInt8(ascii: "n"))
    static let column = Int32(UInt8(ascii: "c"))
    static let table = Int32(UInt8(ascii: "t"))
}

/// Calls `body` with a NULL-terminated array of C strings that lives for the call.
private func withCStringArray<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
    withOptionalCStringArray(strings) { pointers in
        body(UnsafePointer(pointers))
    }
}

/// Calls `body` with C strings for `strings` (NULL where `nil`) followed by a NULL terminator.
private func withOptionalCStringArray<R>(
    _ strings: [String?], _ body: (UnsafeMutablePointer<UnsafePointer<CChar>?>) -> R
) -> R {
    let copies: [UnsafeMutablePointer<CChar>?] = strings.map { $0.map { strdup($0) } ?? nil }
    defer { copies.forEach { free($0) } }
    var pointers: [UnsafePointer<CChar>?] = copies.map { copy in copy.map { UnsafePointer($0) } }
    pointers.append(nil)
    return pointers.withUnsafeMutableBufferPointer { buffer in
        guard let base = buffer.baseAddress else {
            preconditionFailure("the array always holds its NULL terminator")
        }
        return body(base)
    }
}
