import Foundation
import Hummingbird

extension CasePage {
    /// `/ui/cases/:id`, one case with its parties masked, and `POST /ui/cases/:id/reveal`, the
    /// same page with them in full (the case service records the read).
    static func routes(_ cases: RouterGroup<PageContext>, now: @escaping @Sendable () -> Date) {
        cases.get(":id") { _, context in try await show(context, reveal: false, now: now()) }
        cases.post(":id/reveal") { _, context in try await show(context, reveal: true, now: now()) }
    }

    private static func show(_ context: PageContext, reveal: Bool, now: Date) async throws -> Response {
        let visitor = try context.requireVisitor()
        let page = try await load(
            id: try context.parameters.require("id"), reveal: reveal, for: visitor.session.principal, csrf: visitor.session.csrf, now: now,
            client: visitor.client
        )
        return Dashboard.page("案件", page.render(), visitor.session)
    }
}
