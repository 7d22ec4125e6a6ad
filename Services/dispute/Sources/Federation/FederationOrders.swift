import Foundation
import PinganContracts
import PinganDomain
import PinganPostgres

/// A step the city takes on a county's case that it coordinates: the county's mesh, which
/// alone changes the case, applies it. Handing the case back (交回) is the one there is.
struct CaseOrder: Sendable, Equatable {
    let id: UUID
    let caseID: UUID
    let note: String
    /// Who at the city (`user:name`).
    let actor: String
    /// The city's centre that gave it.
    let centre: DivisionCode
    let orderedAt: Date

    static let kind = "hand_back"

    var wire: Pingan_Dispute_V1_CaseOrder {
        .with {
            $0.orderID = id.wire
            $0.caseID = caseID.wire
            $0.kind = Self.kind
            $0.note = note
            $0.actor = actor
            $0.centreCode = centre.rawValue
            $0.orderedAt = orderedAt.wireTimestamp
        }
    }

    /// An order as the county's relay received it; `nil` for one this release does not know.
    init?(_ wire: Pingan_Dispute_V1_CaseOrder) {
        guard wire.kind == Self.kind, let id = UUID(uuidString: wire.orderID), let caseID = UUID(uuidString: wire.caseID),
              let centre = try? DivisionCode(validating: wire.centreCode) else { return nil }
        self.init(id: id, caseID: caseID, note: wire.note, actor: wire.actor, centre: centre, orderedAt: Date(wireTimestamp: wire.orderedAt) ?? Date())
    }

    init(id: UUID, caseID: UUID, note: String, actor: String, centre: DivisionCode, orderedAt: Date) {
        self.id = id
        self.caseID = caseID
        self.note = note
        self.actor = actor
        self.centre = centre
        self.orderedAt = orderedAt
    }
}

/// The orders on both sides of the link: the city keeps them until the county reports their
/// outcome; the county keeps what it made of each until the city has heard.
struct FederationOrders: Sendable {
    let pool: PostgresPool

    /// Orders the county's relay fetches in one call, at most.
    static let perCall = 64

    // MARK: The city's side

    func place(_ order: CaseOrder, for county: DivisionCode) async throws {
        try await pool.query(
            """
            INSERT INTO dispute.federation_orders (id, case_id, county_code, kind, note, actor, centre_code, ordered_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
            """,
            [order.id, order.caseID, county.rawValue, CaseOrder.kind, order.note, order.actor, order.centre.rawValue, order.orderedAt]
        )
    }

    /// Records what `county` made of its orders (another county's ids change nothing), then
    /// answers the ones still waiting for it, oldest first.
    func exchange(_ outcomes: [Pingan_Dispute_V1_OrderOutcome], county: DivisionCode, at now: Date) async throws -> [CaseOrder] {
        try await pool.transaction { transaction in
            for outcome in outcomes {
                guard let id = UUID(uuidString: outcome.orderID) else { continue }
                try await transaction.queue(
                    """
                    UPDATE dispute.federation_orders SET applied_at = $3, outcome_code = $4, outcome_message = $5
                    WHERE id = $1 AND county_code = $2 AND applied_at IS NULL
                    """,
                    [id, county.rawValue, now, outcome.code, String(outcome.message.prefix(500))]
                )
            }
            return try await transaction.query(
                """
                SELECT id, case_id, note, actor, centre_code, ordered_at FROM dispute.federation_orders
                WHERE county_code = $1 AND applied_at IS NULL ORDER BY ordered_at, id LIMIT $2
                """,
                [county.rawValue, Self.perCall]
            ).map { row in
                CaseOrder(
                    id: try row.decode(UUID.self, at: 0), caseID: try row.decode(UUID.self, at: 1), note: try row.decode(String.self, at: 2),
                    actor: try row.decode(String.self, at: 3), centre: try DivisionCode(validating: try row.decode(String.self, at: 4)),
                    orderedAt: try row.decode(Date.self, at: 5)
                )
            }
        }
    }

    // MARK: The county's side

    /// Whether the order was applied (or refused) here already.
    func handled(_ order: UUID) async throws -> Bool {
        let found = try await pool.query("SELECT 1 FROM dispute.federation_orders_applied WHERE order_id = $1", [order])
        return !found.isEmpty
    }

    /// The statement that records an order applied, queued in the transaction of its change.
    static func applied(_ order: UUID, at now: Date) -> PostgresStatement {
        (
            "INSERT INTO dispute.federation_orders_applied (order_id, code, message, applied_at) VALUES ($1, '', '', $2) ON CONFLICT DO NOTHING",
            [order, now]
        )
    }

    /// Records an order refused here, with why.
    func refused(_ order: UUID, code: String, message: String, at now: Date) async throws {
        try await pool.query(
            "INSERT INTO dispute.federation_orders_applied (order_id, code, message, applied_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            [order, code, String(message.prefix(500)), now]
        )
    }

    /// What the city has not heard yet, oldest first.
    func unreported() async throws -> [Pingan_Dispute_V1_OrderOutcome] {
        try await pool.query(
            "SELECT order_id, code, message FROM dispute.federation_orders_applied WHERE acknowledged_at IS NULL ORDER BY applied_at LIMIT $1",
            [Self.perCall]
        ).map { row in
            var outcome = Pingan_Dispute_V1_OrderOutcome()
            outcome.orderID = try row.decode(UUID.self, at: 0).wire
            outcome.code = try row.decode(String.self, at: 1)
            outcome.message = try row.decode(String.self, at: 2)
            return outcome
        }
    }

    func reported(_ outcomes: [Pingan_Dispute_V1_OrderOutcome], at now: Date) async throws {
        guard !outcomes.isEmpty else { return }
        try await pool.query(
            "UPDATE dispute.federation_orders_applied SET acknowledged_at = $2 WHERE order_id = ANY($1::text[]::uuid[])",
            [outcomes.map(\.orderID), now]
        )
    }
}
