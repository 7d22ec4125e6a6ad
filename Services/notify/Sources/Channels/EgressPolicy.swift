import Foundation
import PinganConnect

/// Where notify-service may send a webhook: an http or https URL whose host resolves only to
/// public addresses, so that nobody who may subscribe can make the service probe its own
/// network (a server-side request forgery) and read the answer from `ListDeliveries`.
/// A deployment names the hosts it trusts on its own network in `WEBHOOK_ALLOWED_HOSTS`.
/// The check runs when subscribing and again before every delivery, since DNS can change.
struct EgressPolicy: Sendable {
    /// Host names or literal addresses, lower-case, that may be private.
    let allowedHosts: Set<String>

    /// Checks `text`; the error says what is wrong, without the URL's credentials.
    /// - Returns: curl `host:port:address` pins for the addresses checked, so the
    ///   connection goes where the check looked and a DNS answer that changes in between
    ///   (rebinding) is never used; empty for a host the deployment allowed by name.
    @discardableResult
    func check(_ text: String) async throws(EgressRefusal) -> [String] {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme) else {
            throw .notHTTP
        }
        guard let host = url.host?.lowercased(), !host.isEmpty else { throw .noHost }
        if allowedHosts.contains(host) { return [] }
        let addresses: [ResolvedAddress]
        do {
            addresses = try await AddressResolver.addresses(of: host)
        } catch {
            throw .unresolvable(host)
        }
        guard !addresses.isEmpty else { throw .unresolvable(host) }
        for address in addresses {
            if let restriction = address.restriction, !allowedHosts.contains(address.description) {
                throw .restricted(host: host, address: address.description, restriction)
            }
        }
        // A literal address needs no pin: curl does not resolve it.
        guard ResolvedAddress(literal: host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))) == nil else { return [] }
        let port = url.port ?? (scheme == "https" ? 443 : 80)
        let pinned = addresses.map { $0.bytes.count == 16 ? "[\($0)]" : "\($0)" }.joined(separator: ",")
        return ["\(host):\(port):\(pinned)"]
    }

    /// The URL as it may be shown or stored: without a user name or password.
    static func redacted(_ text: String) -> String {
        guard var parts = URLComponents(string: text), parts.user != nil || parts.password != nil else { return text }
        parts.user = nil
        parts.password = nil
        return parts.string ?? "(a URL with credentials)"
    }
}

/// Why a webhook URL was refused.
enum EgressRefusal: Error, Equatable, CustomStringConvertible {
    case notHTTP
    case noHost
    case unresolvable(String)
    case restricted(host: String, address: String, String)

    var description: String {
        switch self {
        case .notHTTP: "must be an http or https URL"
        case .noHost: "must name a host"
        case .unresolvable(let host): "\(host) does not resolve"
        case let .restricted(host, address, why): "\(host) resolves to \(address), \(why); only public addresses receive webhooks"
        }
    }
}
