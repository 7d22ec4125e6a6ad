import PinganConnect
import PinganPostgres

extension PostgresError: ConnectErrorConvertible {
    /// Database trouble the caller may retry is `unavailable`; anything else is a bug and
    /// answers `internal` without details.
    public var connectError: ConnectError? {
        [.poolTimeout, .connectionFailed, .connectionLost, .poolClosed].contains(code)
            ? ConnectError(.unavailable, "the database is unavailable; try again shortly")
            : nil
    }
}
