import Foundation
import HTTPTypes
import Hummingbird
import PinganConnect
import PinganContracts
import PinganDomain

extension IndexPage {
    /// `/ui/index`, a centre's governance index for a month (`?centre=`, `?month=YYYY-MM`) with
    /// the index owner's workbench (``IndexWorkbench``), and `/ui/index/review`, the month's
    /// review as the index service writes it (`?format=csv`). The workbench's forms:
    /// `POST /ui/index/actions/:id/complete` (CompleteAction), `POST /ui/index/rule`
    /// (SetThresholdRule) and `POST /ui/index/freeze` (ComputeMonthlyIndex). A change done goes
    /// back to the page saying so; a refusal is the page again, the reason beside the form and
    /// what was typed kept, answered with the refusal's status.
    ///
    /// `gatewayCentre` is the centre this gateway serves: only a person acting for it can be
    /// the deployment's root centre, the one that computes the index, so only they are
    /// offered the freezing form.
    static func routes(_ index: RouterGroup<PageContext>, gatewayCentre: DivisionCode, now: @escaping @Sendable () -> Date) {
        index.get { request, context in
            let visitor = try context.requireVisitor()
            let query = request.uri.queryParameters
            let centre = try visitor.session.centre(query["centre"].map(String.init))
            let month = try parseMonth(query["month"].map(String.init))
            let page = try await full(centre: centre, month: month, now: now(), gatewayCentre: gatewayCentre, visitor: visitor) { workbench in
                workbench.notice = IndexWords.notice(query["done"].map(String.init) ?? "")
                return workbench.render()
            }
            return Dashboard.page("治理指数", page.render(), visitor.session)
        }
        index.get("review") { request, context in
            let visitor = try context.requireVisitor()
            let query = request.uri.queryParameters
            let review = try await visitor.client.call(IndexServiceMethods.getMonthlyReview, .with {
                $0.centreCode = query["centre"].map(String.init) ?? visitor.session.principal.centre.rawValue
                $0.month = query["month"].map(String.init) ?? Month(containing: now()).description
                $0.format = query["format"] == "csv" ? .csv : .html
            })
            return Response(status: .ok, headers: [.contentType: review.contentType], body: .init(byteBuffer: ByteBuffer(bytes: review.body)))
        }
        index.post("actions/:id/complete") { _, context in
            let id = try context.parameters.require("id")
            let note = (context.form["outcome"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
            return try await act(context, now: now, gatewayCentre: gatewayCentre, form: "action", refusedForm: "action:\(id)", done: "completed", keep: { workbench in
                if let row = workbench.actions.firstIndex(where: { $0.id == id }) { workbench.actions[row].note = note }
            }) { client in
                _ = try await client.call(IndexServiceMethods.completeAction, .with { $0.actionID = id; $0.outcome = note })
            }
        }
        index.post("rule") { _, context in
            let typed = IndexWorkbench.RuleForm(form: context.form)
            let centre = try context.requireVisitor().session.centre(context.form["centre"])
            return try await act(context, now: now, gatewayCentre: gatewayCentre, form: "rule", refusedForm: "rule", done: "rule", keep: { workbench in
                let isDefault = workbench.rule.isDefault
                workbench.rule = typed
                workbench.rule.isDefault = isDefault
            }) { client in
                let rule = try typed.rule(centre: centre.rawValue)
                _ = try await client.call(IndexServiceMethods.setThresholdRule, .with { $0.rule = rule })
            }
        }
        index.post("freeze") { _, context in
            let reason = (context.form["reason"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
            let month = try parseMonth(context.form["month"]) ?? Month(containing: now())
            return try await act(context, now: now, gatewayCentre: gatewayCentre, form: "freeze", refusedForm: "freeze", done: "computed", reason: reason, keep: { _ in }) { client in
                _ = try await client.call(IndexServiceMethods.computeMonthlyIndex, .with { $0.month = month.description; $0.reason = reason })
            }
        }
    }

    /// The page with its workbench, rendered by `workbench`, which may adjust it first.
    private static func full(
        centre: DivisionCode, month: Month?, now: Date, gatewayCentre: DivisionCode, visitor: Visitor, _ workbench: (inout IndexWorkbench) -> String
    ) async throws -> IndexPage {
        var page = try await load(centre: centre, month: month, now: now, client: visitor.client)
        let shown = Month(parsing: page.month) ?? Month(containing: now)
        var bench = try await IndexWorkbench.load(
            centre: centre, month: shown, frozen: page.frozen, now: now, gatewayCentre: gatewayCentre, session: visitor.session, client: visitor.client
        )
        page.workbench = workbench(&bench)
        return page
    }

    /// Runs one workbench form's change. Done: back to the page saying what was done.
    /// Refused in a way the index owner can act on: the page again, the reason beside
    /// `refusedForm` and what was typed kept by `keep`.
    private static func act(
        _ context: PageContext, now: @escaping @Sendable () -> Date, gatewayCentre: DivisionCode, form: String, refusedForm: String, done: String, reason: String = "",
        keep: (inout IndexWorkbench) -> Void, _ change: (DashboardClient) async throws -> Void
    ) async throws -> Response {
        let visitor = try context.requireVisitor()
        let centre = try visitor.session.centre(context.form["centre"])
        let month = try parseMonth(context.form["month"])
        do {
            try await change(visitor.client)
            let back = "/ui/index?centre=\(centre.rawValue)" + (month.map { "&month=\($0)" } ?? "") + "&done=\(done)"
            return Dashboard.redirect(back)
        } catch let error as ConnectError {
            guard let message = IndexWords.refusal(error, form: form) else { throw error }
            let page = try await full(centre: centre, month: month, now: now(), gatewayCentre: gatewayCentre, visitor: visitor) { workbench in
                keep(&workbench)
                workbench.refusal = IndexWorkbench.Refusal(form: refusedForm, message: message)
                return workbench.render(reason: reason)
            }
            return Dashboard.page(status: status(of: error), "治理指数", page.render(), visitor.session)
        }
    }

    private static func parseMonth(_ text: String?) throws -> Month? {
        guard let text, !text.isEmpty else { return nil }
        guard let month = Month(parsing: text) else { throw ConnectError.invalidArgument(field: "month", "must be YYYY-MM") }
        return month
    }

    private static func status(of error: ConnectError) -> HTTPResponse.Status {
        switch error.code {
        case .notFound: .notFound
        case .permissionDenied: .forbidden
        case .failedPrecondition: .conflict
        default: .badRequest
        }
    }
}
