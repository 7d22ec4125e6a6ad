import Foundation
import HTTPTypes
import Hummingbird
import PinganConnect
import PinganContracts

extension DepartmentPage {
    /// `/ui/department`, the summons addressed to the signed-in person's department, and its
    /// forms: `POST /ui/department/summons/:id/report` (ReportToSummons) and
    /// `POST /ui/department/summons/:id/feedback` (FeedBackOnSummons). A change done goes back
    /// to the page saying so; a refusal is the page again with the reason beside the summons
    /// and the feedback typed kept.
    static func routes(_ department: RouterGroup<PageContext>, now: @escaping @Sendable () -> Date) {
        department.get { request, context in
            let visitor = try context.requireVisitor()
            guard isOffered(to: visitor.session.principal) else { return notOffered(visitor.session) }
            var page = try await load(session: visitor.session, now: now(), client: visitor.client)
            page.notice = DepartmentWords.notice(request.uri.queryParameters["done"].map(String.init) ?? "")
            return Dashboard.page("部门报到", page.render(), visitor.session)
        }
        department.post("summons/:id/report") { _, context in
            let id = try context.parameters.require("id")
            return try await act(context, summons: id, typed: "", done: "reported", now: now) { client in
                _ = try await client.call(DisputeServiceMethods.reportToSummons, .with { $0.summonsID = id })
            }
        }
        department.post("summons/:id/feedback") { _, context in
            let id = try context.parameters.require("id")
            let feedback = (context.form["feedback"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
            return try await act(context, summons: id, typed: feedback, done: "fed-back", now: now) { client in
                _ = try await client.call(DisputeServiceMethods.feedBackOnSummons, .with { $0.summonsID = id; $0.feedback = feedback })
            }
        }
    }

    /// Runs one form's change; refused in a way the clerk can act on, the page again with
    /// the reason beside `summons` and `typed` kept.
    private static func act(
        _ context: PageContext, summons: String, typed: String, done: String, now: @escaping @Sendable () -> Date,
        _ change: (DashboardClient) async throws -> Void
    ) async throws -> Response {
        let visitor = try context.requireVisitor()
        guard isOffered(to: visitor.session.principal) else { return notOffered(visitor.session) }
        do {
            try await change(visitor.client)
            return Dashboard.redirect("/ui/department?done=\(done)")
        } catch let error as ConnectError {
            guard let message = DepartmentWords.refusal(error) else { throw error }
            var page = try await load(session: visitor.session, now: now(), client: visitor.client)
            page.refusal = Refusal(summons: summons, message: message)
            page.keep(typed, for: summons)
            let status: HTTPResponse.Status = switch error.code {
            case .notFound, .permissionDenied: .notFound
            case .failedPrecondition, .aborted: .conflict
            default: .badRequest
            }
            return Dashboard.page(status: status, "部门报到", page.render(), visitor.session)
        }
    }

    private static func notOffered(_ session: Dashboard.Session) -> Response {
        Dashboard.message(status: .forbidden, "本页面供部门人员报到和反馈吹哨事项。", session)
    }

    mutating func keep(_ typed: String, for summons: String) {
        rows = rows.map { row in
            guard row.id == summons else { return row }
            var row = row
            row.typed = typed
            return row
        }
    }
}
