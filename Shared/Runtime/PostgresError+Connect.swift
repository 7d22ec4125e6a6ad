import PinganConnect
import PinganPostgres

extension PostgresError: ConnectErrorConvertible {
    /// SQLSTATEs of a value the database refused: data exceptions (class 22), not-null and check violations.
    static let badValue: Set<String> = ["22001", "22003", "22007", "22008", "22021", "22P02", "22P05", "23502", "23514"]

    /// Database trouble the caller may retry is `unavailable`, a transaction that lost a
    /// race with another (a deadlock or serialization failure) is `aborted`, which a client
    /// retries the same way; anything else is a bug and answers `internal` without details.
    public var connectError: ConnectError? {
        if [.poolTimeout, .connectionFailed, .connectionLost, .poolClosed].contains(code) {
            return ConnectError(.unavailable, "the database is unavailable; try again shortly")
        }
        if sqlState == .deadlockDetected || sqlState == .serializationFailure {
            return ConnectError(.aborted, "the change collided with another at the same moment; try again")
        }
        // The last line of defence for input a handler did not check: a value the database
        // cannot hold is the caller's to fix, not a fault of the service.
        if code == .invalidParameter || Self.badValue.contains(sqlState?.rawValue ?? "") {
            let problem = "cannot be stored (too long, out of range or not valid text)"
            // Columns are named as the request's fields are in the .proto files.
            if let field { return .invalidArgument(field: field, problem) }
            return ConnectError(.invalidArgument, "a value in the request \(problem)")
        }
        return nil
    }
}
