import Foundation
import Hummingbird
import PinganAccess
import PinganConnect
import PinganOutbox
import PinganRuntime

/// notify-service's settings: the common ones and `WEBHOOK_ALLOWED_HOSTS`, the host names or
/// addresses on the deployment's own network that may receive webhooks (comma-separated;
/// empty by default: only public addresses receive them).
public struct NotifySettings: Sendable {
    public var service: ServiceSettings
    public var allowedHosts: Set<String>

    public init(service: ServiceSettings, allowedHosts: Set<String> = []) {
        self.service = service
        self.allowedHosts = allowedHosts
    }

    public init(_ reader: SettingsReader) throws(ConfigurationError) {
        self.init(
            service: try ServiceSettings(reader, for: .notify),
            allowedHosts: Set((reader.string("WEBHOOK_ALLOWED_HOSTS") ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }.filter { !$0.isEmpty })
        )
    }
}

/// Assembles notify-service: schema `notify`, `pingan.notify.v1.NotifyService`, and the
/// dispatcher that sends signed webhooks.
public enum NotifyApp {
    public static func build(
        settings: NotifySettings, onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) throws -> some ApplicationProtocol {
        let host = ServiceHost(.notify, settings: settings.service, migrator: NotifyMigrations.migrator)
        let egress = EgressPolicy(allowedHosts: settings.allowedHosts)
        let outbox = Outbox(schema: NotifyMigrations.schema)
        var routes = ConnectRoutes()
        NotifyServiceHandler(
            store: PostgresDeliveryStore(pool: host.pool, outbox: outbox), egress: egress,
            verifier: try PrincipalVerifier(meshSecret: settings.service.mesh.meshSecret)
        ).register(into: &routes)
        let dispatcher = DueWorkDispatcher(WebhookDeliveries(transport: CurlTransport(), egress: egress), pool: host.pool, wakeup: outbox.wakeup, logger: host.logger)
        return host.application(routes: routes, services: [dispatcher], onServerRunning: onServerRunning)
    }
}
