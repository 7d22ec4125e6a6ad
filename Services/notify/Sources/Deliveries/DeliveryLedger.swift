import Foundation
import PinganOutbox
import PinganPostgres

/// The queue of deliveries in `notify.deliveries`, seen from the workers that send them:
/// which are due and may go now (``lease(limit:inFlight:)``), and what came of each attempt,
/// with the subscription's circuit breaker (``record(_:_:)``). Sending is the channels'
/// job (``PushSenders``); this type only keeps the books, so no network call ever runs
/// inside its SQL.
///
/// Deliveries are *leased*, not held in a transaction while they are sent: a lease claims
/// due ones and moves them ``leaseSeconds`` ahead in one statement, each is sent on its own
/// and its outcome recorded on its own, so a slow subscriber never holds up another's
/// deliveries. A process killed mid-send leaves the lease to run out and the delivery is sent
/// again, with the same id. Each subscriber has ``perSubscriber`` sends in flight at most,
/// and a circuit breaker: a failure pauses the subscription as a whole (backing off like a
/// delivery), and after the pause a single probe goes out before the rest follow. Failures
/// retry with ``backoff`` (0.5 s doubling to a 5-minute ceiling) without end: a warning is
/// never silently dropped.
struct DeliveryLedger: Sendable {
    let pool: PostgresPool
    /// How long one send may take (the channels' timeout); a lease outlasts it.
    var sendTimeout: Duration = .seconds(5)
    var backoff = Backoff(initial: 0.5, ceiling: 300)
    var perSubscriber = 4
    /// How often a WeCom robot may be sent a message.
    var pacing = RobotPacing()
    /// Where a grouped robot message links to (`DASHBOARD_URL`).
    var dashboard = PushSettings.defaultDashboardURL

    /// Longer than a send can take, so a lease only runs out when its process died.
    var leaseSeconds: Double { Double(sendTimeout.components.seconds) + 5 }

    /// Claims up to `limit` due deliveries and leases them to this process, in one statement
    /// (so one round trip, and no transaction around it). `inFlight` is how many sends each
    /// subscription already has here; a subscription whose breaker has tripped gets one (a
    /// probe).
    func lease(limit: Int, inFlight: [UUID: Int]) async throws -> [OutgoingDelivery] {
        let busy = inFlight.filter { $0.value > 0 }
        // `waiting` walks the index once per subscription with undelivered deliveries (a
        // loose index scan); each then gives its earliest due ones, as many as it has room
        // for. The cost follows the number of such subscriptions, not the backlog.
        return try await pool.withConnection { connection in
            try await connection.query(
                """
                WITH RECURSIVE waiting (subscription_id) AS (
                    (SELECT subscription_id FROM notify.deliveries WHERE delivered_at IS NULL ORDER BY subscription_id LIMIT 1)
                    UNION ALL
                    SELECT (SELECT next.subscription_id FROM notify.deliveries next
                            WHERE next.delivered_at IS NULL AND next.subscription_id > waiting.subscription_id
                            ORDER BY next.subscription_id LIMIT 1)
                    FROM waiting WHERE waiting.subscription_id IS NOT NULL
                ),
                picked AS (
                    SELECT d.id FROM notify.deliveries d
                    WHERE d.id IN (
                        SELECT pick.id
                        FROM waiting JOIN notify.subscriptions sub ON sub.id = waiting.subscription_id
                        LEFT JOIN unnest($3::text[]::uuid[], $4::text[]::integer[]) AS busy (subscription_id, sending)
                            ON busy.subscription_id = sub.id
                        CROSS JOIN LATERAL (
                            SELECT due.id, due.next_attempt_at FROM notify.deliveries due
                            WHERE due.subscription_id = sub.id AND due.delivered_at IS NULL AND due.next_attempt_at <= clock_timestamp()
                            ORDER BY due.next_attempt_at
                            LIMIT greatest((CASE WHEN sub.failures > 0 THEN 1 ELSE $2 END) - coalesce(busy.sending, 0), 0)
                        ) pick
                        WHERE (sub.paused_until IS NULL OR sub.paused_until <= clock_timestamp()) AND sub.paused_at IS NULL
                        ORDER BY pick.next_attempt_at LIMIT $1
                    )
                    FOR UPDATE OF d SKIP LOCKED
                )
                UPDATE notify.deliveries d SET next_attempt_at = clock_timestamp() + make_interval(secs => $5)
                FROM picked, notify.subscriptions s
                WHERE d.id = picked.id AND s.id = d.subscription_id
                RETURNING d.id, d.payload, d.event, s.url, s.secret, d.attempts, s.id, s.channel, s.email, d.digest,
                    CASE WHEN s.previous_secret_until > clock_timestamp() THEN s.previous_secret END
                """,
                [limit, perSubscriber, busy.keys.map(\.wire), busy.values.map { String($0) }, leaseSeconds]
            ).map { row in
                OutgoingDelivery(
                    id: try row.decode(UUID.self, at: 0), payload: try row.decode(String.self, at: 1), event: try row.decode(String.self, at: 2),
                    url: try row.decode(String.self, at: 3), secret: try row.decode(String.self, at: 4), attempts: try row.decode(Int.self, at: 5),
                    subscription: try row.decode(UUID.self, at: 6),
                    channel: PushChannel(rawValue: try row.decode(String.self, at: 7)) ?? .webhook, email: try row.decode(String.self, at: 8),
                    previousSecret: try row.decode(String?.self, at: 10), digest: try row.decode(String.self, at: 9)
                )
            }
        }
    }

    /// Records one attempt in one transaction, and moves the subscription's breaker: a
    /// success closes it, a failure while it is closed opens it for a backoff that grows with
    /// each opening.
    func record(_ delivery: OutgoingDelivery, _ attempt: DeliveryAttempt) async throws {
        try await pool.transaction { transaction in
            // Every write but the breaker's opening goes with COMMIT: nothing else is read back.
            if attempt.succeeded {
                try await transaction.queue("UPDATE notify.subscriptions SET failures = 0, paused_until = NULL WHERE id = $1 AND failures <> 0", [delivery.subscription])
            } else if let failures = try await transaction.query(
                """
                UPDATE notify.subscriptions SET failures = failures + 1
                WHERE id = $1 AND (paused_until IS NULL OR paused_until <= clock_timestamp()) RETURNING failures
                """,
                [delivery.subscription]
            ).first?.decode(Int.self, at: 0) {
                try await transaction.queue(
                    "UPDATE notify.subscriptions SET paused_until = clock_timestamp() + make_interval(secs => $2) WHERE id = $1",
                    [delivery.subscription, backoff.seconds(afterAttempts: failures)]
                )
            }
            let millis = Double(attempt.duration.components.seconds) * 1000 + Double(attempt.duration.components.attoseconds) / 1e15
            try await transaction.queue(
                "INSERT INTO notify.attempts (delivery_id, status, error, duration_ms) VALUES ($1, $2, $3, $4)",
                [delivery.id, attempt.status, attempt.error, millis]
            )
            if attempt.succeeded {
                try await transaction.queue(
                    "UPDATE notify.deliveries SET delivered_at = clock_timestamp(), attempts = attempts + 1, last_error = NULL WHERE id = $1",
                    [delivery.id]
                )
            } else {
                let attempts = delivery.attempts + 1
                // A delivery whose subscription was removed while it was in flight stays
                // dropped ('infinity'): it is not tried again.
                try await transaction.queue(
                    """
                    UPDATE notify.deliveries SET attempts = $2, last_error = $3,
                        next_attempt_at = CASE WHEN next_attempt_at = 'infinity' THEN next_attempt_at
                                               ELSE clock_timestamp() + make_interval(secs => $4) END
                    WHERE id = $1
                    """,
                    [delivery.id, attempts, attempt.error, backoff.seconds(afterAttempts: attempts)]
                )
            }
        }
    }

    /// What to do with a WeCom delivery before it is sent, decided in one transaction that
    /// holds the subscription's row, so replicas and concurrent sends to one robot take their
    /// turns (``RobotPacing``) on the database's clock:
    /// - ``RobotPlan/skip``: a grouped message already named it;
    /// - ``RobotPlan/wait``: the robot has had its messages: it is due again when a message
    ///   of the minute is a minute old, with no attempt counted and no breaker moved;
    /// - ``RobotPlan/send``: as its own message, the send counted against the robot;
    /// - ``RobotPlan/group(payload:others:)``: one message naming it and as many waiting
    ///   deliveries as fit, those leased here until ``recordGroup(_:others:_:)``.
    func pace(_ delivery: OutgoingDelivery) async throws -> RobotPlan {
        try await pool.transaction { transaction in
            guard let held = try await transaction.query(
                "SELECT s.centre_code, clock_timestamp() FROM notify.subscriptions s WHERE s.id = $1 FOR UPDATE", [delivery.subscription]
            ).first else { return .send }
            let centre = try held.decode(String.self, at: 0)
            let now = try held.decode(Date.self, at: 1)
            let delivered = try await transaction.query("SELECT delivered_at IS NOT NULL FROM notify.deliveries WHERE id = $1", [delivery.id])
            if try delivered.first?.decode(Bool.self, at: 0) ?? true { return .skip }
            try await transaction.query(
                "DELETE FROM notify.robot_sends WHERE subscription_id = $1 AND sent_at <= $2", [delivery.subscription, now.addingTimeInterval(-pacing.window)]
            )
            let recent = try await transaction.query("SELECT sent_at FROM notify.robot_sends WHERE subscription_id = $1", [delivery.subscription])
                .map { try $0.decode(Date.self, at: 0) }
            let waiting = try await transaction.query(
                "SELECT count(*) FROM notify.deliveries WHERE subscription_id = $1 AND delivered_at IS NULL AND id <> $2 AND next_attempt_at <> 'infinity'",
                [delivery.subscription, delivery.id]
            )[0].decode(Int.self, at: 0)
            let decision = pacing.decide(sentAt: recent, now: now, waiting: waiting)
            if case .wait(let until) = decision {
                try await transaction.query(
                    "UPDATE notify.deliveries SET next_attempt_at = $2 WHERE id = $1 AND next_attempt_at <> 'infinity'", [delivery.id, until]
                )
                return .wait
            }
            try await transaction.query("INSERT INTO notify.robot_sends (subscription_id, sent_at) VALUES ($1, $2)", [delivery.subscription, now])
            guard decision == .group else { return .send }
            let others = try await transaction.query(
                """
                SELECT id, digest FROM notify.deliveries
                WHERE subscription_id = $1 AND delivered_at IS NULL AND id <> $2 AND next_attempt_at <> 'infinity'
                ORDER BY created_at, id LIMIT 500 FOR UPDATE SKIP LOCKED
                """,
                [delivery.subscription, delivery.id]
            ).map { (id: try $0.decode(UUID.self, at: 0), digest: try $0.decode(String.self, at: 1)) }
            func named(_ id: UUID, _ digest: String) -> String { digest.isEmpty ? "推送 \(id.wire.prefix(8))" : digest }
            let grouped = WeComMessage.grouped(
                [named(delivery.id, delivery.digest)] + others.map { named($0.id, $0.digest) }, link: "\(dashboard)/ui/?centre=\(centre)"
            )
            let taken = others.prefix(max(0, grouped.named - 1)).map(\.id)
            try await transaction.query(
                "UPDATE notify.deliveries SET next_attempt_at = clock_timestamp() + make_interval(secs => $2) WHERE id = ANY($1::text[]::uuid[])",
                [taken.map(\.wire), leaseSeconds]
            )
            return .group(payload: WeComMessage.json(grouped.markdown), others: taken)
        }
    }

    /// Records a grouped robot message: `delivery` as any attempt; the `others` it named are
    /// delivered with it, or due again at once when it failed.
    func recordGroup(_ delivery: OutgoingDelivery, others: [UUID], _ attempt: DeliveryAttempt) async throws {
        try await record(delivery, attempt)
        guard !others.isEmpty else { return }
        let ids = others.map(\.wire)
        if attempt.succeeded {
            try await pool.transaction { transaction in
                try await transaction.queue(
                    """
                    INSERT INTO notify.attempts (delivery_id, status, error, duration_ms)
                    SELECT id, $2, NULL, 0 FROM notify.deliveries WHERE id = ANY($1::text[]::uuid[]) AND delivered_at IS NULL
                    """,
                    [ids, attempt.status]
                )
                try await transaction.queue(
                    """
                    UPDATE notify.deliveries SET delivered_at = clock_timestamp(), attempts = attempts + 1, last_error = NULL
                    WHERE id = ANY($1::text[]::uuid[]) AND delivered_at IS NULL
                    """,
                    [ids]
                )
            }
        } else {
            try await pool.query(
                """
                UPDATE notify.deliveries SET next_attempt_at = clock_timestamp()
                WHERE id = ANY($1::text[]::uuid[]) AND delivered_at IS NULL AND next_attempt_at <> 'infinity'
                """,
                [ids]
            )
        }
    }
}

/// What a WeCom delivery does before it is sent (``DeliveryLedger/pace(_:)``).
enum RobotPlan: Sendable, Equatable {
    case send
    case skip
    case wait
    /// Send `payload` (a message naming several pushes) instead; `others` go with it.
    case group(payload: String, others: [UUID])
}
