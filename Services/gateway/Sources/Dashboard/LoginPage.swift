import HTTPTypes
import Hummingbird
import PinganConnect
import PinganContracts

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

    /// `/ui/login`, open to anyone: the form, and signing in with it.
    static func routes(_ login: RouterGroup<PageContext>, auth: AuthServiceHandler) {
        login.get { _, _ in Dashboard.html(LoginPage(error: "", hasError: false).render()) }
        login.post { request, context in try await signIn(request, context: context, auth: auth) }
    }

    /// Signs in as `AuthService/Login` does and keeps the token in the session cookie; a
    /// refusal is the form again, saying why in words that give nothing away.
    private static func signIn(_ request: Request, context: PageContext, auth: AuthServiceHandler) async throws -> Response {
        let form = try await Dashboard.form(request)
        let call = ConnectContext(
            path: AuthServiceMethods.login.path, headers: [:], deadline: .now + .seconds(15), trace: .root(), logger: context.logger, peer: context.peer
        )
        do {
            let response = try await auth.signIn(.with { $0.username = form["username"] ?? ""; $0.password = form["password"] ?? "" }, call)
            var redirect = Dashboard.redirect("/ui/")
            // Secure when the ingress in front says the browser came over HTTPS.
            let secure = HTTPField.Name("X-Forwarded-Proto").flatMap { request.headers[$0] } == "https" ? "; Secure" : ""
            redirect.headers[.setCookie] = "\(Dashboard.cookie)=\(response.token); Path=/ui; HttpOnly; SameSite=Strict\(secure)"
            return redirect
        } catch let error as ConnectError {
            let message = switch error.code {
            case .resourceExhausted: "尝试次数过多，请稍后再试。"
            case .invalidArgument: "请填写用户名和密码。"
            default: "用户名或密码不正确。"
            }
            return Dashboard.html(LoginPage(error: message, hasError: true).render(), status: .unauthorized)
        }
    }

    /// Signing out (`POST /ui/logout`, behind the gates like any form): the cookie is cleared.
    static func signedOut() -> Response {
        var response = Dashboard.redirect("/ui/login")
        response.headers[.setCookie] = "\(Dashboard.cookie)=; Path=/ui; HttpOnly; SameSite=Strict; Max-Age=0"
        return response
    }
}
