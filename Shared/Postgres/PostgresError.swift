/// An error from the PostgreSQL layer.
///
/// Errors carry a stable ``Code`` so callers can branch on what happened, and, when the server
/// rejected a statement, its ``SQLState`` so a unique violation can be told apart from any
/// other failure without parsing messages.
public struct PostgresError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, as a stable value to switch over.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Sendable {
            case connectionFailed = "connection failed"
            case connectionLost = "connection lost"
            case server = "server error"
            case poolTimeout = "pool timeout"
            case poolClosed = "pool closed"
            case decoding = "decoding failed"
            case invalidIdentifier = "invalid identifier"
            case invalidParameter = "invalid parameter"
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The server could not be reached or refused the connection.
        public static let connectionFailed = Code(.connectionFailed)
        /// An established connection broke while it was in use.
        public static let connectionLost = Code(.connectionLost)
        /// The server rejected a statement; ``PostgresError/sqlState`` says why.
        public static let server = Code(.server)
        /// Every connection stayed busy for longer than the pool's acquire timeout.
        public static let poolTimeout = Code(.poolTimeout)
        /// The pool was shut down.
        public static let poolClosed = Code(.poolClosed)
        /// A column could not be decoded into the requested Swift type.
        public static let decoding = Code(.decoding)
        /// A table or column name given to COPY is not a plain identifier.
        public static let invalidIdentifier = Code(.invalidIdentifier)
        /// A parameter value PostgreSQL cannot store, such as text with a NUL character.
        public static let invalidParameter = Code(.invalidParameter)

        public var description: String { base.rawValue }
    }

    public let code: Code
    public let message: String
    /// The five-character SQLSTATE when the server rejected a statement.
    public let sqlState: SQLState?
    /// The constraint the server named, for constraint violations.
    public let constraint: String?
    /// The column the server named (not-null violations), and the table, so a refusal can
    /// say which field it was about.
    public let column: String?
    public let table: String?

    init(_ code: Code, _ message: String, sqlState: SQLState? = nil, constraint: String? = nil, column: String? = nil, table: String? = nil) {
        self.code = code
        self.message = message
        self.sqlState = sqlState
        self.constraint = constraint
        self.column = column
        self.table = table
    }

    /// The column a refused value was meant for: the one the server named, or the one a
    /// check constraint is named after (`<table>_<column>_check`, PostgreSQL's default name).
    public var field: String? {
        if let column { return column }
        guard let constraint, let table, constraint.hasPrefix(table + "_"), constraint.hasSuffix("_check") else { return nil }
        let name = constraint.dropFirst(table.count + 1).dropLast("_check".count)
        return name.isEmpty ? nil : String(name)
    }

    /// True when a unique or primary-key constraint rejected the row.
    public var isUniqueViolation: Bool { sqlState == .uniqueViolation }

    public var description: String {
        var text = "PostgreSQL \(code): \(message)"
        if let sqlState { text += " (SQLSTATE \(sqlState.rawValue))" }
        return text
    }
}

/// A PostgreSQL SQLSTATE code (https://www.postgresql.org/docs/current/errcodes-appendix.html).
public struct SQLState: RawRepresentable, Hashable, Sendable {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    public static let uniqueViolation = SQLState(rawValue: "23505")
    public static let featureNotSupported = SQLState(rawValue: "0A000")
    public static let foreignKeyViolation = SQLState(rawValue: "23503")
    public static let notNullViolation = SQLState(rawValue: "23502")
    public static let checkViolation = SQLState(rawValue: "23514")
    public static let serializationFailure = SQLState(rawValue: "40001")
    public static let deadlockDetected = SQLState(rawValue: "40P01")
    public static let undefinedTable = SQLState(rawValue: "42P01")
    public static let inFailedTransaction = SQLState(rawValue: "25P02")

    /// Whether the server refused the data itself (class 22, a data exception, or class 23,
    /// an integrity constraint such as a row no partition holds): the same statement with
    /// the same values fails again, however often it is retried.
    public var refusesTheData: Bool { rawValue.hasPrefix("22") || rawValue.hasPrefix("23") }
}
