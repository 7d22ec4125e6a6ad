import Foundation
import PinganAccess
import PinganDomain
import PinganPostgres

/// The statement of one `ListDeliveries` page, shaped by the filter that leads it, so each
/// walks an index in queue order and reads about a page, however large `notify.deliveries`
/// grows (migration 10):
///
/// - a warning (`subject_id`, and `deliveries_about_warning` for the notices about it) or a case
///   (`deliveries_case`): the few deliveries of one warning or one case, narrowed by the
///   other filters;
/// - a centre alone: per subscription of the centre and per push type, the first page in
///   queue order (`deliveries_subscription`), merged. A centre has a handful of
///   subscriptions, so this reads a handful of pages, never the centre's whole history.
///
/// Every shape shows only deliveries to subscriptions of centres under the caller's root, or
/// of the one centre `also` above it (``SubscriberScope``): those were queued for a centre
/// under the subscriber's.
struct DeliveryQuery {
    let sql: String
    let parameters: [any PostgresEncodable]

    static let columns = """
        d.id, d.subject_id, d.subscription_id, d.attempts, d.delivered_at, d.last_error, d.centre_code, s.centre_code,
        d.created_at, d.event, d.case_id
        """

    init(filter: DeliveryFilter, root: DivisionCode, also: DivisionCode? = nil, cursor: PageCursor?, limit: Int) {
        var parameters: [any PostgresEncodable] = []
        func bind(_ value: any PostgresEncodable) -> String {
            parameters.append(value)
            return "$\(parameters.count)"
        }
        var within = "s.centre_code BETWEEN \(bind(root.rawValue)) AND \(bind(root.lastInSubtree))"
        if let also { within = "(\(within) OR s.centre_code = \(bind(also.rawValue)))" }
        var subscriptions = [within]
        if let centre = filter.centre { subscriptions.append("s.centre_code = \(bind(centre.rawValue))") }
        var deliveries: [String] = []
        if let cursor { deliveries.append("(d.created_at, d.id) > (\(bind(cursor.time)), \(bind(cursor.id)))") }
        let pageSize = bind(limit)
        if filter.subject == nil, filter.caseID == nil {
            let types = bind(filter.eventType.map { [$0] } ?? PushEvents.listed.sorted())
            let after = deliveries.map { " AND \($0)" }.joined()
            sql = """
                SELECT \(Self.columns) FROM notify.subscriptions s
                CROSS JOIN unnest(\(types)::text[]) AS kind (event)
                CROSS JOIN LATERAL (
                    SELECT d.id, d.subject_id, d.subscription_id, d.attempts, d.delivered_at, d.last_error, d.centre_code, d.created_at, d.event, d.case_id
                    FROM notify.deliveries d
                    WHERE d.subscription_id = s.id AND d.event = kind.event\(after)
                    ORDER BY d.created_at, d.id LIMIT \(pageSize)
                ) d
                WHERE \(subscriptions.joined(separator: " AND "))
                ORDER BY d.created_at, d.id LIMIT \(pageSize)
                """
        } else {
            // A warning's own push (subject_id) and the notices about it (about_warning), each
            // by its own index: no row is both, since a notice's subject is its event.
            var source = "notify.deliveries"
            if let subject = filter.subject {
                let warning = bind(subject)
                source = """
                    (SELECT * FROM notify.deliveries WHERE subject_id = \(warning)
                     UNION ALL SELECT * FROM notify.deliveries WHERE about_warning = \(warning))
                    """
            }
            if let caseID = filter.caseID { deliveries.append("d.case_id = \(bind(caseID))") }
            if let event = filter.eventType { deliveries.append("d.event = \(bind(event))") }
            sql = """
                SELECT \(Self.columns) FROM \(source) d JOIN notify.subscriptions s ON s.id = d.subscription_id
                WHERE \((deliveries + subscriptions).joined(separator: " AND "))
                ORDER BY d.created_at, d.id LIMIT \(pageSize)
                """
        }
        self.parameters = parameters
    }
}
