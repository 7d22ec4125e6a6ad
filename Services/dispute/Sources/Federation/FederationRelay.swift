import Foundation
import Logging
import PinganConnect
import PinganContracts
import PinganDomain
import PinganOutbox
import PinganPostgres
import ServiceLifecycle
import Synchronization

/// The county's half of federation: sends the city a snapshot of every case changed since its
/// last snapshot reached it, and applies the orders the city answers with
/// (``FederationServiceHandler`` is the city's half).
///
/// The triggers of dispute migration 15 mark a changed case in the transaction that changes
/// it, so a change cannot commit without its mark; the relay reads marked cases as they are
/// now and sends them, so a case changed a hundred times while the link was down travels once,
/// as it is when the link returns. Nothing is locked while a call is in flight: a change made
/// meanwhile draws a higher version and is sent in a later round, and a snapshot sent twice
/// (a round whose commit was lost, two replicas at once) changes nothing at the city.
///
/// While the city cannot be reached the marks wait with ``Backoff/relay``, without limit: an
/// outage of days is store-and-forward, not loss. Only what the city refuses for good
/// (`invalid_argument`: a case outside the county's subtree) is parked for an operator.
///
/// The relay calls the city at least every ``heartbeat``, with nothing to send too: the call
/// tells the city the county is there and fetches its orders. The county calls, never the
/// city: nothing at the county listens to the link.
struct FederationRelay: Service {
    struct Snapshot: Sendable {
        let caseID: UUID
        let version: Int64
        let village: String
        let rows: String
        /// The appended rows (timeline lines, reports) this snapshot carries, by their mark.
        let sentRows: [Int64]
        /// Failed sends of this version so far.
        let attempts: Int
    }

    let client: ConnectClient
    let key: String
    /// The root of this mesh: parties' names travel only for a case coordinated above it.
    let root: DivisionCode
    let pool: PostgresPool
    /// Applies one of the city's orders; answers its outcome (empty code when applied).
    let apply: @Sendable (CaseOrder) async -> Pingan_Dispute_V1_OrderOutcome
    let logger: Logger
    var backoff = Backoff.relay
    var now: @Sendable () -> Date = { Date() }
    /// How often the city hears from the county when the county has nothing to send.
    var heartbeat: Duration = .seconds(10)
    /// How often marks are looked for: a change is at the city about this long after it commits.
    var pollInterval: Duration = .seconds(1)

    /// Appended rows one snapshot carries at most; a case with more is marked until all went.
    static let rowsPerSnapshot = 200
    /// A round's snapshots, in one call: well under the city's request size limit.
    static let snapshotsPerRound = 32

    /// When the city last answered, shared by the copies of this value the service runs.
    private let lastCall = LastCall()

    init(
        client: ConnectClient, key: String, root: DivisionCode, pool: PostgresPool,
        apply: @escaping @Sendable (CaseOrder) async -> Pingan_Dispute_V1_OrderOutcome, logger: Logger,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.client = client
        self.key = key
        self.root = root
        self.pool = pool
        self.apply = apply
        self.logger = logger
        self.now = now
    }

    private final class LastCall: Sendable {
        private let instant = Mutex<ContinuousClock.Instant?>(nil)
        func withLock<T: Sendable>(_ body: (inout ContinuousClock.Instant?) -> T) -> T { instant.withLock { body(&$0) } }
    }

    func run() async throws {
        await OutboxWakeup().repeatRounds(every: pollInterval, logger: logger, label: "federation relay (dispute)") { try await round() }
    }

    /// Sends the due snapshots and what became of the city's orders, if there is any or the
    /// heartbeat is due, then applies the orders the city answers with; returns how many
    /// snapshots it sent (0 lets the loop wait).
    func round() async throws -> Int {
        let snapshots = try await claim()
        let orders = FederationOrders(pool: pool)
        let outcomes = try await orders.unreported()
        let quiet = lastCall.withLock { last in last.map { ContinuousClock.now - $0 < heartbeat } ?? false }
        guard !snapshots.isEmpty || !outcomes.isEmpty || !quiet else { return 0 }
        var request = Pingan_Dispute_V1_ReceiveCasesRequest()
        request.snapshots = snapshots.map(\.wire)
        request.appliedOrders = outcomes
        request.completeAsOf = try await completeAsOf(sending: snapshots)?.wireTimestamp ?? ""
        let answer: Pingan_Dispute_V1_ReceiveCasesResponse
        do {
            answer = try await client.call(
                FederationServiceMethods.receiveCases, request, options: CallOptions(timeout: .seconds(30), headers: [("X-Api-Key", key)])
            )
        } catch {
            try await record(snapshots.map { ($0, error) })
            return 0
        }
        lastCall.withLock { $0 = ContinuousClock.now }
        let byCase = Dictionary(answer.outcomes.map { ($0.caseID, $0) }, uniquingKeysWith: { first, _ in first })
        try await record(snapshots.map { snapshot in
            guard let outcome = byCase[snapshot.caseID.wire] else {
                return (snapshot, ConnectError(.internal, "the city answered no outcome for case \(snapshot.caseID.wire)"))
            }
            return (snapshot, outcome.code.isEmpty ? nil : ConnectError(ConnectCode(rawValue: outcome.code) ?? .unknown, outcome.message))
        })
        try await orders.reported(outcomes, at: now())
        for wire in answer.orders {
            guard let order = CaseOrder(wire) else {
                try await orders.refused(UUID(uuidString: wire.orderID) ?? UUID(), code: ConnectCode.invalidArgument.rawValue,
                                         message: "an order of kind \(wire.kind) this release does not know", at: now())
                continue
            }
            // An order fetched again before the city heard of it is applied once.
            guard try await !orders.handled(order.id) else { continue }
            let outcome = await apply(order)
            if !outcome.code.isEmpty { try await orders.refused(order.id, code: outcome.code, message: outcome.message, at: now()) }
        }
        return snapshots.count
    }

    /// Turns the marking of changed cases on (`url`: this mesh sends them there) or off: a mesh
    /// that sends its cases nowhere writes no marks.
    static func markChanges(_ url: String?, pool: PostgresPool) async throws {
        if let url {
            try await pool.query(
                "INSERT INTO dispute.federation_upstream (single, url) VALUES (true, $1) ON CONFLICT (single) DO UPDATE SET url = $1", [url]
            )
        } else {
            try await pool.query("DELETE FROM dispute.federation_upstream")
        }
    }

    /// The marked cases due, oldest change first. Nothing is locked: a change committing while
    /// the call is in flight must not wait for the link.
    func claim() async throws -> [Snapshot] {
        try await pool.query(Self.snapshotSQL, [Self.snapshotsPerRound, root.rawValue, root.lastInSubtree, Self.rowsPerSnapshot])
            .map { row in
                Snapshot(
                    caseID: try row.decode(UUID.self, at: 0), version: Int64(try row.decode(Int.self, at: 1)),
                    village: try row.decode(String.self, at: 2), rows: try row.decode(String.self, at: 3),
                    sentRows: try row.decode([String].self, at: 4).compactMap { Int64($0) }, attempts: try row.decode(Int.self, at: 5)
                )
            }
    }

    /// Up to when the city's copies will be complete once `snapshots` apply: when nothing else
    /// waits (no other mark, no newer version of theirs, no row they do not carry), every
    /// change committed before this read is among them, and so is every change of a
    /// transaction still open, which dates its facts no later than its start. Less
    /// ``completenessMargin``; `nil` when something still waits.
    func completeAsOf(sending snapshots: [Snapshot]) async throws -> Date? {
        try await pool.query(
            Self.completeSQL,
            [snapshots.map(\.caseID.uuidString), snapshots.map { String($0.version) }, snapshots.flatMap(\.sentRows).map(String.init),
             Self.completenessMargin]
        ).first?.decode(Date.self, at: 0)
    }

    /// Between a step's time being taken and its transaction beginning: a generous bound, since
    /// it only delays the city's freezing of a month by as much.
    static let completenessMargin: Double = 60

    /// `$1`/`$2` the cases and versions sent, `$3` the rows they carry, `$4` the margin in
    /// seconds. Other roles' sessions show no `xact_start`, and none of them writes here.
    static let completeSQL = """
        SELECT least(statement_timestamp(), (
                SELECT min(xact_start) FROM pg_stat_activity
                WHERE datname = current_database() AND backend_type = 'client backend' AND pid <> pg_backend_pid()
            )) - make_interval(secs => $4)
        WHERE NOT EXISTS (
                SELECT 1 FROM dispute.federation_changes f
                WHERE f.parked_at IS NULL
                  AND (f.case_id, f.version) NOT IN (SELECT * FROM unnest($1::uuid[], $2::bigint[]))
            )
          AND NOT EXISTS (
                SELECT 1 FROM dispute.federation_rows r
                JOIN dispute.federation_changes f ON f.case_id = r.case_id AND f.parked_at IS NULL
                WHERE r.id <> ALL($3::bigint[])
            )
        """

    /// What became of each snapshot sent: its marks go, or wait with the backoff, or park.
    func record(_ outcomes: [(snapshot: Snapshot, failure: (any Error)?)]) async throws {
        guard !outcomes.isEmpty else { return }
        try await pool.transaction { transaction in
            for (snapshot, failure) in outcomes {
                guard let failure else {
                    // The rows it carried went; the mark goes unless the case changed again since
                    // (a higher version) or has rows still to send.
                    try await transaction.queue("DELETE FROM dispute.federation_rows WHERE id = ANY($1::text[]::bigint[])", [snapshot.sentRows.map(String.init)])
                    try await transaction.queue(
                        """
                        DELETE FROM dispute.federation_changes f WHERE f.case_id = $1 AND f.version = $2
                            AND NOT EXISTS (SELECT 1 FROM dispute.federation_rows r WHERE r.case_id = $1)
                        """,
                        [snapshot.caseID, Int(snapshot.version)]
                    )
                    continue
                }
                let refused = (failure as? ConnectError)?.code == .invalidArgument
                try await transaction.queue(
                    """
                    UPDATE dispute.federation_changes SET attempts = attempts + 1, last_error = $3,
                        next_attempt_at = clock_timestamp() + make_interval(secs => $4),
                        parked_at = CASE WHEN $5 THEN clock_timestamp() END
                    WHERE case_id = $1 AND version = $2
                    """,
                    [snapshot.caseID, Int(snapshot.version), "\(failure)", backoff.seconds(afterAttempts: snapshot.attempts + 1), refused]
                )
                if refused {
                    logger.error("the city refused a case; parked", metadata: ["case": "\(snapshot.caseID)", "error": "\(failure)"])
                } else {
                    logger.info("the city could not be reached; the case waits", metadata: ["case": "\(snapshot.caseID)", "error": "\(failure)"])
                }
            }
        }
    }

    /// The marked cases due, oldest change first, each with its rows as JSON: everything but
    /// the appended rows whole, and of those the ones not yet sent. `$2`/`$3` bound this mesh's
    /// subtree: a case coordinated above it (escalated to the city) carries its parties' names,
    /// which the city then mediates with; any other leaves them, and the names of the rungs'
    /// participants and the agreement's signatories, in the county.
    static let snapshotSQL = """
        SELECT f.case_id, f.version, c.village_code,
            jsonb_build_object(
                'case', to_jsonb(c) - 'federated_from' - 'federated_version'
                    || CASE WHEN escalated THEN '{}'::jsonb ELSE jsonb_build_object('parties', '[]'::jsonb, 'party_names', '[]'::jsonb) END,
                'attempts', coalesce((SELECT jsonb_agg(to_jsonb(a) - 'seq'
                    || CASE WHEN escalated THEN '{}'::jsonb ELSE jsonb_build_object('participants', '[]'::jsonb) END ORDER BY a.seq)
                    FROM dispute.rung_attempts a WHERE a.case_id = c.id), '[]'),
                'skips', coalesce((SELECT jsonb_agg(to_jsonb(s)) FROM dispute.rung_skips s WHERE s.case_id = c.id), '[]'),
                'agreements', coalesce((SELECT jsonb_agg(to_jsonb(g) - 'seq'
                    || CASE WHEN escalated THEN '{}'::jsonb ELSE jsonb_build_object('signatories', '[]'::jsonb) END ORDER BY g.seq)
                    FROM dispute.agreements g WHERE g.case_id = c.id), '[]'),
                'visits', coalesce((SELECT jsonb_agg(to_jsonb(v) - 'seq' ORDER BY v.seq) FROM dispute.return_visits v WHERE v.case_id = c.id), '[]'),
                'summons', coalesce((SELECT jsonb_agg(to_jsonb(m) ORDER BY m.created_at, m.id) FROM dispute.summons m WHERE m.case_id = c.id), '[]'),
                'departments', coalesce((SELECT jsonb_agg(to_jsonb(d) - 'api_key_name' - 'legacy_id') FROM dispute.departments d
                    WHERE d.id IN (SELECT m.department_id FROM dispute.summons m WHERE m.case_id = c.id)), '[]'),
                'timeline', coalesce((SELECT jsonb_agg(to_jsonb(t) - 'origin_id' ORDER BY t.id) FROM dispute.timeline t
                    WHERE t.id = ANY(pending.timeline_ids)), '[]'),
                'reports', coalesce((SELECT jsonb_agg(to_jsonb(r) - 'reported_by') FROM dispute.case_reports r
                    WHERE r.id = ANY(pending.report_ids)), '[]')
            )::text,
            coalesce(pending.ids::text[], '{}'), f.attempts
        FROM dispute.federation_changes f
        JOIN dispute.cases c ON c.id = f.case_id
        CROSS JOIN LATERAL (SELECT NOT (c.coordinator_code BETWEEN $2 AND $3) AS escalated) e
        CROSS JOIN LATERAL (
            SELECT array_agg(r.id ORDER BY r.id) AS ids,
                   array_agg(r.timeline_id) FILTER (WHERE r.timeline_id IS NOT NULL) AS timeline_ids,
                   array_agg(r.report_id) FILTER (WHERE r.report_id IS NOT NULL) AS report_ids
            FROM (SELECT * FROM dispute.federation_rows r WHERE r.case_id = f.case_id ORDER BY r.id LIMIT $4) r
        ) pending
        WHERE f.parked_at IS NULL AND f.next_attempt_at <= clock_timestamp()
        ORDER BY f.version LIMIT $1
        """
}

extension FederationRelay.Snapshot {
    var wire: Pingan_Dispute_V1_CaseSnapshot {
        .with {
            $0.caseID = caseID.wire
            $0.villageCode = village
            $0.version = version
            $0.rows = rows
        }
    }
}
