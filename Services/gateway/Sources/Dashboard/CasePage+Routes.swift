import Foundation
import Hummingbird

extension CasePage {
    /// `/ui/cases/:id`, one case with its parties masked (`?reports=` and `?timeline=` carry
    /// the page tokens of the "更早" links), and `POST /ui/cases/:id/reveal`, the newest page
    /// with them in full (the case service records the read).
    static func routes(_ cases: RouterGroup<PageContext>, now: @escaping @Sendable () -> Date) {
        cases.get(":id") { request, context in
            let query = request.uri.queryParameters
            let position = Position(reports: query["reports"].map(String.init) ?? "", timeline: query["timeline"].map(String.init) ?? "")
            return try await show(context, reveal: false, at: position, now: now())
        }
        cases.post(":id/reveal") { _, context in try await show(context, reveal: true, at: Position(), now: now()) }
    }

    private static func show(_ context: PageContext, reveal: Bool, at position: Position, now: Date) async throws -> Response {
        let visitor = try context.requireVisitor()
        let page = try await load(
            id: try context.parameters.require("id"), reveal: reveal, at: position, for: visitor.session.principal, csrf: visitor.session.csrf,
            now: now, client: visitor.client
        )
        return Dashboard.page("案件", page.render(), visitor.session)
    }
}
