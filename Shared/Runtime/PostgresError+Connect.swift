import PinganConnect
import PinganPostgres

extension PostgresError: ConnectErrorConvertible {
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
        return nil
    }
}
