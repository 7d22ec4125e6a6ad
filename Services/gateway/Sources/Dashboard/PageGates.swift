import Hummingbird
import Logging
import PinganConnect
import PinganContracts

/// In front of every page but the stylesheet and signing in: a request without a session
/// that verifies is sent to sign in; otherwise the page gets its ``Visitor``, with the
/// signed-in centre's name for the frame (``CentreNames``).
struct SessionGate: RouterMiddleware {
    let dashboard: Dashboard

    func handle(_ request: Request, context: PageContext, next: (Request, PageContext) async throws -> Response) async throws -> Response {
        guard var session = dashboard.session(request) else { return Dashboard.redirect("/ui/login") }
        let client = DashboardClient(forwarder: dashboard.forwarder, token: session.token, peer: context.peer, logger: context.logger)
        let home = session.principal.centre.rawValue
        // A page still shows when the grid service cannot name the centre; the code stands in.
        session.centreName = await dashboard.centreNames.name(of: home, now: dashboard.now()) {
            try await client.call(DivisionServiceMethods.getDivision, .with { $0.code = home }).division.name
        }
        var context = context
        context.visitor = Visitor(session: session, client: client)
        return try await next(request, context)
    }
}

/// In front of every form a page posts, behind ``SessionGate``: the body is read (at most
/// 16 KiB) and refused unless it carries the session's form token, so a page on another site
/// cannot post for the signed-in person. Any other method passes untouched.
struct FormGate: RouterMiddleware {
    func handle(_ request: Request, context: PageContext, next: (Request, PageContext) async throws -> Response) async throws -> Response {
        guard request.method == .post else { return try await next(request, context) }
        let session = try context.requireVisitor().session
        let form = try await Dashboard.form(request)
        guard form["csrf"] == session.csrf else { return Dashboard.message(status: .forbidden, "请从页面提交表单。", session) }
        var context = context
        context.form = form
        return try await next(request, context)
    }
}

/// An address under `/ui/` no route answers, or not for this method: "没有这个页面。" in the
/// frame. It stands behind the gates, so only a signed-in person, and for a form only one
/// whose token is good, learns that the page does not exist.
struct UnknownPage: RouterMiddleware {
    func handle(_ request: Request, context: PageContext, next: (Request, PageContext) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            return Dashboard.message(status: .notFound, "没有这个页面。", try context.requireVisitor().session)
        }
    }
}

/// In front of everything: a page that fails is still a page. A refused call says why
/// (``Dashboard/refusal(_:session:)``); anything else is logged and says "页面出错了". The
/// session is read afresh from the cookie, since the failure may come before or from the
/// gates, so the frame names the centre by its code.
struct PageErrors: RouterMiddleware {
    let dashboard: Dashboard

    func handle(_ request: Request, context: PageContext, next: (Request, PageContext) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as ConnectError {
            return Dashboard.refusal(error, session: dashboard.session(request))
        } catch {
            context.logger.error("dashboard page failed", metadata: ["path": "\(request.uri.path)", "error": "\(error)"])
            return Dashboard.refusal(ConnectError(.internal, ""), session: dashboard.session(request))
        }
    }
}
