import Hummingbird
import PinganAccess
import PinganConnect
import PinganOutbox
import PinganRuntime

/// Assembles notify-service: schema `notify`, `pingan.notify.v1.NotifyService`, and the
/// dispatcher that sends signed webhooks.
public enum NotifyApp {
    public static func build(
        settings: ServiceSettings, onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) throws -> some ApplicationProtocol {
        let host = ServiceHost(.notify, settings: settings, migrator: NotifyMigrations.migrator)
        let outbox = Outbox(schema: NotifyMigrations.schema)
        var routes = ConnectRoutes()
        NotifyServiceHandler(
            store: PostgresDeliveryStore(pool: host.pool, outbox: outbox),
            verifier: try PrincipalVerifier(meshSecret: settings.mesh.meshSecret)
        ).register(into: &routes)
        let dispatcher = DueWorkDispatcher(WebhookDeliveries(transport: CurlTransport()), pool: host.pool, wakeup: outbox.wakeup, logger: host.logger)
        return host.application(routes: routes, services: [dispatcher], onServerRunning: onServerRunning)
    }
}
