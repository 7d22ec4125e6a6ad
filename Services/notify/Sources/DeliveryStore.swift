import Foundation
import PinganAccess
import PinganConnect
import PinganContracts
import PinganOutbox
import PinganPostgres

/// Subscriptions and webhook deliveries in schema `notify`.
struct DeliveryStore: Sendable {
    let pool: PostgresPool
    let wakeup: OutboxWakeup

    func subscribe(centre: DivisionCode, url: String, secret: String) async throws -> UUID {
        let id = UUID()
        try await pool.query(
            "INSERT INTO notify.subscriptions (id, centre_code, url, secret) VALUES ($1, $2, $3, $4)",
            [id, centre.rawValue, url, secret]
        )
        return id
    }

    /// Queues one delivery per subscriber of the warning's centre or any centre above it.
    /// Applying the same event again queues nothing more.
    func queue(_ warning: Pingan_Notify_V1_DeliverWarningRequest, centre: DivisionCode, eventID: UUID) async throws -> Int {
        defer { wakeup.signal() }
        return try await pool.transaction { transaction in
            guard try await Inbox.markApplied(transaction, schema: "notify", eventID: eventID) else {
                return try await transaction.query(
                    "SELECT count(*) FROM notify.deliveries WHERE warning_id = $1", [UUID.field(warning.warningID, "warning_id")]
                )[0].decode(Int.self, at: 0)
            }
            var ancestors: [String] = []
            var code: DivisionCode? = centre
            while let current = code {
                ancestors.append(current.rawValue)
                code = current.parent
            }
            let subscriptions = try await transaction.query(
                "SELECT id FROM notify.subscriptions WHERE centre_code = ANY($1)", [ancestors]
            ).map { try $0.decode(UUID.self, at: 0) }
            let warningID = try UUID.field(warning.warningID, "warning_id")
            for subscription in subscriptions {
                let delivery = UUID()
                try await transaction.query(
                    """
                    INSERT INTO notify.deliveries (id, warning_id, subscription_id, centre_code, payload)
                    VALUES ($1, $2, $3, $4, $5) ON CONFLICT (warning_id, subscription_id) DO NOTHING
                    """,
                    [delivery, warningID, subscription, centre.rawValue, try Self.payload(warning, delivery: delivery)]
                )
            }
            return subscriptions.count
        }
    }

    func deliveries(of warning: UUID, visibleTo principal: Principal) async throws -> [Pingan_Notify_V1_Delivery] {
        try await pool.query(
            """
            SELECT id, warning_id, subscription_id, attempts, delivered_at, last_error, centre_code
            FROM notify.deliveries WHERE warning_id = $1 ORDER BY created_at
            """,
            [warning]
        ).compactMap { row in
            guard let centre = try? DivisionCode(validating: try row.decode(String.self, at: 6)), principal.covers(centre) else { return nil }
            var delivery = Pingan_Notify_V1_Delivery()
            delivery.id = try row.decode(UUID.self, at: 0).uuidString
            delivery.warningID = try row.decode(UUID.self, at: 1).uuidString
            delivery.subscriptionID = try row.decode(UUID.self, at: 2).uuidString
            delivery.attempts = Int32(try row.decode(Int.self, at: 3))
            delivery.deliveredAt = try row.decode(Date?.self, at: 4)?.wireTimestamp ?? ""
            delivery.lastError = try row.decode(String?.self, at: 5) ?? ""
            return delivery
        }
    }

    /// The webhook body: a small JSON document with what the receiving centre needs to act.
    static func payload(_ warning: Pingan_Notify_V1_DeliverWarningRequest, delivery: UUID) throws -> String {
        let body: [String: Any] = [
            "type": "warning.raised",
            "delivery_id": delivery.uuidString,
            "warning_id": warning.warningID,
            "case_id": warning.caseID,
            "incident_id": warning.incidentID,
            "centre_code": warning.centreCode,
            "village_code": warning.villageCode,
            "score": Int(warning.score),
            "reasons": warning.reasons,
            "sent_at": Date().wireTimestamp,
        ]
        return String(decoding: try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys]), as: UTF8.self)
    }
}
