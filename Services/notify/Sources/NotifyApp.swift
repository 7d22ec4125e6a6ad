import Hummingbird
import PinganAccess
import PinganConnect
import PinganOutbox

/// Assembles notify-service: schema `notify`, `pingan.notify.v1.NotifyService`, and the
/// dispatcher that sends signed webhooks.
public enum NotifyApp {
    public static let name = "notify-service"

    public static func build(
        configuration: ServiceConfiguration, mesh: MeshConfiguration,
        onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) throws -> some ApplicationProtocol {
        let host = ServiceHost(name: name, configuration: configuration, migrator: NotifyMigrations.migrator)
        let jurisdiction = try Jurisdiction(meshSecret: mesh.meshSecret)
        var routes = ConnectRoutes()
        let wakeup = OutboxWakeup()
        NotifyServiceHandler(store: DeliveryStore(pool: host.pool, wakeup: wakeup), jurisdiction: jurisdiction).register(into: &routes)
        let dispatcher = WebhookDispatcher(pool: host.pool, transport: CurlTransport(), wakeup: wakeup, logger: host.logger)
        return host.application(routes: routes, services: [dispatcher], onServerRunning: onServerRunning)
    }
}
