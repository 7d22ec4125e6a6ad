import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import PinganAccess
import PinganConnect
import PinganDomain
import PinganRuntime

/// The centre dashboard, served by the gateway under `/ui/` on its own origin: sign-in with
/// the gateway's accounts, then pages built from the services' methods, called as the
/// signed-in person through the gateway's door (``DashboardClient``).
///
/// The session is the bearer token the gateway issues, kept in an `HttpOnly`, `SameSite=Strict`
/// cookie; every form that changes something also carries a token derived from it (`csrf`).
struct Dashboard: Sendable {
    let forwarder: Forwarder
    let tokens: TokenSigner
    let auth: AuthServiceHandler
    let admin: AdminServiceHandler
    let residents: ResidentDesk
    let now: @Sendable () -> Date
    /// The signed-in centres' names, for the frame.
    let centreNames = CentreNames()

    static let cookie = "pingan_session"

    /// The dashboard's routes, a group per page, for the runtime to serve under `/ui/`.
    ///
    /// Middleware added to the router applies to the routes added after it, and all of it to
    /// the router's not-found answer; the order below relies on that. ``PageErrors`` comes
    /// first, in front of everything. The gates the signed-in pages' group has are added to
    /// the router once more after the last route, so they stand in front of the not-found
    /// answer only: an address no route answers sends a stranger to sign in, and tells a
    /// signed-in person "没有这个页面。" (``UnknownPage``), as a page's refusal would.
    func responder() -> DashboardResponder {
        let router = Router(context: PageContext.self, options: .autoGenerateHeadEndpoints)
        router.add(middleware: PageErrors(dashboard: self))
        SiteRoot.routes(router)
        let ui = router.group("ui")

        // Open to anyone: the stylesheet, and signing in.
        ui.get("style.css") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/css; charset=utf-8", .cacheControl: "max-age=3600"],
                     body: .init(byteBuffer: ByteBuffer(string: Frame.stylesheet)))
        }
        LoginPage.routes(ui.group("login"), auth: auth)

        // Residents: the Open311 door for their apps, and the pages they file and follow on.
        Open311.routes(router, forwarder: forwarder)
        ResidentPages.routes(router.group("resident"), desk: residents)

        // Every other page is for a signed-in person, and a form posted to one must carry the
        // session's form token.
        let pages = ui.group().add(middleware: SessionGate(dashboard: self)).add(middleware: FormGate())
        pages.post("logout") { _, _ in LoginPage.signedOut() }
        GridPage.routes(pages.group("grid"), now: now)
        TodayPage.routes(pages.group().add(middleware: RoleHome()), now: now)
        TodayPage.warningRoutes(pages.group("warnings"))
        CasePage.routes(pages.group("cases"), now: now)
        IntakePage.routes(pages.group("intake"))
        TriagePage.routes(pages.group("triage"))
        TopicPage.routes(pages.group("topics"), now: now)
        IndexPage.routes(pages.group("index"), gatewayCentre: forwarder.centre, now: now)
        DepartmentPage.routes(pages.group("department"), now: now)
        AdminPage.routes(pages.group("admin"), admin: admin)

        router.add(middleware: SessionGate(dashboard: self)).add(middleware: FormGate()).add(middleware: UnknownPage())
        return DashboardResponder(router: router.buildResponder())
    }

    /// The signed-in person, from the session cookie.
    struct Session: Sendable {
        let token: String
        let principal: Principal
        let csrf: String
        /// The signed-in centre's name, for the frame.
        var centreName: String

        /// The centre a page is for: the signed-in one, or one below it named in the address.
        func centre(_ text: String?) throws -> DivisionCode {
            guard let text, !text.isEmpty else { return principal.centre }
            return try DivisionCode.field(text, "centre")
        }
    }

    /// The session the request's cookie holds, its frame naming the centre by code; `nil`
    /// when there is no cookie or its token does not verify.
    func session(_ request: Request) -> Session? {
        for token in request.headers.cookies(named: Self.cookie) {
            guard let principal = try? forwarder.person(token, now: now()) else { continue }
            return Session(token: token, principal: principal, csrf: Self.csrf(for: token), centreName: principal.centre.rawValue)
        }
        return nil
    }

    /// A form token bound to the session: a page from another site cannot know it.
    static func csrf(for token: String) -> String {
        SHA256.hash(data: Data(("pingan-dashboard-form|" + token).utf8)).prefix(16).hexadecimal
    }

    static func centreParameter(_ text: String?) -> String? {
        text.flatMap { try? DivisionCode(validating: $0) }?.rawValue
    }

    /// A refused call as a page: not found for anything the person may not see, so a page
    /// says no more about what exists than the API does.
    static func refusal(_ error: ConnectError, session: Session?) -> Response {
        guard let session else { return redirect("/ui/login") }
        switch error.code {
        case .unauthenticated: return redirect("/ui/login")
        case .notFound, .permissionDenied: return message(status: .notFound, "未找到，或不在本中心的辖区内。", session)
        case .invalidArgument: return message(status: .badRequest, "提交的内容或地址有误：\(error.message)", session)
        case .failedPrecondition: return message(status: .conflict, "这一步现在不能做：\(error.message)", session)
        case .unavailable, .deadlineExceeded: return message(status: .serviceUnavailable, "服务暂时不可用，请稍后刷新。", session)
        default: return message(status: .internalServerError, "页面出错了，请稍后再试。", session)
        }
    }

    static func page(status: HTTPResponse.Status = .ok, _ title: String, _ content: String, _ session: Session) -> Response {
        let frame = Frame(title: title, user: session.principal.subject.replacingOccurrences(of: "user:", with: ""),
                          centreName: session.centreName, csrf: session.csrf, content: content,
                          administers: AdminPage.isOffered(to: session.principal), takesIn: IntakePage.isOffered(to: session.principal), reportsFromGrid: GridPage.isOffered(to: session.principal),
                          actsForDepartment: DepartmentPage.isOffered(to: session.principal), followsTopics: TopicPage.isOffered(to: session.principal))
        return html(frame.render(), status: status)
    }

    /// A page that only says `message`: a refusal, or a form that could not be taken.
    static func message(status: HTTPResponse.Status, _ message: String, _ session: Session) -> Response {
        page(status: status, message, "<p class=\"error\" role=\"alert\">\(View.escape(message))</p><p><a href=\"/ui/\">返回今日工作</a></p>", session)
    }

    static func html(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [
            .contentType: "text/html; charset=utf-8", .cacheControl: "no-store",
            .contentSecurityPolicy: "default-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'",
        ], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    static func redirect(_ location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location, .cacheControl: "no-store"])
    }

    /// An `application/x-www-form-urlencoded` body, at most 16 KiB.
    static func form(_ request: Request) async throws -> [String: String] {
        let body = try await request.body.collect(upTo: 16 << 10)
        var fields: [String: String] = [:]
        for pair in String(buffer: body).split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map { part in
                String(part).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? ""
            }
            if let name = parts.first { fields[name] = parts.count > 1 ? parts[1] : "" }
        }
        return fields
    }
}
