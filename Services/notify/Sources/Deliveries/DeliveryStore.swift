import Foundation
import PinganAccess
import PinganDomain
import PinganConnect
import PinganOutbox
import PinganPostgres

/// Where subscriptions and their deliveries live: the bookkeeping of who is pushed what. It
/// returns domain types (``Subscription``, ``Delivery``); what a message says is
/// ``PushRendering``'s, sending it is the channels' (``PushSenders``), and the workers'
/// side of the queue is ``DeliveryLedger``'s.
protocol DeliveryStore: Sendable {
    /// Subscribes an endpoint; the same endpoint of the same centre again returns the
    /// existing subscription with the new filter and secret.
    func subscribe(centre: DivisionCode, url: String, secret: String, channel: PushChannel, filter: SubscriptionFilter, phone: String, email: String) async throws -> Subscription
    func subscription(_ id: UUID) async throws -> Subscription?
    /// Subscriptions of `root` and the centres below it, and of `also` (``SubscriberScope``),
    /// newest first.
    func subscriptions(under root: DivisionCode, also: DivisionCode?, after cursor: PageCursor?, limit: Int) async throws -> [(subscription: Subscription, cursor: PageCursor)]
    func update(_ id: UUID, filter: SubscriptionFilter) async throws -> Subscription?
    /// Makes `secret` the subscription's signing secret; the one it replaces keeps signing
    /// beside it for `overlap` seconds. The same secret again changes nothing.
    func rotate(_ id: UUID, secret: String, overlap: Int) async throws -> Subscription?
    /// Stops a subscription and drops what is still queued to it; the delivery history stays.
    func unsubscribe(_ id: UUID) async throws
    /// Pauses a subscription (its deliveries wait) or resumes it (they go, and the workers are
    /// woken for them); pausing a paused one keeps when it was first paused.
    func pause(_ id: UUID, _ paused: Bool) async throws -> Subscription?
    /// Queues one delivery of `content` per subscriber of `centre` or any centre above it
    /// whose filter admits it, rendered for the subscriber's channel. Applying the same
    /// event again queues nothing more.
    func queue(_ content: PushContent, centre: DivisionCode, applying event: EventDelivery) async throws -> Int
    /// Queues `content` (a test push, ``PushContent/init(testOf:delivery:)``) to `subscription`
    /// alone, whatever its filter, as a delivery whose id is the content's subject, due at once.
    /// It then goes as every delivery does: claimed by the workers, signed, paced, retried
    /// and recorded by ``DeliveryLedger``.
    func queueTest(_ content: PushContent, to subscription: Subscription) async throws
    /// The deliveries matching `filter` to subscriptions of centres under `root`, in the order
    /// they were queued, from after `cursor`, each with the centre it was queued for and its
    /// subscriber's centre.
    func deliveries(_ filter: DeliveryFilter, within root: DivisionCode, also: DivisionCode?, after cursor: PageCursor?, limit: Int) async throws -> [Delivery]
}

/// Subscriptions and deliveries in schema `notify`. Deliveries are work for the workers:
/// what can go at once is handed to them when the event's batch commits (``DeliveryHandoff``),
/// the rest waits for their claim.
struct PostgresDeliveryStore: DeliveryStore {
    static let columns = "s.id, s.centre_code, s.url, s.channel, s.event_types, s.min_score, s.categories::text[], s.phone, s.created_at, s.email, s.paused_at"

    let pool: PostgresPool
    let outbox: Outbox
    let push: PushSettings
    /// Where deliveries that can go at once are handed to this process's workers.
    let handoff: DeliveryHandoff
    var inbox: EventInbox { EventInbox(pool: pool, outbox: outbox) }

    func subscribe(centre: DivisionCode, url: String, secret: String, channel: PushChannel, filter: SubscriptionFilter, phone: String, email: String) async throws -> Subscription {
        let row = try await pool.query(
            """
            INSERT INTO notify.subscriptions AS s (id, centre_code, url, secret, channel, event_types, min_score, categories, phone, email)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8::integer[], $9, $10)
            ON CONFLICT (centre_code, channel, url, phone, email) WHERE deleted_at IS NULL
            DO UPDATE SET secret = EXCLUDED.secret, event_types = EXCLUDED.event_types, min_score = EXCLUDED.min_score,
                categories = EXCLUDED.categories
            RETURNING \(Self.columns)
            """,
            [UUID.random(), centre.rawValue, url, secret, channel.rawValue, filter.eventTypes, filter.minScore, filter.categories.map(String.init), phone, email]
        )
        return try Self.decodeSubscription(row[0])
    }

    func subscription(_ id: UUID) async throws -> Subscription? {
        try await pool.query("SELECT \(Self.columns) FROM notify.subscriptions s WHERE s.id = $1 AND s.deleted_at IS NULL", [id])
            .first.map(Self.decodeSubscription)
    }

    func subscriptions(under root: DivisionCode, also: DivisionCode?, after cursor: PageCursor?, limit: Int) async throws -> [(subscription: Subscription, cursor: PageCursor)] {
        try await pool.query(
            """
            SELECT \(Self.columns) FROM notify.subscriptions s
            WHERE (s.centre_code BETWEEN $1 AND $2 OR s.centre_code = $6) AND s.deleted_at IS NULL
              AND ($3::timestamptz IS NULL OR (s.created_at, s.id) < ($3, $4))
            ORDER BY s.created_at DESC, s.id DESC LIMIT $5
            """,
            [root.rawValue, root.lastInSubtree, cursor?.time, cursor?.id, limit, also?.rawValue]
        ).map { row in
            let subscription = try Self.decodeSubscription(row)
            return (subscription, PageCursor(time: try row.decode(Date.self, at: 8), id: subscription.id))
        }
    }

    func update(_ id: UUID, filter: SubscriptionFilter) async throws -> Subscription? {
        try await pool.query(
            """
            UPDATE notify.subscriptions AS s SET event_types = $2, min_score = $3, categories = $4::integer[]
            WHERE s.id = $1 AND s.deleted_at IS NULL RETURNING \(Self.columns)
            """,
            [id, filter.eventTypes, filter.minScore, filter.categories.map(String.init)]
        ).first.map(Self.decodeSubscription)
    }

    func rotate(_ id: UUID, secret: String, overlap: Int) async throws -> Subscription? {
        // Only a new secret moves the current one aside, so a retried rotation keeps the
        // secret it replaced and its overlap.
        try await pool.query(
            """
            UPDATE notify.subscriptions AS s SET secret = $2, previous_secret = s.secret,
                previous_secret_until = clock_timestamp() + make_interval(secs => $3)
            WHERE s.id = $1 AND s.deleted_at IS NULL AND s.secret <> $2
            """,
            [id, secret, Double(overlap)]
        )
        return try await subscription(id)
    }

    func pause(_ id: UUID, _ paused: Bool) async throws -> Subscription? {
        let subscription = try await pool.query(
            """
            UPDATE notify.subscriptions AS s SET paused_at = CASE WHEN $2 THEN coalesce(s.paused_at, clock_timestamp()) END
            WHERE s.id = $1 AND s.deleted_at IS NULL RETURNING \(Self.columns)
            """,
            [id, paused]
        ).first.map(Self.decodeSubscription)
        if !paused { handoff.wakeup.signal() }
        return subscription
    }

    func unsubscribe(_ id: UUID) async throws {
        try await pool.transaction { transaction in
            try await transaction.query("UPDATE notify.subscriptions SET deleted_at = clock_timestamp() WHERE id = $1 AND deleted_at IS NULL", [id])
            try await transaction.query(
                "UPDATE notify.deliveries SET next_attempt_at = 'infinity', last_error = 'unsubscribed' WHERE subscription_id = $1 AND delivered_at IS NULL", [id]
            )
        }
    }

    func queue(_ content: PushContent, centre: DivisionCode, applying event: EventDelivery) async throws -> Int {
        // With each subscription, its secret and whether its breaker is closed (no failure
        // since its last success) and it is not paused: only then may a delivery skip the claim.
        let subscribers = (
            sql: """
                SELECT \(Self.columns), s.secret,
                    s.failures = 0 AND (s.paused_until IS NULL OR s.paused_until <= clock_timestamp()) AND s.paused_at IS NULL,
                    CASE WHEN s.previous_secret_until > clock_timestamp() THEN s.previous_secret END
                FROM notify.subscriptions s WHERE s.centre_code = ANY($1) AND s.deleted_at IS NULL
                """,
            parameters: [centre.selfAndAncestors.map(\.rawValue)] as [any PostgresEncodable]
        )
        return try await inbox.apply(event, reading: [subscribers]) { change in
            let transaction = change.transaction
            guard change.firstDelivery else {
                return try await transaction.query(
                    "SELECT count(*) FROM notify.deliveries WHERE subject_id = $1", [content.subject]
                )[0].decode(Int.self, at: 0)
            }
            var handed: [OutgoingDelivery] = []
            var count = 0
            for row in change.read[0] {
                let subscription = try Self.decodeSubscription(row)
                guard subscription.filter.admits(content) else { continue }
                count += 1
                let id = UUID.random()
                let payload = PushRendering.body(content, for: subscription, delivery: id, sentAt: Date(), settings: push)
                let digest = subscription.channel == .wecom ? PushRendering.digest(content, settings: push) : ""
                // Leased to this process from the start when it is handed over, so no other
                // claim takes it; due at once otherwise.
                var lease: Double? = nil
                if try row.decode(Bool.self, at: 12), handoff.hasRoom(for: subscription.id) {
                    lease = handoff.leaseSeconds
                    handed.append(OutgoingDelivery(
                        id: id, payload: payload, event: content.type, url: subscription.url, secret: try row.decode(String.self, at: 11),
                        attempts: 0, subscription: subscription.id, channel: subscription.channel, email: subscription.email,
                        previousSecret: try row.decode(String?.self, at: 13), digest: digest
                    ))
                }
                try await transaction.queue(
                    """
                    INSERT INTO notify.deliveries (id, subject_id, subscription_id, centre_code, payload, event, next_attempt_at, case_id, digest, about_warning)
                    VALUES ($1, $2, $3, $4, $5, $6, clock_timestamp() + make_interval(secs => coalesce($7::double precision, 0)), $8, $9, $10)
                    ON CONFLICT (subject_id, subscription_id) DO NOTHING
                    """,
                    [id, content.subject, subscription.id, centre.rawValue, payload, content.type, lease, UUID(uuidString: content.caseID), digest, content.warningID]
                )
            }
            if !handed.isEmpty {
                change.afterCommit { [handed, handoff] in handoff.hand(handed) }
            }
            return count
        }
    }

    func queueTest(_ content: PushContent, to subscription: Subscription) async throws {
        let payload = PushRendering.body(content, for: subscription, delivery: content.subject, sentAt: Date(), settings: push)
        let digest = subscription.channel == .wecom ? PushRendering.digest(content, settings: push) : ""
        try await pool.query(
            """
            INSERT INTO notify.deliveries (id, subject_id, subscription_id, centre_code, payload, event, next_attempt_at, digest)
            VALUES ($1, $1, $2, $3, $4, $5, clock_timestamp(), $6)
            """,
            [content.subject, subscription.id, subscription.centre.rawValue, payload, content.type, digest]
        )
        // Not handed over (``DeliveryHandoff``): the claim takes it, minding the subscription's
        // breaker and its sends in flight as for any delivery; the signal makes that claim now.
        handoff.wakeup.signal()
    }

    func deliveries(_ filter: DeliveryFilter, within root: DivisionCode, also: DivisionCode?, after cursor: PageCursor?, limit: Int) async throws -> [Delivery] {
        let query = DeliveryQuery(filter: filter, root: root, also: also, cursor: cursor, limit: limit)
        return try await pool.query(query.sql, query.parameters).map { row in
            Delivery(
                id: try row.decode(UUID.self, at: 0), subject: try row.decode(UUID.self, at: 1), subscription: try row.decode(UUID.self, at: 2),
                attempts: try row.decode(Int.self, at: 3), deliveredAt: try row.decode(Date?.self, at: 4), lastError: try row.decode(String?.self, at: 5),
                centre: try? DivisionCode(validating: try row.decode(String.self, at: 6)),
                subscriber: try? DivisionCode(validating: try row.decode(String.self, at: 7)),
                queuedAt: try row.decode(Date.self, at: 8), event: try row.decode(String.self, at: 9), caseID: try row.decode(UUID?.self, at: 10)
            )
        }
    }
}

extension PostgresDeliveryStore {
    static func decodeSubscription(_ row: PostgresRow) throws -> Subscription {
        Subscription(
            id: try row.decode(UUID.self, at: 0), centre: try DivisionCode(validating: try row.decode(String.self, at: 1)),
            url: try row.decode(String.self, at: 2), channel: PushChannel(rawValue: try row.decode(String.self, at: 3)) ?? .webhook,
            filter: SubscriptionFilter(
                eventTypes: try row.decode([String].self, at: 4), minScore: try row.decode(Int.self, at: 5),
                categories: try row.decode([String].self, at: 6).compactMap { Int($0) }
            ),
            phone: try row.decode(String.self, at: 7),
            email: try row.decode(String.self, at: 9),
            pausedAt: try row.decode(Date?.self, at: 10)
        )
    }
}
