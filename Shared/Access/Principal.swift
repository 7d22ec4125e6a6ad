import Foundation
import PinganConnect
import PinganDomain

/// Who is calling, for which centre, with which roles.
///
/// The gateway authenticates a user or department system and forwards a signed principal to
/// the services; each service verifies the signature and checks jurisdiction again, so a
/// service reached around the gateway still refuses what the caller may not do.
public struct Principal: Sendable, Hashable, Codable {
    /// `user:<name>`, `apikey:<name>` or `service:<name>`.
    public var subject: String
    /// The centre the caller acts for; it may act on this division and everything below it.
    public var centre: DivisionCode
    public var roles: Set<Role>
    public var expiresAt: Date

    public init(subject: String, centre: DivisionCode, roles: Set<Role>, expiresAt: Date) {
        self.subject = subject
        self.centre = centre
        self.roles = roles
        self.expiresAt = expiresAt
    }

    /// True if `code` lies in this principal's jurisdiction.
    public func covers(_ code: DivisionCode) -> Bool { centre.contains(code) }

    public func has(_ role: Role) -> Bool { roles.contains(role) }

    /// Refuses all but a county mesh's relay: a `federation` key of a county centre. The
    /// method's role rule lets the mesh's own services through too, and they, like a key of
    /// any other level, have nothing of a county's to send the city.
    public func requireCountyRelay(sending what: String) throws {
        guard has(.federation), centre.level == .county else {
            throw ConnectError(.permissionDenied, "only a county's federation key sends \(what)")
        }
    }

    /// The identity services use for event relays between themselves.
    ///
    /// Valid `lifetime` to `lifetime` plus a minute, ending on a whole minute: the same
    /// principal, and so the same signed header, serves a relay's calls for a minute, which
    /// the signer and each receiver then find in their memory of recent tokens, instead of
    /// an HMAC and a JSON encoding on one side and a decoding on the other for every call.
    public static func system(_ service: String, root: DivisionCode, lifetime: TimeInterval = 300, now: Date = Date()) -> Principal {
        let minute = (now.timeIntervalSince1970 / 60).rounded(.down) * 60
        return Principal(subject: "service:\(service)", centre: root, roles: [.system], expiresAt: Date(timeIntervalSince1970: minute + 60 + lifetime))
    }
}

/// What a principal may do. Roles are strings on the wire so new ones need no migration.
public struct Role: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    /// Centre staff: read and act on cases in the centre's territory.
    public static let staff = Role(rawValue: "staff")
    /// Grid workers: report incidents from their grids.
    public static let gridWorker = Role(rawValue: "grid_worker")
    /// Mediators: may reveal parties' personal data on cases they handle (audited).
    public static let mediator = Role(rawValue: "mediator")
    /// Leaders: read the index and rankings.
    public static let leader = Role(rawValue: "leader")
    /// Administrators: register divisions, grids and subscriptions.
    public static let admin = Role(rawValue: "admin")
    /// Department systems (police station, judicial office, ...): act on the cases they
    /// were summoned to, through the gateway with their API key.
    public static let department = Role(rawValue: "department")
    /// A resident app's back end (the city's 平安常德580, say), through its API key: files
    /// residents' requests and reads what is public of them.
    public static let residentApp = Role(rawValue: "resident_app")
    /// A county mesh's relay, through an API key issued at the city's gateway for the county's
    /// centre: sends the city copies of the county's cases (`FederationService`), and nothing else.
    public static let federation = Role(rawValue: "federation")
    /// Services themselves, delivering events; never issued to a person.
    public static let system = Role(rawValue: "system")

    public var description: String { rawValue }
}
