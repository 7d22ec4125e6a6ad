import PinganAccess
import PinganConnect
import PinganDomain

/// Who may do what to accounts: an administrator acts on the users and keys of the subtree
/// of the centre they act for, never above or beside it, and never on their own standing.
///
/// A value without a database or a clock: state in, decision out. The handler applies the
/// decisions (``Decision/require()``); records outside the subtree never reach it, because
/// the store finds accounts within the subtree only, so "elsewhere" and "nowhere" answer
/// alike.
struct AccountAdminRule: Sendable {
    /// The administrator, after the gateway narrowed them to its own centre.
    let admin: Principal

    /// Why a change is refused.
    enum Refusal: Error, Sendable, Equatable, CustomStringConvertible {
        /// A centre the request names lies outside the administrator's subtree.
        case centreOutside(field: String, DivisionCode, subtree: DivisionCode)
        /// An administrator's own account: disabling it, or changing its roles, would let an
        /// administrator lock themselves out (or raise themselves) without a second pair of eyes.
        case ownAccount(String)

        var description: String {
            switch self {
            case .centreOutside(let field, let code, let subtree): "\(field): \(code) is outside the jurisdiction of centre \(subtree)"
            case .ownAccount(let name): "username: \(name) is your own account; another administrator must change it"
            }
        }

        var connectError: ConnectError { ConnectError(.permissionDenied, description) }
    }

    enum Decision: Sendable, Equatable {
        case allowed
        case refused(Refusal)

        /// Throws the refusal as the Connect error callers see.
        func require() throws {
            if case .refused(let refusal) = self { throw refusal.connectError }
        }
    }

    /// The roles an account may hold. `system` is the mesh's own: an account holding it could
    /// deliver forged events.
    static let grantable: [Role] = [.staff, .gridWorker, .mediator, .leader, .admin, .department, .residentApp]

    /// The roles an API key may hold besides: `federation` is a county mesh's relay, a
    /// machine's role that no person signs in with.
    static let keyOnly: [Role] = [.federation]

    /// The administrator's own username, when they are a person (a key acts for no user).
    var ownUsername: String? {
        admin.subject.hasPrefix("user:") ? String(admin.subject.dropFirst(5)) : nil
    }

    /// An account may be placed at, and a listing asked for, a centre of the subtree only.
    func mayUse(_ centre: DivisionCode, field: String) -> Decision {
        admin.covers(centre) ? .allowed : .refused(.centreOutside(field: field, centre, subtree: admin.centre))
    }

    /// Disabling, or setting the roles of, `username`: anyone of the subtree but oneself.
    func mayChangeStanding(of username: String) -> Decision {
        username == ownUsername ? .refused(.ownAccount(username)) : .allowed
    }

    /// The roles named in a request: at least one, each one an account (or, `forKey`, an API
    /// key) may hold.
    static func roles(_ names: [String], field: String = "roles", forKey: Bool = false) throws -> Set<Role> {
        guard !names.isEmpty else { throw ConnectError.invalidArgument(field: field, "at least one role is required") }
        let holdable = forKey ? grantable + keyOnly : grantable
        var roles = Set<Role>()
        for (index, name) in names.enumerated() {
            guard let role = holdable.first(where: { $0.rawValue == name }) else {
                let known = holdable.map(\.rawValue).joined(separator: ", ")
                throw ConnectError.invalidArgument(field: "\(field)[\(index)]", "\"\(name.prefix(40))\" is not a role an account may hold; one of \(known)")
            }
            roles.insert(role)
        }
        // A relay's key carries its county's records and nothing else: held beside another role
        // it would let a machine on the link act as the county's staff.
        if forKey, roles.contains(.federation), roles.count > 1 {
            throw ConnectError.invalidArgument(field: field, "federation is a relay's only role; issue other roles on another key")
        }
        return roles
    }

    /// A federation key acts for a county that runs its own mesh: the level whose records it
    /// sends the city.
    static func federationCentre(_ centre: DivisionCode, roles: Set<Role>, field: String) throws {
        guard roles.contains(.federation), centre.level != .county else { return }
        throw ConnectError.invalidArgument(field: field, "a federation key acts for a county (县、区) centre; \(centre) is not one")
    }

    /// A username or key name: 3 to 64 of `a-z`, `0-9`, `_`, `.` and `-`, as the table's check says.
    static func accountName(_ text: String, field: String) throws -> String {
        guard !text.isEmpty else { throw ConnectError.invalidArgument(field: field, "is required") }
        let allowed = text.utf8.allSatisfy { byte in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "-")
        }
        guard allowed, (3...64).contains(text.utf8.count) else {
            throw ConnectError.invalidArgument(field: field, "must be 3 to 64 of a-z, 0-9, _, . and -")
        }
        return text
    }
}
