import Foundation
import PinganAccess
import PinganDomain
import PinganConnect
import PinganContracts
import PinganOutbox
import PinganPostgres

/// Where subscriptions and their webhook deliveries live.
/// Where subscriptions and their webhook deliveries live.
protocol DeliveryStore: Sendable {
    func subscribe(centre: DivisionCode, url: String, secret: String) async throws -> UUID
    /// Queues one delivery of `subject` (a warning, a case notice) per subscriber of `centre`
    /// or any centre above it, each with the body `payload` makes for its delivery id.
    /// Applying the same event again queues nothing more.
    func queue(
        _ subject: UUID, type: String, centre: DivisionCode, applying event: EventDelivery,
        payload: @escaping @Sendable (_ delivery: UUID) throws -> String
    ) async throws -> Int
    /// Deliveries of a warning, with the centre each was queued for and its subscriber's centre.
    func deliveries(of warning: UUID) async throws -> [(delivery: Pingan_Notify_V1_Delivery, centre: DivisionCode?, subscriber: DivisionCode?)]
}

/// Subscriptions and webhook deliveries in schema `notify`. Deliveries are work for the
/// dispatcher, so applying an event wakes it as a producer wakes its relay.
struct PostgresDeliveryStore: DeliveryStore {
    let pool: PostgresPool
    let outbox: Outbox
    var inbox: EventInbox { EventInbox(pool: pool, outbox: outbox) }

    func subscribe(centre: DivisionCode, url: String, secret: String) async throws -> UUID {
        let id = UUID()
        try await pool.query(
            "INSERT INTO notify.subscriptions (id, centre_code, url, secret) VALUES ($1, $2, $3, $4)",
            [id, centre.rawValue, url, secret]
        )
        return id
    }

    func queue(
        _ subject: UUID, type: String, centre: DivisionCode, applying event: EventDelivery,
        payload: @escaping @Sendable (_ delivery: UUID) throws -> String
    ) async throws -> Int {
        try await inbox.apply(event) { transaction, firstDelivery in
            guard firstDelivery else {
                return try await transaction.query(
                    "SELECT count(*) FROM notify.deliveries WHERE warning_id = $1", [subject]
                )[0].decode(Int.self, at: 0)
            }
            let subscriptions = try await transaction.query(
                "SELECT id FROM notify.subscriptions WHERE centre_code = ANY($1)", [centre.selfAndAncestors.map(\.rawValue)]
            ).map { try $0.decode(UUID.self, at: 0) }
            for subscription in subscriptions {
                let delivery = UUID()
                try await transaction.query(
                    """
                    INSERT INTO notify.deliveries (id, warning_id, subscription_id, centre_code, payload, event)
                    VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (warning_id, subscription_id) DO NOTHING
                    """,
                    [delivery, subject, subscription, centre.rawValue, try payload(delivery), type]
                )
            }
            return subscriptions.count
        }
    }

    func deliveries(of warning: UUID) async throws -> [(delivery: Pingan_Notify_V1_Delivery, centre: DivisionCode?, subscriber: DivisionCode?)] {
        try await pool.query(
            """
            SELECT d.id, d.warning_id, d.subscription_id, d.attempts, d.delivered_at, d.last_error, d.centre_code, s.centre_code
            FROM notify.deliveries d JOIN notify.subscriptions s ON s.id = d.subscription_id
            WHERE d.warning_id = $1 ORDER BY d.created_at
            """,
            [warning]
        ).map { row in
            var delivery = Pingan_Notify_V1_Delivery()
            delivery.id = try row.decode(UUID.self, at: 0).wire
            delivery.warningID = try row.decode(UUID.self, at: 1).wire
            delivery.subscriptionID = try row.decode(UUID.self, at: 2).wire
            delivery.attempts = Int32(try row.decode(Int.self, at: 3))
            delivery.deliveredAt = try row.decode(Date?.self, at: 4)?.wireTimestamp ?? ""
            delivery.lastError = try row.decode(String?.self, at: 5) ?? ""
            return (delivery, try? DivisionCode(validating: try row.decode(String.self, at: 6)), try? DivisionCode(validating: try row.decode(String.self, at: 7)))
        }
    }
}


/// The webhook bodies notify-service sends: small JSON documents with what the receiving
/// centre needs to act, the same bytes on every retry.
enum WebhookPayload {
    /// A notice about a case: overdue, escalated, summoned.
    static func notice(_ notice: Pingan_Notify_V1_DeliverNoticeRequest, id: UUID, delivery: UUID) throws -> String {
        try json([
            "type": notice.type,
            "delivery_id": delivery.wire,
            "notice_id": id.wire,
            "case_id": notice.caseID,
            "centre_code": notice.centreCode,
            "village_code": notice.villageCode,
            "summary": notice.summary,
            "due_at": notice.dueAt,
            "sent_at": Date().wireTimestamp,
        ])
    }

    static func warningRaised(_ warning: Pingan_Notify_V1_DeliverWarningRequest, delivery: UUID) throws -> String {
        try json([
            "type": "warning.raised",
            "delivery_id": delivery.wire,
            "warning_id": warning.warningID,
            "case_id": warning.caseID,
            "incident_id": warning.incidentID,
            "centre_code": warning.centreCode,
            "village_code": warning.villageCode,
            "score": Int(warning.score),
            "reasons": warning.reasons,
            "sent_at": Date().wireTimestamp,
        ])
    }

    private static func json(_ body: [String: Any]) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys]), as: UTF8.self)
    }
}
