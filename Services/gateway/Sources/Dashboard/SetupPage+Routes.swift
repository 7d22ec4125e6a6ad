import Foundation
import HTTPTypes
import Hummingbird
import PinganConnect
import PinganContracts

extension SetupPage {
    /// `/ui/admin/setup` (`?centre=` a centre of the subtree, `&grid=` a grid whose members
    /// to show) and its forms: `POST /ui/admin/setup/departments` (RegisterDepartment) and
    /// `POST /ui/admin/setup/members` (AddGridMember). A department registered goes back to the
    /// page saying so; a member added is shown on the answer itself, with its id and the grid
    /// worker's link, beside the grid's members. A refusal is the page again with the reason
    /// beside the form and what was typed kept.
    static func routes(_ setup: RouterGroup<PageContext>, admin handler: AdminServiceHandler) {
        setup.get { request, context in
            let visitor = try context.requireVisitor()
            guard isOffered(to: visitor.session.principal) else { return notOffered(visitor.session) }
            let query = request.uri.queryParameters
            let centre = try visitor.session.centre(query["centre"].map(String.init)).rawValue
            let grid = query["grid"].map(String.init) ?? ""
            var page = try await load(
                centre: centre, grid: grid, csrf: visitor.session.csrf, client: visitor.client, admin: admin(handler, visitor, context)
            )
            page.typedMember.grid = grid
            page.notice = SetupWords.notice(query["done"].map(String.init) ?? "")
            return Dashboard.page("部门与网格成员", page.render(), visitor.session)
        }
        setup.post("departments") { _, context in
            let form = context.form
            let typed = TypedDepartment(centre: field(form, "centre"), name: field(form, "name"), apiKey: field(form, "api_key"))
            return try await act(handler, context, form: "department") { client in
                _ = try await client.call(DisputeServiceMethods.registerDepartment, .with {
                    $0.centreCode = typed.centre
                    $0.name = typed.name
                    $0.apiKeyName = typed.apiKey
                })
                return nil
            } keep: { $0.typedDepartment = typed }
        }
        setup.post("members") { _, context in
            let form = context.form
            let typed = TypedMember(grid: field(form, "grid"), name: field(form, "name"), role: field(form, "role"))
            return try await act(handler, context, form: "member") { client in
                let member = try await client.call(GridServiceMethods.addGridMember, .with {
                    $0.gridID = typed.grid
                    $0.name = typed.name
                    $0.role = gridRoles.first { $0.value == typed.role }?.role ?? .unspecified
                }).member
                return AddedMember(id: member.id, name: member.name, grid: member.gridID, link: link(grid: member.gridID, member: member.id))
            } keep: { $0.typedMember = typed }
        }
    }

    /// Runs one form's change. A department: back to the page saying so. A member: the page
    /// with the member's id and link on it. Refused in a way the administrator can fix: the
    /// page with the reason beside `form`, `keep` putting back what was typed.
    private static func act(
        _ handler: AdminServiceHandler, _ context: PageContext, form: String,
        _ change: (DashboardClient) async throws -> AddedMember?, keep: (inout SetupPage) -> Void
    ) async throws -> Response {
        let visitor = try context.requireVisitor()
        guard isOffered(to: visitor.session.principal) else { return notOffered(visitor.session) }
        let centre = Dashboard.centreParameter(context.form["page_centre"]) ?? visitor.session.principal.centre.rawValue
        let admin = admin(handler, visitor, context)
        do {
            guard let added = try await change(visitor.client) else {
                return Dashboard.redirect("/ui/admin/setup?centre=\(centre)&done=registered")
            }
            var page = try await load(centre: centre, grid: added.grid, csrf: visitor.session.csrf, client: visitor.client, admin: admin)
            page.added = added
            // The next member is often for the same grid: it stays chosen.
            page.typedMember.grid = added.grid
            return Dashboard.page("部门与网格成员", page.render(), visitor.session)
        } catch let error as ConnectError {
            guard let message = SetupWords.refusal(error, form: form) else { throw error }
            var page = try await load(centre: centre, csrf: visitor.session.csrf, client: visitor.client, admin: admin)
            page.refusal = Refusal(form: form, message: message)
            keep(&page)
            let status: HTTPResponse.Status = switch error.code {
            case .alreadyExists: .conflict
            case .notFound: .notFound
            case .permissionDenied: .forbidden
            default: .badRequest
            }
            return Dashboard.page(status: status, "部门与网格成员", page.render(), visitor.session)
        }
    }

    private static func field(_ form: [String: String], _ name: String) -> String {
        (form[name] ?? "").trimmingCharacters(in: .whitespaces)
    }

    private static func admin(_ handler: AdminServiceHandler, _ visitor: Visitor, _ context: PageContext) -> AdminClient {
        AdminClient(handler: handler, token: visitor.session.token, centre: visitor.session.principal.centre.rawValue, peer: context.peer, logger: context.logger)
    }

    private static func notOffered(_ session: Dashboard.Session) -> Response {
        Dashboard.message(status: .forbidden, "只有本中心的管理员可以登记部门和网格成员。", session)
    }
}
