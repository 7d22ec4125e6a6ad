import HTTPTypes

/// What a call presents to say who it is, read from its headers here and nowhere else. The
/// gateway looks twice: before the body is read, at the shape (``Forwarder/admit(_:)``), and
/// when the call is forwarded, at whom it names (``Forwarder/authenticate(_:)``).
///
/// `Authorization` wins when both headers are sent, so a person's token is never overridden
/// by a key sent beside it.
enum Credentials: Sendable, Equatable {
    /// `Authorization: Bearer <token>`: a person, with the token `AuthService/Login` issued.
    case bearer(token: String)
    /// An `Authorization` header of any other scheme, which the gateway does not take.
    case otherScheme
    /// `X-Api-Key`: a department system, with the key `gateway add-api-key` printed.
    case apiKey(String)
    /// Neither header.
    case missing

    static let apiKeyHeader = HTTPField.Name("X-Api-Key")

    init(_ headers: HTTPFields) {
        if let authorization = headers[.authorization] {
            self = authorization.hasPrefix("Bearer ") ? .bearer(token: String(authorization.dropFirst(7))) : .otherScheme
        } else if let key = Self.apiKeyHeader.flatMap({ headers[$0] }) {
            self = .apiKey(key)
        } else {
            self = .missing
        }
    }

    /// Whether `key` looks like a key the gateway issues (`pk_` and 64 hex digits, as
    /// ``Accounts/createAPIKey(name:centre:roles:)`` makes them): anything else is refused
    /// before the body is read, without a look-up.
    static func isWellFormed(apiKey key: String) -> Bool {
        key.hasPrefix("pk_") && key.utf8.count == 67
    }
}

extension HTTPFields {
    /// The values of the cookies called `name`, in the order sent: a browser may send one
    /// name twice (a stale path's and the current one), so a caller tries each.
    func cookies(named name: String) -> [String] {
        guard let header = self[.cookie] else { return [] }
        return header.split(separator: ";").compactMap { pair in
            let parts = pair.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            return parts.count == 2 && parts[0] == name ? parts[1] : nil
        }
    }
}
