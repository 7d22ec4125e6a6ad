import Foundation
import PinganConnect
import PinganRuntime

/// `WEBHOOK_ALLOWED_HOSTS`: the receivers on the deployment's own network that may get pushes,
/// each a `host:port` (`10.0.4.7:8443`, `[fd00::7]:443`, `hooks.internal:80`), comma-separated.
///
/// An entry opens one port of one host, never the whole host: allowing `127.0.0.1` used to
/// open every loopback port, so whoever may subscribe could probe the services beside
/// notify-service through its delivery errors. A bare host is therefore refused at start,
/// naming the entry, rather than read as some default port nobody meant.
///
/// An entry that is a name admits exactly that name at that port (its DNS answer is trusted,
/// and not checked); an entry that is an address admits any name that resolves to it, at
/// that port. Either way the destination counts as internal: errors stored for it carry no
/// detail of what answered (``HTTPPushSender``).
public struct WebhookAllowList: Sendable, Equatable {
    public static let variable = "WEBHOOK_ALLOWED_HOSTS"
    /// Nothing allowed: only public addresses receive pushes.
    public static let empty = WebhookAllowList(entries: [])

    let entries: Set<HostAndPort>

    init(entries: Set<HostAndPort>) {
        self.entries = entries
    }

    /// Reads the comma-separated `host:port` entries of `text`; empty entries are skipped.
    public init(_ text: String) throws(ConfigurationError) {
        var entries: Set<HostAndPort> = []
        for raw in text.split(separator: ",") {
            let entry = raw.trimmingCharacters(in: .whitespaces)
            guard !entry.isEmpty else { continue }
            entries.insert(try Self.entry(entry))
        }
        self.init(entries: entries)
    }

    private static func entry(_ text: String) throws(ConfigurationError) -> HostAndPort {
        func refuse(_ problem: String) -> ConfigurationError {
            ConfigurationError(variable: variable, problem: "the entry \"\(text)\" \(problem)")
        }
        guard !text.contains("/") && !text.contains("@") else {
            throw refuse("is not host:port; write the receiver's host and port only, such as 10.0.4.7:8443")
        }
        let parsed: HostAndPort
        do {
            parsed = try HostAndPort(parsing: Substring(text))
        } catch {
            throw refuse(error.description)
        }
        guard parsed.port != nil else {
            throw refuse(
                "has no port: each entry is host:port (such as \(parsed.host):8443), and allows that one port of the host, not all of them"
            )
        }
        return parsed
    }

    /// True if the entries name `name` at `port`.
    func admits(name: String, port: Int) -> Bool {
        entries.contains(HostAndPort(host: .name(name), port: port))
    }

    /// True if the entries name `address` at `port`.
    func admits(_ address: ResolvedAddress, port: Int) -> Bool {
        entries.contains(HostAndPort(host: .address(address), port: port))
    }
}
