import Foundation
import Hummingbird

extension CasePage {
    /// `/ui/cases/:id`, one case with its parties masked (`?reports=` and `?timeline=` carry
    /// the page tokens of the "更早" links, `?done=` the step just taken), `POST
    /// /ui/cases/:id/reveal`, the newest page with them in full (the case service records the
    /// read), and the forms of each step (``stepRoutes(_:now:)``).
    static func routes(_ cases: RouterGroup<PageContext>, now: @escaping @Sendable () -> Date) {
        cases.get(":id") { request, context in
            let query = request.uri.queryParameters
            let position = Position(reports: query["reports"].map(String.init) ?? "", timeline: query["timeline"].map(String.init) ?? "")
            var page = try await page(context, reveal: false, at: position, now: now())
            let done = query["done"].map(String.init) ?? ""
            // A hand-back of a county's case takes effect once the county's mesh applies it.
            page.notice = done == "hand-back" && !page.owner.isEmpty ? "已交回，待县级平台同步后生效。" : notice(done)
            return Dashboard.page("案件", page.render(), try context.requireVisitor().session)
        }
        cases.post(":id/reveal") { _, context in
            Dashboard.page("案件", try await page(context, reveal: true, at: Position(), now: now()).render(), try context.requireVisitor().session)
        }
        stepRoutes(cases, now: now)
    }

    private static func page(_ context: PageContext, reveal: Bool, at position: Position, now: Date) async throws -> CasePage {
        let visitor = try context.requireVisitor()
        return try await load(
            id: try context.parameters.require("id"), reveal: reveal, at: position, for: visitor.session.principal, csrf: visitor.session.csrf,
            now: now, client: visitor.client
        )
    }
}
