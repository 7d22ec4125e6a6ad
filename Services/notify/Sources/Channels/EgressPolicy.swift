import Foundation
import PinganConnect

/// Where notify-service may send a webhook: a strictly formed http or https URL
/// (``WebhookURL``) whose host resolves only to public addresses, so that nobody who may
/// subscribe can make the service probe its own network (a server-side request forgery) and
/// read the answer from `ListDeliveries`. Public means outside every block of
/// ``SpecialPurposeAddresses``; a deployment names the receivers it trusts on its own network
/// as `host:port` entries of ``WebhookAllowList``.
/// The check runs when subscribing and again before every delivery, since DNS can change.
struct EgressPolicy: Sendable {
    let allowed: WebhookAllowList

    init(allowed: WebhookAllowList = .empty) {
        self.allowed = allowed
    }

    /// Checks `text`; the error says what is wrong, without the URL's credentials.
    /// - Returns: where the send may go: curl pins for the addresses checked, and whether an
    ///   entry of the allow list admitted it.
    @discardableResult
    func check(_ text: String) async throws(EgressRefusal) -> EgressClearance {
        let url: WebhookURL
        do {
            url = try WebhookURL(text)
        } catch {
            throw .url(error)
        }
        let addresses: [ResolvedAddress]
        switch url.host {
        case .name(let name) where allowed.admits(name: name, port: url.port):
            // The deployment vouches for the name at this port, and for what its DNS answers.
            return EgressClearance(pins: [], isInternal: true)
        case .address(let address):
            addresses = [address]
        case .name(let name):
            do {
                addresses = try await AddressResolver.addresses(of: name)
            } catch {
                throw .unresolvable(name)
            }
            guard !addresses.isEmpty else { throw .unresolvable(name) }
        }
        var isInternal = false
        for address in addresses {
            if allowed.admits(address, port: url.port) {
                isInternal = true
            } else if let restriction = SpecialPurposeAddresses.restriction(of: address) {
                throw .restricted(host: url.host.description, address: address.description, restriction)
            }
        }
        // A literal address needs no pin: curl does not resolve it.
        guard case .name(let name) = url.host else { return EgressClearance(pins: [], isInternal: isInternal) }
        let pinned = addresses.map { $0.bytes.count == 16 ? "[\($0)]" : "\($0)" }.joined(separator: ",")
        return EgressClearance(pins: ["\(name):\(url.port):\(pinned)"], isInternal: isInternal)
    }

    /// The URL as it may be shown or stored: without a user name or password.
    static func redacted(_ text: String) -> String {
        guard var parts = URLComponents(string: text), parts.user != nil || parts.password != nil else { return text }
        parts.user = nil
        parts.password = nil
        return parts.string ?? "(a URL with credentials)"
    }
}

/// Where a checked webhook may go.
struct EgressClearance: Sendable, Equatable {
    /// curl `host:port:address` pins for the addresses checked, so the connection goes where
    /// the check looked and a DNS answer that changes in between (rebinding) is never used;
    /// empty for a literal address and for a name the allow list admits as a name.
    let pins: [String]
    /// True when an entry of the allow list admitted the destination: a host on the
    /// deployment's own network, about which a stored error must tell a subscriber nothing.
    let isInternal: Bool
}

/// Why a webhook URL was refused.
enum EgressRefusal: Error, Equatable, CustomStringConvertible {
    case url(WebhookURLError)
    case unresolvable(String)
    case restricted(host: String, address: String, String)

    var description: String {
        switch self {
        case .url(let error): error.description
        case .unresolvable(let host): "\(host) does not resolve"
        case let .restricted(host, address, why):
            "\(host) resolves to \(address), \(why); only public addresses receive webhooks, and the host:port receivers the deployment allows"
        }
    }
}
