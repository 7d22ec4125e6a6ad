import Foundation
import Hummingbird
import PinganAccess
import PinganConnect
import PinganContracts
import PinganDomain

/// What the gateway does for a resident on the resident pages: texts a one-time code, takes
/// it back for a session, and calls the services on the resident's behalf, vouching for the
/// phone it checked. A session names the phone and nothing else, lasts half an hour, and is
/// signed for the resident pages only (``TokenAudience/resident``), never a staff token.
struct ResidentDesk: Sendable {
    let forwarder: Forwarder
    let codes: ResidentCodes
    let sessions: TokenSigner
    let now: @Sendable () -> Date

    static let cookie = "pingan_resident"
    static let sessionLifetime: TimeInterval = 1800
    static let role = Role(rawValue: "resident")

    /// Texts a new code to `phone`, through notify-service, under the code's id.
    func sendCode(to phone: MobilePhone, peer: String?) async throws {
        let issued = try await codes.issue(phone: phone.digits, now: now())
        _ = try await forwarder.call(
            NotifyServiceMethods.sendResidentText,
            .with {
                $0.phone = phone.digits
                $0.kind = .oneTimeCode
                $0.code = issued.code
            },
            as: forwarder.vouching("service:gateway", roles: [.system]), peer: peer, event: issued.id
        )
    }

    /// Takes `code` for `phone` and answers the session cookie's value.
    func signIn(_ phone: MobilePhone, code: String, now: Date) async throws -> String {
        try await codes.redeem(phone: phone.digits, code: code.filter(\.isNumber), now: now)
        return sessions.sign(Principal(subject: "resident:\(phone.digits)", centre: forwarder.centre, roles: [Self.role],
                                       expiresAt: now.addingTimeInterval(Self.sessionLifetime)))
    }

    /// The phone the request's session cookie names, if the session is good.
    func phone(_ request: Request) -> MobilePhone? {
        for token in request.headers.cookies(named: Self.cookie) {
            guard let principal = try? sessions.verify(token, now: now()), principal.has(Self.role), principal.subject.hasPrefix("resident:")
            else { continue }
            return MobilePhone(normalising: String(principal.subject.dropFirst(9)))
        }
        return nil
    }

    /// A call on behalf of the resident with `phone`, named masked in the access log and in
    /// dispute-service's audit of the read.
    func call<Input, Output>(_ method: ConnectMethod<Input, Output>, _ request: Input, for phone: MobilePhone?, peer: String?) async throws -> Output {
        let subject = phone.map { "resident:\($0.masked)" } ?? "resident:link"
        return try await forwarder.call(method, request, as: forwarder.vouching(subject, roles: [.system]), peer: peer)
    }

    /// The names of `codes` (a village, the centre that has a request), for the resident's
    /// pages; a code whose name cannot be read is shown as the code.
    func names(of codes: Set<String>, peer: String?) async -> [String: String] {
        var names: [String: String] = [:]
        for code in codes where !code.isEmpty {
            let division = try? await forwarder.call(
                DivisionServiceMethods.getDivision, .with { $0.code = code }, as: forwarder.vouching("resident:browsing", roles: []), peer: peer
            ).division
            names[code] = division?.name ?? code
        }
        return names
    }

    /// The divisions under `code`, for a resident choosing their village.
    func children(of code: String, peer: String?) async throws -> [Pingan_Grid_V1_Division] {
        try await forwarder.call(
            DivisionServiceMethods.listChildren, .with { $0.code = code; $0.pageSize = 500 },
            as: forwarder.vouching("resident:browsing", roles: []), peer: peer
        ).divisions
    }
}
