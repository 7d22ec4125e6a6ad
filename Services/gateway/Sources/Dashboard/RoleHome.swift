import Hummingbird
import PinganAccess

/// In front of the day's work (`/ui/`): a person whose roles may not list a centre's cases is
/// sent to the page that is theirs instead of one the API would refuse: a grid worker to the
/// grid pages (``GridPage``), a person who acts only for a department to its summons
/// (``DepartmentPage``).
struct RoleHome: RouterMiddleware {
    func handle(_ request: Request, context: PageContext, next: (Request, PageContext) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        if request.method == .get || request.method == .head, path == "/ui/" || path == "/ui",
           let visitor = context.visitor, let home = Self.home(for: visitor.session.principal) {
            return Dashboard.redirect(home)
        }
        return try await next(request, context)
    }

    /// The page `principal` starts from, when it is not the day's work.
    static func home(for principal: Principal) -> String? {
        if principal.roles == [.department] { return "/ui/department" }
        if GridPage.isHome(for: principal) { return "/ui/grid" }
        return nil
    }
}
