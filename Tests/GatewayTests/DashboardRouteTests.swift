import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
@testable import GatewayService
import PinganDomain
import PinganTestSupport
import Testing

/// The dashboard's addresses, answered by the gateway alone (every other service is
/// unreachable here): who is sent to sign in, which forms are refused, and what an unknown
/// address says. The pages themselves, against the whole mesh, are in
/// Tests/Interop/test_dashboard.py.
@Suite("dashboard routes")
struct DashboardRouteTests {
    /// One answer, with what the assertions look at.
    struct Answer {
        let status: HTTPResponse.Status
        let headers: HTTPFields
        let text: String

        var location: String? { headers[.location] }
    }

    /// A browser's requests to the gateway: with the session cookie once signed in.
    struct Browser {
        let client: any TestClientProtocol
        var cookie: String?

        func get(_ uri: String) async throws -> Answer {
            try await ask(.get, uri)
        }

        /// A request with no body, by any method.
        func ask(_ method: HTTPRequest.Method, _ uri: String) async throws -> Answer {
            try await send(uri, method: method, headers: [:], body: ByteBuffer())
        }

        func post(_ uri: String, _ form: String, headers: HTTPFields = [:]) async throws -> Answer {
            var headers = headers
            headers[.contentType] = "application/x-www-form-urlencoded"
            return try await send(uri, method: .post, headers: headers, body: ByteBuffer(string: form))
        }

        private func send(_ uri: String, method: HTTPRequest.Method, headers: HTTPFields, body: ByteBuffer) async throws -> Answer {
            var headers = headers
            if let cookie { headers[.cookie] = "other=1; \(Dashboard.cookie)=\(cookie)" }
            let response = try await client.executeRequest(uri: uri, method: method, headers: headers, body: body)
            return Answer(status: response.status, headers: response.headers, text: String(buffer: response.body))
        }
    }

    @Test func strangersSignInUnknownAddressesAreNoSuchPageAndFormsNeedTheirToken() async throws {
        try await TestDatabase.with { database in
            let settings = GatewaySettings(
                service: try TestMesh.settings(databaseURL: database.url), centre: try DivisionCode(validating: Place.lixian),
                tokenSecret: TestMesh.tokenSecret, bcryptCost: 4
            )
            try await GatewayApp.withAccounts(settings: settings) { accounts in
                try await accounts.saveUser(
                    username: "xiaodukou", password: "correct-horse-battery", centre: try DivisionCode(validating: Place.townA), roles: [.staff, .mediator]
                )
            }
            try await GatewayApp.build(settings: settings).test(.router) { client in
                var browser = Browser(client: client)

                // Open to anyone: the stylesheet and signing in.
                let style = try await browser.get("/ui/style.css")
                #expect(style.status == .ok && style.headers[.contentType] == "text/css; charset=utf-8" && style.text.contains("--ink"))
                let login = try await browser.get("/ui/login")
                #expect(login.status == .ok && login.text.contains("action=\"/ui/login\"") && login.headers[.cacheControl] == "no-store")
                let wrong = try await browser.post("/ui/login", "username=xiaodukou&password=wrong-horse")
                #expect(wrong.status == .unauthorized && wrong.text.contains("用户名或密码不正确。"))

                // Everything else sends a stranger to sign in, whatever the address or method.
                for uri in ["/ui", "/ui/", "/ui/nowhere", "/ui/cases/c1", "/ui/index/review", "/ui/logout"] {
                    for method in [HTTPRequest.Method.get, .head, .delete] {
                        let answer = try await browser.ask(method, uri)
                        #expect(answer.status == .seeOther && answer.location == "/ui/login", "\(method) \(uri)")
                    }
                }
                for uri in ["/ui/logout", "/ui/nowhere", "/ui/warnings/w1/acknowledge"] {
                    let answer = try await browser.post(uri, "csrf=x")
                    #expect(answer.status == .seeOther && answer.location == "/ui/login", "\(uri)")
                }
                browser.cookie = "forged.token"
                #expect(try await browser.get("/ui/").location == "/ui/login")

                // Signing in sets the session cookie, Secure when the ingress says HTTPS.
                browser.cookie = nil
                let proto = try #require(HTTPField.Name("X-Forwarded-Proto"))
                let secure = try await browser.post("/ui/login", "username=xiaodukou&password=correct-horse-battery", headers: [proto: "https"])
                #expect(secure.status == .seeOther && secure.location == "/ui/" && secure.headers[.setCookie]?.hasSuffix("; Secure") == true)
                let signedIn = try await browser.post("/ui/login", "username=xiaodukou&password=correct-horse-battery")
                let cookie = try #require(signedIn.headers[.setCookie])
                #expect(cookie.hasPrefix("\(Dashboard.cookie)=") && cookie.hasSuffix("; Path=/ui; HttpOnly; SameSite=Strict"))
                let token = String(cookie.dropFirst(Dashboard.cookie.count + 1).prefix { $0 != ";" })
                browser.cookie = token
                let csrf = Dashboard.csrf(for: token)

                // An unknown address, or a known one asked the wrong way, is "no such page" in the frame.
                for uri in ["/ui/nowhere", "/ui/logout", "/ui/cases/c1/reveal", "/ui/warnings/w1/acknowledge", "/ui/index/review/more", "/ui/cases"] {
                    let answer = try await browser.get(uri)
                    #expect(answer.status == .notFound && answer.text.contains("没有这个页面。") && answer.text.contains("xiaodukou"), "\(uri)")
                }
                // HEAD is answered as GET is, without the body; a page asked for with a method
                // it does not take is an unknown address too.
                let head = try await browser.ask(.head, "/ui/")
                #expect(head.status == .serviceUnavailable && head.text.isEmpty)
                #expect(try await browser.ask(.head, "/ui/style.css").status == .ok)
                for uri in ["/ui/", "/ui/cases/c1", "/ui/login"] {
                    let answer = try await browser.ask(.put, uri)
                    #expect(answer.status == .notFound && answer.text.contains("没有这个页面。"), "\(uri)")
                }
                // A form without the session's token is refused before anything else is looked at.
                for uri in ["/ui/logout", "/ui/nowhere", "/ui/warnings/w1/acknowledge", "/ui/cases/c1/reveal"] {
                    let answer = try await browser.post(uri, "csrf=\(csrf.dropLast())")
                    #expect(answer.status == .forbidden && answer.text.contains("请从页面提交表单。"), "\(uri)")
                }
                for uri in ["/ui/nowhere", "/ui/", "/ui/warnings/w1/bogus", "/ui/cases/c1", "/ui/index"] {
                    let answer = try await browser.post(uri, "csrf=\(csrf)")
                    #expect(answer.status == .notFound && answer.text.contains("没有这个页面。"), "\(uri)")
                }
                // A bad address is said to be one, before any service is asked.
                let badCentre = try await browser.get("/ui/?centre=4307")
                #expect(badCentre.status == .badRequest && badCentre.text.contains("提交的内容或地址有误：") && badCentre.text.contains("centre"))
                let badMonth = try await browser.get("/ui/index?month=2026-13")
                #expect(badMonth.status == .badRequest && badMonth.text.contains("month"))
                // Each page asks its service; here none answers, and the page says so.
                for uri in ["/ui", "/ui/", "/ui/cases.csv", "/ui/cases/c1", "/ui//cases/c1/", "/ui/index", "/ui/index/review?format=csv"] {
                    let answer = try await browser.get(uri)
                    #expect(answer.status == .serviceUnavailable && answer.text.contains("服务暂时不可用，请稍后刷新。"), "\(uri)")
                }
                for uri in ["/ui/warnings/w1/acknowledge", "/ui/warnings/w1/close", "/ui/cases/c1/reveal"] {
                    let answer = try await browser.post(uri, "csrf=\(csrf)&text=%E5%B7%B2")
                    #expect(answer.status == .serviceUnavailable && answer.text.contains("服务暂时不可用，请稍后刷新。"), "\(uri)")
                }

                // Signing out clears the cookie.
                let out = try await browser.post("/ui/logout", "csrf=\(csrf)")
                #expect(out.status == .seeOther && out.location == "/ui/login")
                #expect(out.headers[.setCookie] == "\(Dashboard.cookie)=; Path=/ui; HttpOnly; SameSite=Strict; Max-Age=0")
            }
        }
    }
}
