import Foundation
import Hummingbird
import Logging
import PinganAccess
import PinganConnect
import PinganContracts
import PinganOutbox
import PinganRuntime
import ServiceLifecycle

/// dispute-service's settings: the common ones, the working days each step gets, and how
/// often overdue steps are looked for.
///
/// | variable | default | meaning |
/// |---|---|---|
/// | `RUNG_DEADLINE_DAYS` | `3,5,7,10,15` | working days for rungs 1 to 5 |
/// | `RETURN_VISIT_DAYS` | `10` | working days from a settlement to its return visit |
/// | `SUMMONS_REPORT_DAYS` | `1` | working days a summoned department has to report |
/// | `SUMMONS_FEEDBACK_DAYS` | `5` | working days it has to feed back |
/// | `OVERDUE_SCAN_SECONDS` | `60` | how often overdue steps are looked for |
/// | `BACKDATE_LIMIT_DAYS` | `30` | how many days after a step happened it may still be recorded (补录) |
/// | `RESIDENT_RETENTION_DAYS` | `365` | how long a resident's phone, name and words are kept on their request once its case is no longer being mediated (``ResidentStore/erase(filedBefore:now:limit:)``) |
/// | `PARTY_RETENTION_DAYS` | `1095` | how long the parties' names, phones and the free texts about them are kept on a case once it is resolved or closed (``PartyDataRetention``) |
/// | `FEDERATION_URL` | unset | a county's mesh only: the city's gateway, where it sends a snapshot of each changed case (``FederationRelay``); unset, it sends none |
/// | `FEDERATION_KEY` | unset | with `FEDERATION_URL`: the API key the city issued for this county's centre, with the role `federation` |
/// | `PARTY_KEY_SECRET` | derived from `MESH_SECRET` | HMAC key of the parties' keyed hashes risk-service matches people by (``PartyKeys``), 32+ bytes; set it in production so that no other service could recompute them |
public struct DisputeSettings: Sendable {
    public var service: ServiceSettings
    var deadlines: StepDeadlines
    var backdating: Backdating
    public var overdueScanInterval: Duration
    /// How long a resident's personal data is kept on a request, counted from its filing.
    public var residentRetention: TimeInterval = 365 * 86_400
    /// How long the parties' personal data is kept on a case, counted from its end.
    public var partyRetention = TimeInterval(PartyDataRetention.defaultDays) * 86_400
    /// The secret the parties' keyed hashes are made with; `nil` derives one from the mesh secret.
    public var partyKeySecret: String? = nil
    /// Where this county's mesh sends its cases; `nil` for a mesh that sends them nowhere (the city's).
    public var federation: FederationUpstream? = nil

    public init(service: ServiceSettings, overdueScanInterval: Duration = .seconds(60)) {
        self.service = service
        deadlines = StepDeadlines()
        backdating = Backdating()
        self.overdueScanInterval = overdueScanInterval
    }

    public init(_ reader: SettingsReader) throws(ConfigurationError) {
        self.init(service: try ServiceSettings(reader, for: .dispute))
        if let text = reader.string("RUNG_DEADLINE_DAYS") {
            let days = text.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard days.count == 5, days.allSatisfy({ (1...365).contains($0) }) else {
                throw ConfigurationError(variable: "RUNG_DEADLINE_DAYS", problem: "\"\(text)\" is not five working-day counts (1–365) separated by commas")
            }
            deadlines.rungs = days
        }
        deadlines.returnVisit = try reader.integer("RETURN_VISIT_DAYS", in: 1...365) ?? deadlines.returnVisit
        deadlines.summonsReport = try reader.integer("SUMMONS_REPORT_DAYS", in: 1...365) ?? deadlines.summonsReport
        deadlines.summonsFeedback = try reader.integer("SUMMONS_FEEDBACK_DAYS", in: 1...365) ?? deadlines.summonsFeedback
        overdueScanInterval = .seconds(try reader.integer("OVERDUE_SCAN_SECONDS", in: 1...86_400) ?? 60)
        // 0 allows no backdating at all; a year is the most a write-up can lag and still be a
        // record of mediation rather than an import of history.
        backdating = Backdating(limitDays: try reader.integer("BACKDATE_LIMIT_DAYS", in: 0...365) ?? Backdating.defaultLimitDays)
        // A year covers a matter's mediation, its return visit and a reopening between the same
        // parties; the case keeps its own parties after that, as every case does.
        residentRetention = TimeInterval(try reader.integer("RESIDENT_RETENTION_DAYS", in: 30...3650) ?? 365) * 86_400
        // At least a year: a closed case is reopened by the same parties for half a year
        // (SameParties.reopenWithin), which needs their names on it.
        partyRetention = TimeInterval(try reader.integer("PARTY_RETENTION_DAYS", in: 365...7300) ?? PartyDataRetention.defaultDays) * 86_400
        federation = try FederationUpstream.read(reader)
        if reader.string("PARTY_KEY_SECRET", isSecret: true) != nil {
            partyKeySecret = try reader.secret("PARTY_KEY_SECRET", purpose: "keyed hashes of the parties")
        }
    }
}

/// Assembles dispute-service: schema `dispute`, `pingan.dispute.v1.DisputeService`, the
/// official calendar seeded on first start, the scan for overdue steps, and the relay that
/// tells risk-service about cases and notify-service about notices.
public enum DisputeApp {
    /// Steps the overdue scan marks per transaction.
    static let overdueBatch = 500

    /// - Parameter now: the time of day; tests pass a clock they control.
    public static func build(
        settings: DisputeSettings, now: @escaping @Sendable () -> Date = { Date() },
        onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) throws -> some ApplicationProtocol {
        let mesh = settings.service.mesh
        PartyKeys.use(PartyKeys(secret: Array((settings.partyKeySecret ?? PartyKeys.derivedSecret(mesh.meshSecret)).utf8)))
        let host = ServiceHost(.dispute, settings: settings.service, migrator: DisputeMigrations.migrator)
        let outbox = Outbox(schema: DisputeMigrations.schema)
        let cases = PostgresCaseStore(pool: host.pool, outbox: outbox)
        let calendar = PostgresCalendarStore(pool: host.pool)
        var routes = ConnectRoutes()
        let verifier = try PrincipalVerifier(meshSecret: mesh.meshSecret, previous: mesh.previousMeshSecrets)
        let handler = DisputeServiceHandler(
            cases: cases, departments: PostgresDepartmentStore(pool: host.pool), reports: PostgresCaseReports(pool: host.pool),
            verifier: verifier, calendar: CalendarCache(store: calendar, metrics: host.metrics), deadlines: settings.deadlines,
            backdating: settings.backdating, now: now, orders: FederationOrders(pool: host.pool), peers: FederationPeers(pool: host.pool)
        )
        var events = EventConsumers(inbox: cases.inbox, verifier: verifier)
        handler.register(into: &routes, events: &events)
        let residents = ResidentStore(pool: host.pool, outbox: outbox, cases: cases)
        ResidentServiceHandler(store: residents, verifier: verifier, limits: ResidentLimits(), now: now).register(into: &routes)
        FederationServiceHandler(copies: FederationCopies(pool: host.pool), peers: FederationPeers(pool: host.pool), orders: FederationOrders(pool: host.pool), verifier: verifier, now: now)
            .register(into: &routes)
        events.register(into: &routes)
        let transport = CurlTransport()
        let risk = ConnectClient(baseURL: mesh.url(.risk), transport: transport)
        let notify = ConnectClient(baseURL: mesh.url(.notify), transport: transport)
        let relay = OutboxRelay.dispatcher(
            for: outbox,
            routes: Dictionary(uniqueKeysWithValues: [
                try OutboxRelay.route(CaseEvents.opened, client: risk, as: .dispute, mesh: mesh),
                try OutboxRelay.route(CaseEvents.changed, client: risk, as: .dispute, mesh: mesh),
                try OutboxRelay.route(CaseEvents.notice, client: notify, as: .dispute, mesh: mesh),
                try OutboxRelay.route(ResidentEvents.ratingLink, client: notify, as: .dispute, mesh: mesh),
            ]),
            pool: host.pool, logger: host.logger
        )
        // Nothing expires silently: steps past their deadline are marked and pushed to the
        // owning centre and the levels above.
        let overdue = OverdueScan(pool: host.pool, outbox: outbox)
        let scan = PeriodicTask("overdue scan", every: settings.overdueScanInterval, logger: host.logger) {
            try await PeriodicTask.drain(batch: overdueBatch) { try await overdue.run(now: now(), limit: overdueBatch) }
        }
        let retention = PeriodicTask("resident data retention", every: .seconds(3600), logger: host.logger) {
            try await PeriodicTask.drain(batch: 1000) {
                try await residents.erase(filedBefore: now().addingTimeInterval(-settings.residentRetention), now: now(), limit: 1000)
            }
        }
        let parties = PartyDataRetention(pool: host.pool, outbox: outbox, keep: settings.partyRetention)
        let partyRetention = PeriodicTask("parties' data retention", every: .seconds(3600), logger: host.logger) {
            try await PeriodicTask.drain(batch: PartyDataRetention.batch) { try await parties.run(now: now(), limit: PartyDataRetention.batch) }
        }
        let upstream = settings.federation
        var federation: [any Service] = []
        if let upstream {
            federation.append(FederationRelay(
                client: upstream.client(transport: transport), key: upstream.key, root: mesh.root, pool: host.pool,
                apply: { order in await handler.apply(order, under: mesh.root) }, logger: host.logger, now: now
            ))
        }
        return host.application(
            routes: routes, services: relay + [scan, retention, partyRetention] + federation,
            beforeServing: {
                try await seedCalendar(calendar, logger: host.logger)
                try await FederationRelay.markChanges(upstream.map(\.url), pool: host.pool)
            },
            onServerRunning: onServerRunning
        )
    }

    /// Runs the overdue scan once, to completion, on a migrated database: for operators who
    /// want it now rather than at the next round, and for the benchmark.
    /// - Returns: how many steps it marked.
    public static func scanOverdueOnce(settings: DisputeSettings, now: Date = Date()) async throws -> Int {
        try await ServiceHost(.dispute, settings: settings.service, migrator: DisputeMigrations.migrator).onMigratedDatabase { pool in
            let scan = OverdueScan(pool: pool, outbox: Outbox(schema: DisputeMigrations.schema))
            return try await PeriodicTask.drain(batch: overdueBatch) { try await scan.run(now: now, limit: overdueBatch) }
        }
    }

    /// Erases the parties' data of every case whose term (`PARTY_RETENTION_DAYS`) is over,
    /// now, rather than at the hourly job's next round: for an operator who shortened the term.
    /// - Returns: how many cases it erased.
    public static func erasePartiesOnce(settings: DisputeSettings, now: Date = Date()) async throws -> Int {
        try await ServiceHost(.dispute, settings: settings.service, migrator: DisputeMigrations.migrator).onMigratedDatabase { pool in
            let retention = PartyDataRetention(pool: pool, outbox: Outbox(schema: DisputeMigrations.schema), keep: settings.partyRetention)
            return try await PeriodicTask.drain(batch: PartyDataRetention.batch) { try await retention.run(now: now, limit: PartyDataRetention.batch) }
        }
    }

    /// The official calendar 2020–2026, shipped with the service (see Data/).
    static func bundledCalendarCSV() throws -> String {
        guard let url = Bundle.module.url(forResource: "cn-workday-calendar", withExtension: "csv") else {
            throw ConfigurationError(variable: "resources", problem: "cn-workday-calendar.csv is missing from the dispute-service bundle")
        }
        return try String(contentsOf: url, encoding: .utf8)
    }

    /// Loads the shipped calendar into an empty one; years loaded since are kept.
    static func seedCalendar(_ store: any CalendarStore, logger: Logger) async throws {
        guard try await store.calendar().years.isEmpty else { return }
        let years = try await store.loadCalendar(try WorkdayCalendar.parse(csv: try bundledCalendarCSV()))
        logger.notice("loaded the official working-day calendar", metadata: ["years": "\(years.sorted())"])
    }
}
