import Foundation
import PinganAccess
import PinganDomain
import PinganPostgres

/// Where the actions frozen months called for are listed and completed. They are created
/// with the month that calls for them (``MonthStore/publish(_:)``).
protocol ActionStore: Sendable {
    /// The actions of centres in `centre`'s subtree, oldest first, after `after`.
    func actions(under centre: DivisionCode, month: Month?, status: IndexAction.Status?, after: PageCursor?, limit: Int) async throws -> [IndexAction]
    func action(_ id: UUID) async throws -> IndexAction?
    /// Records what was done about an open action; ``IndexRefusal/actionNotOpen(_:)`` when
    /// it is done or withdrawn (or gone).
    func complete(_ id: UUID, outcome: String, by: String, now: Date) async throws -> IndexAction
}

/// Actions in schema `index`.
struct PostgresActionStore: ActionStore {
    let pool: PostgresPool

    /// A page of actions under a centre (`$1`–`$2`), of a month (`$3`) and a status (`$4`)
    /// when given, after a cursor (`$5`, `$6`), in their order. Planned for the values at hand
    /// each time: a wide centre walks `actions_open_order` or `actions_month_order`, a narrow
    /// one `actions_centre`; one generic plan for all would sort the whole table.
    static let listing = """
        SELECT \(IndexRows.actionColumns) FROM index.actions
        WHERE centre_code BETWEEN $1 AND $2 AND ($3::text IS NULL OR month = $3) AND ($4::text IS NULL OR status = $4)
          AND ($5::timestamptz IS NULL OR (created_at, id) > ($5, $6))
        ORDER BY created_at, id LIMIT $7
        """

    func actions(under centre: DivisionCode, month: Month?, status: IndexAction.Status?, after: PageCursor?, limit: Int) async throws -> [IndexAction] {
        try await pool.queryPlannedEachTime(
            Self.listing, [centre.rawValue, centre.lastInSubtree, month?.description, status?.rawValue, after?.time, after?.id, limit]
        ).map(IndexRows.decodeAction)
    }

    func action(_ id: UUID) async throws -> IndexAction? {
        try await pool.query("SELECT \(IndexRows.actionColumns) FROM index.actions WHERE id = $1", [id]).first.map(IndexRows.decodeAction)
    }

    func complete(_ id: UUID, outcome: String, by: String, now: Date) async throws -> IndexAction {
        try await pool.transaction { transaction in
            let locked = try await transaction.query("SELECT \(IndexRows.actionColumns) FROM index.actions WHERE id = $1 FOR UPDATE", [id])
            guard let action = try locked.first.map(IndexRows.decodeAction) else { throw IndexRefusal.actionNotOpen(.withdrawn) }
            try action.requireOpen()
            let updated = try await transaction.query(
                "UPDATE index.actions SET status = 'done', outcome = $2, done_by = $3, done_at = $4 WHERE id = $1 RETURNING \(IndexRows.actionColumns)",
                [id, outcome, by, now]
            )
            guard let done = updated.first else { throw IndexRefusal.actionNotOpen(.withdrawn) }
            return try IndexRows.decodeAction(done)
        }
    }
}
