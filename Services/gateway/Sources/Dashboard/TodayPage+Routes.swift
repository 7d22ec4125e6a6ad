import Foundation
import Hummingbird
import PinganContracts

extension TodayPage {
    /// `/ui/`, the day's work for a centre (`?centre=` for one below the signed-in one), and
    /// `/ui/cases.csv`, its cases table as a spreadsheet opens it.
    static func routes(_ ui: RouterGroup<PageContext>, now: @escaping @Sendable () -> Date) {
        ui.get { request, context in
            let visitor = try context.requireVisitor()
            let centre = try visitor.session.centre(request.uri.queryParameters["centre"].map(String.init))
            let page = try await load(centre: centre, for: visitor.session.principal, csrf: visitor.session.csrf, now: now(), client: visitor.client)
            return Dashboard.page("今日工作", page.render(), visitor.session)
        }
        ui.get("cases.csv") { request, context in
            let visitor = try context.requireVisitor()
            let centre = try visitor.session.centre(request.uri.queryParameters["centre"].map(String.init))
            let page = try await load(centre: centre, for: visitor.session.principal, csrf: visitor.session.csrf, now: now(), client: visitor.client)
            return Response(status: .ok, headers: [
                .contentType: "text/csv; charset=utf-8", .contentDisposition: "attachment; filename=\"cases-\(centre.rawValue).csv\"",
            ], body: .init(byteBuffer: ByteBuffer(string: "\u{FEFF}" + page.casesCSV())))
        }
    }

    /// `POST /ui/warnings/:id/:step`: the warning loop's forms on the today page, each the
    /// risk service's method of that step; the person goes back to the page they came from.
    static func warningRoutes(_ warnings: RouterGroup<PageContext>) {
        warnings.post(":id/:step") { _, context in
            let visitor = try context.requireVisitor()
            let id = try context.parameters.require("id"), text = context.form["text"] ?? ""
            let client = visitor.client
            switch try context.parameters.require("step") {
            case "acknowledge": _ = try await client.call(RiskServiceMethods.acknowledgeWarning, .with { $0.warningID = id })
            case "assign": _ = try await client.call(RiskServiceMethods.assignWarning, .with { $0.warningID = id; $0.assignee = text })
            case "feedback": _ = try await client.call(RiskServiceMethods.feedBackOnWarning, .with { $0.warningID = id; $0.feedback = text })
            case "evaluate": _ = try await client.call(RiskServiceMethods.evaluateWarning, .with { $0.warningID = id; $0.evaluation = text })
            case "close": _ = try await client.call(RiskServiceMethods.closeWarning, .with { $0.warningID = id; $0.outcome = text })
            default: return Dashboard.message(status: .notFound, "没有这个页面。", visitor.session)
            }
            let centre = Dashboard.centreParameter(context.form["centre"]) ?? visitor.session.principal.centre.rawValue
            return Dashboard.redirect("/ui/?centre=\(centre)#warnings")
        }
    }
}
