import NIOPosix

/// A connection checked out of a ``PostgresPool`` for the length of one closure.
///
/// Every call runs the blocking libpq work on the pool's own threads, so awaiting it never
/// blocks an event loop or the Swift concurrency pool.
public struct PostgresConnection: Sendable {
    let raw: LibPQConnection
    let threads: NIOThreadPool

    /// Runs one statement with `parameters` bound to `$1`, `$2`, ... and returns its rows.
    @discardableResult
    public func query(_ sql: String, _ parameters: [any PostgresEncodable] = []) async throws -> PostgresRows {
        let raw = self.raw
        let encoded = parameters.map(\.postgresParameter)
        return try await threads.runIfActive { try raw.execute(sql, encoded) }
    }

    /// Runs several statements in one round trip and returns each one's rows, in order: for
    /// reads that need not wait for one another, such as a record and its children.
    @discardableResult
    public func pipeline(_ statements: [(sql: String, parameters: [any PostgresEncodable])]) async throws -> [PostgresRows] {
        let raw = self.raw
        let encoded = statements.map { (sql: $0.sql, parameters: $0.parameters.map(\.postgresParameter)) }
        return try await threads.runIfActive { try raw.executePipeline(encoded) }
    }

    /// Runs several `;`-separated statements that take no parameters.
    ///
    /// - Important: For SQL that ships in code, such as migrations; never build `sql` from input.
    public func runScript(_ sql: String) async throws {
        let raw = self.raw
        try await threads.runIfActive { try raw.executeScript(sql) }
    }

    /// Runs `body` inside `BEGIN` / `COMMIT`; if `body` throws, the transaction is rolled back
    /// and the error rethrown, so nothing it wrote survives.
    public func transaction<T>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await query("BEGIN")
        do {
            let value = try await body(self)
            // A statement that failed inside `body` and was caught there leaves the
            // transaction aborted, and COMMIT would roll everything back without an error.
            guard !raw.inFailedTransaction else {
                throw PostgresError(.server, "the transaction was rolled back: a statement inside it failed", sqlState: .inFailedTransaction)
            }
            try await query("COMMIT")
            return value
        } catch {
            // If ROLLBACK cannot run, the connection is not idle and the pool discards it.
            _ = try? await query("ROLLBACK")
            throw error
        }
    }

    /// Runs `body` behind a savepoint of the transaction this connection is in: if `body`
    /// throws, only what it wrote is rolled back and the transaction goes on, so one failed
    /// step of a batch does not undo the others.
    ///
    /// - Parameter first: a statement to send in the same round trip as `SAVEPOINT`; its rows
    ///   are handed to `body`.
    public func savepoint<T>(
        first: (sql: String, parameters: [any PostgresEncodable]), _ body: (PostgresConnection, PostgresRows) async throws -> T
    ) async throws -> T {
        do {
            let rows = try await pipeline([(sql: "SAVEPOINT pingan_step", parameters: []), first])
            let value = try await body(self, rows[1])
            try await query("RELEASE SAVEPOINT pingan_step")
            return value
        } catch {
            // If this fails too, its error says more than `body`'s: the whole transaction is lost.
            try await query("ROLLBACK TO SAVEPOINT pingan_step")
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
        for name in table.split(separator: ".", omittingEmptySubsequences: false).map(String.init) + columns {
            guard Self.isPlainIdentifier(name) else {
                throw PostgresError(.invalidIdentifier, "\"\(name)\" is not a plain lower-case identifier")
            }
        }
        var data: [UInt8] = []
        for (index, row) in rows.enumerated() {
            guard row.count == columns.count else {
                throw PostgresError(.invalidParameter, "row \(index + 1) has \(row.count) values for \(columns.count) columns")
            }
            for (position, value) in row.enumerated() {
                if position > 0 { data.append(UInt8(ascii: "\t")) }
                Self.appendCopyText(value.postgresParameter.text, to: &data)
            }
            data.append(UInt8(ascii: "\n"))
        }
        let sql = "COPY \(table) (\(columns.joined(separator: ", "))) FROM STDIN"
        let raw = self.raw
        let payload = data
        return try await threads.runIfActive { try raw.copyIn(sql, data: payload) }
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
    /// characters that separate columns and rows.
    static func appendCopyText(_ text: String?, to data: inout [UInt8]) {
        guard let text else {
            data.append(contentsOf: Array("\\N".utf8))
            return
        }
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\\"): data.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case UInt8(ascii: "\t"): data.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case UInt8(ascii: "\n"): data.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case UInt8(ascii: "\r"): data.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            default: data.append(byte)
            }
        }
    }
}
