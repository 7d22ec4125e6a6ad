import Foundation
import Hummingbird
import PinganConnect
import PinganContracts

extension IntakePage {
    /// `/ui/intake` (`?centre=` a centre below the signed-in one, to list its villages), the
    /// window's form, and `POST /ui/intake`, which takes the case in. Done: the case's page,
    /// saying whether it opened a case or joined the parties' existing one. Refused: the form
    /// again, answered 4xx, with the reason and what was typed.
    static func routes(_ intake: RouterGroup<PageContext>) {
        intake.get { request, context in
            let visitor = try context.requireVisitor()
            guard isOffered(to: visitor.session.principal) else { return notOffered(visitor.session) }
            let within = try visitor.session.centre(request.uri.queryParameters["centre"].map(String.init))
            let page = try await load(within: within, for: visitor.session.principal, csrf: visitor.session.csrf, client: visitor.client)
            return Dashboard.page("一站式接待", page.render(), visitor.session)
        }
        intake.post { _, context in
            let visitor = try context.requireVisitor()
            guard isOffered(to: visitor.session.principal) else { return notOffered(visitor.session) }
            let form = context.form
            do {
                let taken = try await visitor.client.call(DisputeServiceMethods.intakeCase, request(from: form))
                return Dashboard.redirect("\(CasePage.address(of: taken.case.id))?done=\(taken.joinedExisting ? "joined" : "intake")")
            } catch let error as ConnectError {
                let chosen = Dashboard.centreParameter(form["village"]).flatMap { try? visitor.session.centre($0) }
                // A refusal names the village's centres (its county, when that runs its own platform).
                let names = await visitor.client.divisionNames(chosen?.selfAndAncestors.map(\.rawValue) ?? [])
                guard let message = CaseRefusals.message(error, place: { names[$0] ?? $0 }) else { throw error }
                // The villages listed are those of the centre the chosen village belongs to.
                let within = chosen.flatMap(\.parent).flatMap { visitor.session.principal.centre.contains($0) ? $0 : nil } ?? visitor.session.principal.centre
                var page = try await load(within: within, for: visitor.session.principal, csrf: visitor.session.csrf, typed: form, client: visitor.client)
                page.error = message
                page.hasError = true
                return Dashboard.page(status: CaseRefusals.status(error), "一站式接待", page.render(), visitor.session)
            }
        }
    }

    private static func notOffered(_ session: Dashboard.Session) -> Response {
        Dashboard.message(status: .forbidden, "您的账号不受理案件；请由窗口工作人员或调解员办理。", session)
    }
}
