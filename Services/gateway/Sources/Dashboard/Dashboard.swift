import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Mustache
import PinganAccess
import PinganConnect
import PinganContracts
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
    let now: @Sendable () -> Date

    static let cookie = "pingan_session"

    func respond(_ request: Request, context: PinganRequestContext) async -> Response {
        let path = request.uri.path
        do {
            switch (request.method, path) {
            case (.get, "/ui/style.css"):
                return Response(status: .ok, headers: [.contentType: "text/css; charset=utf-8", .cacheControl: "max-age=3600"],
                                body: .init(byteBuffer: ByteBuffer(string: Frame.stylesheet)))
            case (.get, "/ui/login"):
                return Self.html(LoginPage(error: "", hasError: false).render())
            case (.post, "/ui/login"):
                return try await signIn(request, context: context)
            default:
                break
            }
            guard var session = session(request) else { return Self.redirect("/ui/login") }
            let client = DashboardClient(forwarder: forwarder, token: session.token, peer: context.peer, logger: context.logger)
            let home = session.principal.centre.rawValue
            session.centreName = (try? await client.call(DivisionServiceMethods.getDivision, .with { $0.code = home }).division.name) ?? home
            let query = request.uri.queryParameters
            if request.method == .post {
                let form = try await Self.form(request)
                guard form["csrf"] == session.csrf else { return Self.message(status: .forbidden, "请从页面提交表单。", session) }
                let parts = path.split(separator: "/").map(String.init)
                switch (parts.count, parts.dropFirst().first, parts.last) {
                case (2, "logout", _):
                    var response = Self.redirect("/ui/login")
                    response.headers[.setCookie] = "\(Self.cookie)=; Path=/ui; HttpOnly; SameSite=Strict; Max-Age=0"
                    return response
                case (4, "warnings", let step?):
                    let id = parts[2], text = form["text"] ?? ""
                    switch step {
                    case "acknowledge": _ = try await client.call(RiskServiceMethods.acknowledgeWarning, .with { $0.warningID = id })
                    case "assign": _ = try await client.call(RiskServiceMethods.assignWarning, .with { $0.warningID = id; $0.assignee = text })
                    case "feedback": _ = try await client.call(RiskServiceMethods.feedBackOnWarning, .with { $0.warningID = id; $0.feedback = text })
                    case "evaluate": _ = try await client.call(RiskServiceMethods.evaluateWarning, .with { $0.warningID = id; $0.evaluation = text })
                    case "close": _ = try await client.call(RiskServiceMethods.closeWarning, .with { $0.warningID = id; $0.outcome = text })
                    default: return Self.message(status: .notFound, "没有这个页面。", session)
                    }
                    return Self.redirect("/ui/?centre=\(Self.centreParameter(form["centre"]) ?? session.principal.centre.rawValue)#warnings")
                case (4, "cases", "reveal"):
                    let page = try await CasePage.load(id: parts[2], reveal: true, for: session.principal, csrf: session.csrf, now: now(), client: client)
                    return Self.page("案件", page.render(), session)
                default:
                    return Self.message(status: .notFound, "没有这个页面。", session)
                }
            }
            let parts = path.split(separator: "/").map(String.init)
            switch (parts.count, parts.dropFirst().first) {
            case (1, _):
                let centre = try centre(query["centre"].map(String.init), session)
                let page = try await TodayPage.load(centre: centre, for: session.principal, csrf: session.csrf, now: now(), client: client)
                return Self.page("今日工作", page.render(), session)
            case (2, "cases.csv"):
                let centre = try centre(query["centre"].map(String.init), session)
                let page = try await TodayPage.load(centre: centre, for: session.principal, csrf: session.csrf, now: now(), client: client)
                return Response(status: .ok, headers: [
                    .contentType: "text/csv; charset=utf-8", .contentDisposition: "attachment; filename=\"cases-\(centre.rawValue).csv\"",
                ], body: .init(byteBuffer: ByteBuffer(string: "\u{FEFF}" + page.casesCSV())))
            case (3, "cases"):
                let page = try await CasePage.load(id: parts[2], reveal: false, for: session.principal, csrf: session.csrf, now: now(), client: client)
                return Self.page("案件", page.render(), session)
            case (2, "index"):
                let centre = try centre(query["centre"].map(String.init), session)
                let month = try query["month"].map { text in
                    guard let month = Month(parsing: String(text)) else { throw ConnectError.invalidArgument(field: "month", "must be YYYY-MM") }
                    return month
                }
                let page = try await IndexPage.load(centre: centre, month: month, now: now(), client: client)
                return Self.page("治理指数", page.render(), session)
            case (3, "index") where parts[2] == "review":
                let review = try await client.call(IndexServiceMethods.getMonthlyReview, .with {
                    $0.centreCode = query["centre"].map(String.init) ?? session.principal.centre.rawValue
                    $0.month = query["month"].map(String.init) ?? Month(containing: now()).description
                    $0.format = query["format"] == "csv" ? .csv : .html
                })
                return Response(status: .ok, headers: [.contentType: review.contentType], body: .init(byteBuffer: ByteBuffer(bytes: review.body)))
            default:
                return Self.message(status: .notFound, "没有这个页面。", session)
            }
        } catch let error as ConnectError {
            return Self.refusal(error, session: session(request))
        } catch {
            context.logger.error("dashboard page failed", metadata: ["path": "\(path)", "error": "\(error)"])
            return Self.refusal(ConnectError(.internal, ""), session: session(request))
        }
    }

    /// The signed-in person, from the session cookie; `nil` sends them to sign in.
    struct Session {
        let token: String
        let principal: Principal
        let csrf: String
        /// The signed-in centre's name, for the frame.
        var centreName: String
    }

    func session(_ request: Request) -> Session? {
        guard let header = request.headers[.cookie] else { return nil }
        for pair in header.split(separator: ";") {
            let parts = pair.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, parts[0] == Self.cookie, let principal = try? tokens.verify(parts[1], now: now()) else { continue }
            return Session(token: parts[1], principal: principal, csrf: Self.csrf(for: parts[1]), centreName: principal.centre.rawValue)
        }
        return nil
    }

    /// A form token bound to the session: a page from another site cannot know it.
    static func csrf(for token: String) -> String {
        SHA256.hash(data: Data(("pingan-dashboard-form|" + token).utf8)).prefix(16).hexadecimal
    }

    private func signIn(_ request: Request, context: PinganRequestContext) async throws -> Response {
        let form = try await Self.form(request)
        let call = ConnectContext(
            path: AuthServiceMethods.login.path, headers: [:], deadline: .now + .seconds(15), trace: .root(), logger: context.logger, peer: context.peer
        )
        do {
            let response = try await auth.signIn(.with { $0.username = form["username"] ?? ""; $0.password = form["password"] ?? "" }, call)
            var redirect = Self.redirect("/ui/")
            // Secure when the ingress in front says the browser came over HTTPS.
            let secure = HTTPField.Name("X-Forwarded-Proto").flatMap { request.headers[$0] } == "https" ? "; Secure" : ""
            redirect.headers[.setCookie] = "\(Self.cookie)=\(response.token); Path=/ui; HttpOnly; SameSite=Strict\(secure)"
            return redirect
        } catch let error as ConnectError {
            let message = switch error.code {
            case .resourceExhausted: "尝试次数过多，请稍后再试。"
            case .invalidArgument: "请填写用户名和密码。"
            default: "用户名或密码不正确。"
            }
            return Self.html(LoginPage(error: message, hasError: true).render(), status: .unauthorized)
        }
    }

    /// The centre a page is for: the signed-in one, or one below it named in the address.
    private func centre(_ text: String?, _ session: Session) throws -> DivisionCode {
        guard let text, !text.isEmpty else { return session.principal.centre }
        return try DivisionCode.field(text, "centre")
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
                          centreName: session.centreName, csrf: session.csrf, content: content)
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

/// Signing in: the gateway's accounts, throttled as `AuthService/Login` is.
struct LoginPage {
    let error: String
    let hasError: Bool

    static let template = View.template("""
    <!doctype html>
    <html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
    <title>登录 · 平安</title><link rel="stylesheet" href="/ui/style.css"></head>
    <body><main>
    <form class="login" method="post" action="/ui/login">
      <h1>平安 · 社会治理中心</h1>
      {{#hasError}}<p class="error" role="alert">{{error}}</p>{{/hasError}}
      <label for="username">用户名</label><input id="username" name="username" autocomplete="username" required>
      <label for="password">密码</label><input id="password" name="password" type="password" autocomplete="current-password" required>
      <p><button type="submit">登录</button></p>
    </form>
    </main></body></html>
    """)

    func render() -> String { Self.template.render(self) }
}
