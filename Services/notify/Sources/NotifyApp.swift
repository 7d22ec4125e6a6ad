import Foundation
import Hummingbird
import PinganAccess
import PinganConnect
import PinganContracts
import PinganOutbox
import PinganRuntime

/// notify-service's settings: the common ones and its own.
///
/// | variable | default | meaning |
/// |---|---|---|
/// | `WEBHOOK_ALLOWED_HOSTS` | (none) | receivers on the deployment's own network that may get pushes, comma-separated `host:port` entries (``WebhookAllowList``); otherwise only public addresses do. A bare host stops the service at start |
/// | `SMS_TEMPLATE` | `pingan-notice` | the template name sent to the SMS gateway |
/// | `SMTP_URL` | `smtp://127.0.0.1:25` | the SMTP server e-mail subscriptions go through |
/// | `SMTP_FROM` | `pingan@localhost` | the sender of those e-mails |
/// | `DASHBOARD_URL` | `http://127.0.0.1:8080` | where people open the gateway's dashboard: every push links to a page under it |
/// | `RESIDENT_SMS_URL` | (none) | the HTTP SMS gateway residents' texts go through (one-time codes, rating links); without it residents cannot sign in |
/// | `RESIDENT_URL` | `DASHBOARD_URL` + `/resident` | the gateway's resident pages, which rating links open |
/// | `DELIVERY_RETENTION_DAYS` | `180` | how long a finished delivery (with its attempts) and a text to a resident are kept (``DeliveryRetention``) |
public struct NotifySettings: Sendable {
    public var service: ServiceSettings
    public var allowedHosts: WebhookAllowList
    var push: PushSettings
    /// How long one send may take before it is given up on and retried later.
    var sendTimeout: Duration = .seconds(5)
    var residentTexts: ResidentTextSettings
    /// How long the record of a finished push or a resident's text is kept.
    public var deliveryRetention = TimeInterval(DeliveryRetention.defaultDays) * 86_400

    public init(service: ServiceSettings, allowedHosts: WebhookAllowList = .empty, smsTemplate: String = "pingan-notice",
                smtpURL: String = "smtp://127.0.0.1:25", mailFrom: String = "pingan@localhost",
                dashboardURL: String = "http://127.0.0.1:8080") {
        self.service = service
        self.allowedHosts = allowedHosts
        push = PushSettings(smsTemplate: smsTemplate, smtpURL: smtpURL, mailFrom: mailFrom, dashboardURL: dashboardURL)
        residentTexts = ResidentTextSettings(smsURL: nil, pagesURL: dashboardURL + "/resident")
    }

    /// Residents' texts through `smsURL`, their links to `pagesURL` (the gateway's resident pages).
    public mutating func textResidents(through smsURL: String?, pages pagesURL: String? = nil) {
        residentTexts.smsURL = smsURL
        if let pagesURL { residentTexts.pagesURL = pagesURL }
    }

    public init(_ reader: SettingsReader) throws(ConfigurationError) {
        self.init(
            service: try ServiceSettings(reader, for: .notify),
            allowedHosts: try WebhookAllowList(reader.string(WebhookAllowList.variable) ?? ""),
            smsTemplate: reader.string("SMS_TEMPLATE") ?? "pingan-notice",
            smtpURL: reader.string("SMTP_URL") ?? "smtp://127.0.0.1:25",
            mailFrom: reader.string("SMTP_FROM") ?? "pingan@localhost",
            dashboardURL: try Self.dashboardURL(reader.string("DASHBOARD_URL"))
        )
        textResidents(
            through: try Self.url(reader.string("RESIDENT_SMS_URL"), "RESIDENT_SMS_URL"),
            pages: try Self.url(reader.string("RESIDENT_URL"), "RESIDENT_URL")
        )
        deliveryRetention = TimeInterval(try reader.integer("DELIVERY_RETENTION_DAYS", in: 180...3650) ?? DeliveryRetention.defaultDays) * 86_400
    }

    /// An optional http(s) URL setting, without a trailing slash.
    static func url(_ text: String?, _ variable: String) throws(ConfigurationError) -> String? {
        guard let text, !text.isEmpty else { return nil }
        guard let url = URL(string: text), ["http", "https"].contains(url.scheme ?? ""), url.host != nil else {
            throw ConfigurationError(variable: variable, problem: "must be an http or https URL")
        }
        return text.hasSuffix("/") ? String(text.dropLast()) : text
    }

    /// `DASHBOARD_URL`: an http(s) URL, written into every push; a malformed one stops the
    /// service at start rather than send people broken links.
    static func dashboardURL(_ text: String?) throws(ConfigurationError) -> String {
        guard let text, !text.isEmpty else { return PushSettings.defaultDashboardURL }
        guard let url = URL(string: text), ["http", "https"].contains(url.scheme ?? ""), url.host != nil else {
            throw ConfigurationError(variable: "DASHBOARD_URL", problem: "must be an http or https URL, such as https://pingan.example.gov.cn")
        }
        return text.hasSuffix("/") ? String(text.dropLast()) : text
    }
}

/// Assembles notify-service: schema `notify`, `pingan.notify.v1.NotifyService` with its two
/// event methods, and the workers that send deliveries on every channel.
public enum NotifyApp {
    public static func build(
        settings: NotifySettings, onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) throws -> some ApplicationProtocol {
        let host = ServiceHost(.notify, settings: settings.service, migrator: NotifyMigrations.migrator)
        let egress = EgressPolicy(allowed: settings.allowedHosts)
        let outbox = Outbox(schema: NotifyMigrations.schema)
        var routes = ConnectRoutes()
        let senders = PushSenders(transport: CurlTransport(), egress: egress, push: settings.push, timeout: settings.sendTimeout)
        var ledger = DeliveryLedger(pool: host.pool, sendTimeout: senders.timeout)
        ledger.dashboard = settings.push.dashboardURL
        let handoff = DeliveryHandoff(wakeup: outbox.wakeup, ledger: ledger)
        let store = PostgresDeliveryStore(pool: host.pool, outbox: outbox, push: settings.push, handoff: handoff)
        let verifier = try PrincipalVerifier(meshSecret: settings.service.mesh.meshSecret, previous: settings.service.mesh.previousMeshSecrets)
        var events = EventConsumers(inbox: store.inbox, verifier: verifier)
        let mesh = settings.service.mesh
        let names = GridDivisionNames(grid: ConnectClient(baseURL: mesh.url(.grid), transport: CurlTransport()), verifier: verifier, root: mesh.root)
        NotifyServiceHandler(store: store, egress: egress, verifier: verifier, names: names, meshRoot: mesh.root).register(into: &routes, events: &events)
        let residents = ResidentTexts(settings: settings.residentTexts, inbox: store.inbox, transport: CurlTransport(), timeout: settings.sendTimeout)
        events.on(NotifyServiceMethods.sendResidentText) { request, event, _ in try await residents.send(request, event) }
        events.register(into: &routes)
        let workers = DeliveryWorkers(ledger: ledger, senders: senders, handoff: handoff, logger: host.logger)
        let records = DeliveryRetention(pool: host.pool, keep: settings.deliveryRetention)
        let retention = PeriodicTask("delivery retention", every: .seconds(3600), logger: host.logger) {
            try await PeriodicTask.drain(batch: DeliveryRetention.batch) { try await records.run(now: Date(), limit: DeliveryRetention.batch) }
        }
        return host.application(routes: routes, services: [workers, retention], onServerRunning: onServerRunning)
    }
}
