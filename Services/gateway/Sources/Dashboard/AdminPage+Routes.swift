import Foundation
import HTTPTypes
import Hummingbird
import PinganConnect
import PinganContracts

extension AdminPage {
    /// `/ui/admin`, the subtree's accounts, and its forms: `POST /ui/admin/users` (create),
    /// `POST /ui/admin/users/:username/{disable,enable,password}`, `POST /ui/admin/keys`
    /// (issue) and `POST /ui/admin/keys/:name/revoke`. Each form is one `AdminService` method;
    /// a refusal is the page again with the reason beside the form, and a change done goes
    /// back to the page saying so (except an issued key, shown on the answer itself, once).
    static func routes(_ admin: RouterGroup<PageContext>, admin handler: AdminServiceHandler) {
        SubscriptionsPage.routes(admin.group("subscriptions"))
        SetupPage.routes(admin.group("setup"), admin: handler)
        admin.get { request, context in
            let visitor = try context.requireVisitor()
            guard isOffered(to: visitor.session.principal) else { return notOffered(visitor.session) }
            var page = try await load(client(handler, visitor, context), visitor)
            page.notice = AdminLabels.notice(request.uri.queryParameters["done"].map(String.init) ?? "")
            return Dashboard.page("账号管理", page.render(), visitor.session)
        }
        admin.post("users") { _, context in
            let form = context.form
            let typed = TypedUser(
                username: (form["username"] ?? "").trimmingCharacters(in: .whitespaces),
                centre: (form["centre"] ?? "").trimmingCharacters(in: .whitespaces),
                roles: Set(roles(in: form)), departmentKey: (form["department_key"] ?? "").trimmingCharacters(in: .whitespaces)
            )
            return try await act(handler, context, form: "create-user", done: "created", typed: typed) { client in
                _ = try await handler.createUser(.with {
                    $0.username = typed.username
                    $0.centreCode = typed.centre
                    $0.password = form["password"] ?? ""
                    $0.roles = roles(in: form)
                    $0.departmentKey = typed.departmentKey
                }, client.context(AdminServiceMethods.createUser))
                return nil
            }
        }
        admin.post("users/:username/:action") { _, context in
            let username = try context.parameters.require("username"), password = context.form["password"] ?? ""
            let action = try context.parameters.require("action")
            let done = ["disable": "disabled", "enable": "enabled", "password": "password"][action] ?? ""
            return try await act(handler, context, form: "list", done: done) { client in
                switch action {
                case "disable": _ = try await handler.disableUser(.with { $0.username = username }, client.context(AdminServiceMethods.disableUser))
                case "enable": _ = try await handler.enableUser(.with { $0.username = username }, client.context(AdminServiceMethods.enableUser))
                case "password":
                    _ = try await handler.resetPassword(.with { $0.username = username; $0.password = password }, client.context(AdminServiceMethods.resetPassword))
                default: throw HTTPError(.notFound)
                }
                return nil
            }
        }
        admin.post("keys") { _, context in
            let form = context.form
            return try await act(handler, context, form: "issue-key", done: "") { client in
                let issued = try await handler.issueApiKey(.with {
                    $0.name = (form["name"] ?? "").trimmingCharacters(in: .whitespaces)
                    $0.centreCode = (form["centre"] ?? "").trimmingCharacters(in: .whitespaces)
                    $0.roles = roles(in: form)
                }, client.context(AdminServiceMethods.issueApiKey))
                return (issued.apiKey.name, issued.key)
            }
        }
        admin.post("keys/:name/revoke") { _, context in
            let name = try context.parameters.require("name")
            return try await act(handler, context, form: "list", done: "revoked") { client in
                _ = try await handler.revokeApiKey(.with { $0.name = name }, client.context(AdminServiceMethods.revokeApiKey))
                return nil
            }
        }
    }

    /// Runs one form's change. Done: back to the page saying what was done, or, for a key,
    /// the page with the key on it. Refused in a way the administrator can fix: the page with
    /// the reason beside `form`, answered with the refusal's status.
    private static func act(
        _ handler: AdminServiceHandler, _ context: PageContext, form: String, done: String, typed: TypedUser = TypedUser(),
        _ change: (AdminClient) async throws -> (name: String, key: String)?
    ) async throws -> Response {
        let visitor = try context.requireVisitor()
        guard isOffered(to: visitor.session.principal) else { return notOffered(visitor.session) }
        let client = client(handler, visitor, context)
        do {
            let issued = try await change(client)
            guard let issued else { return Dashboard.redirect("/ui/admin?done=\(done)") }
            var page = try await load(client, visitor)
            page.issuedKeyName = issued.name
            page.issuedKey = issued.key
            return Dashboard.page("账号管理", page.render(), visitor.session)
        } catch let error as ConnectError {
            guard let message = AdminLabels.refusal(error) else { throw error }
            var page = try await load(client, visitor)
            page.refusal = Refusal(form: form, message: message)
            page.typedUser = typed
            return Dashboard.page(status: status(of: error), "账号管理", page.render(), visitor.session)
        }
    }

    private static func load(_ client: AdminClient, _ visitor: Visitor) async throws -> AdminPage {
        let subject = visitor.session.principal.subject
        return try await load(client: client, own: subject.hasPrefix("user:") ? String(subject.dropFirst(5)) : nil, csrf: visitor.session.csrf)
    }

    private static func client(_ handler: AdminServiceHandler, _ visitor: Visitor, _ context: PageContext) -> AdminClient {
        AdminClient(handler: handler, token: visitor.session.token, centre: visitor.session.principal.centre.rawValue, peer: context.peer, logger: context.logger)
    }

    /// The roles ticked on a create form, one checkbox per role (`role_<name>`).
    static func roles(in form: [String: String]) -> [String] {
        AccountAdminRule.grantable.map(\.rawValue).filter { form["role_\($0)"] != nil }
    }

    private static func status(of error: ConnectError) -> HTTPResponse.Status {
        switch error.code {
        case .alreadyExists: .conflict
        case .notFound: .notFound
        case .permissionDenied: .forbidden
        default: .badRequest
        }
    }

    private static func notOffered(_ session: Dashboard.Session) -> Response {
        Dashboard.message(status: .forbidden, "只有本中心的管理员可以管理账号。", session)
    }
}
