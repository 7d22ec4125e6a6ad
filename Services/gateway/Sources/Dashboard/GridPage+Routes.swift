import Foundation
import HTTPTypes
import Hummingbird
import PinganConnect
import PinganContracts
import PinganDomain

extension GridPage {
    /// `/ui/grid`, the report form (`?grid=&member=` fill in the grid and member, the link a
    /// centre's administrator gives a new worker), `POST /ui/grid/report`, the report and its
    /// receipt, and `/ui/grid/screening`, GET and POST, the day's screening.
    ///
    /// A form the service refuses in a way the worker can fix comes back as typed, with the
    /// reason above it; one it takes remembers the grid and member on the phone.
    static func routes(_ grid: RouterGroup<PageContext>, now: @escaping @Sendable () -> Date) {
        grid.get { request, context in
            let visitor = try context.requireVisitor()
            guard isOffered(to: visitor.session.principal) else { return notOffered(visitor.session) }
            let remembered = identity(request, visitor)
            var form = ReportForm.blank(remembered)
            let query = request.uri.queryParameters
            if let grid = query["grid"], let member = query["member"] {
                form.grid = String(grid)
                form.member = String(member)
            }
            async let mine = myReports(of: visitor.session.principal, client: visitor.client)
            let grids = try await choices(under: visitor.session.principal.centre, client: visitor.client)
            let page = ReportView(form: form, grids: grids, remembered: remembered, refusal: nil, seesCases: seesCases(visitor),
                                  csrf: visitor.session.csrf, mine: await mine)
            return Dashboard.page("上报矛盾纠纷", page.render(), visitor.session)
        }
        grid.post("report") { request, context in
            let visitor = try context.requireVisitor()
            guard isOffered(to: visitor.session.principal) else { return notOffered(visitor.session) }
            let form = ReportForm(fields: context.form)
            do {
                let incident = try await visitor.client.call(GridServiceMethods.reportIncident, form.request).incident
                let grids = (try? await choices(under: visitor.session.principal.centre, client: visitor.client)) ?? []
                let receipt = Receipt(
                    id: incident.id, grid: grids.first { $0.id == incident.gridID }?.label ?? incident.gridID,
                    category: Labels.category(incident.category), description: incident.description_p, partyCount: incident.partyCount,
                    facts: facts(of: incident, minors: form.request.parties.contains(where: \.minor)),
                    hasFacts: !facts(of: incident, minors: form.request.parties.contains(where: \.minor)).isEmpty,
                    reportedAt: Labels.time(incident.reportedAt), seesCases: seesCases(visitor)
                )
                return remember(form.grid, form.member, in: Dashboard.page("已上报", receipt.render(), visitor.session), request, visitor)
            } catch let error as ConnectError {
                guard let message = GridLabels.refusal(error, rows: form.filledRows) else { throw error }
                var kept = form
                // Nothing was recorded for a refused form, so the corrected one is a new report;
                // a call that may have gone through keeps its key, so sending it again reports once.
                if !mayHaveGoneThrough(error) { kept.requestID = UUID.random().wire }
                let grids = try await choicesKeeping(kept.grid, visitor)
                let page = ReportView(form: kept, grids: grids, remembered: identity(request, visitor), refusal: message,
                                      seesCases: seesCases(visitor), csrf: visitor.session.csrf)
                return Dashboard.page(status: status(of: error), "上报矛盾纠纷", page.render(), visitor.session)
            }
        }
        grid.get("screening") { request, context in
            let visitor = try context.requireVisitor()
            guard isOffered(to: visitor.session.principal) else { return notOffered(visitor.session) }
            let remembered = identity(request, visitor), today = Day(containing: now())
            let grids = try await choices(under: visitor.session.principal.centre, client: visitor.client)
            let page = ScreeningView(form: .blank(remembered, today: today), grids: grids, remembered: remembered, today: today,
                                     refusal: nil, notice: nil, csrf: visitor.session.csrf)
            return Dashboard.page("每日信息排查", page.render(), visitor.session)
        }
        grid.post("screening") { request, context in
            let visitor = try context.requireVisitor()
            guard isOffered(to: visitor.session.principal) else { return notOffered(visitor.session) }
            let form = ScreeningForm(fields: context.form), today = Day(containing: now())
            do {
                let answer = try await visitor.client.call(GridServiceMethods.recordScreening, form.request)
                let grids = (try? await choices(under: visitor.session.principal.centre, client: visitor.client)) ?? []
                let identity = GridIdentity(grid: form.grid, member: form.member)
                let page = ScreeningView(form: .blank(identity, today: today), grids: grids, remembered: identity, today: today,
                                         refusal: nil, notice: notice(answer), csrf: visitor.session.csrf)
                return remember(form.grid, form.member, in: Dashboard.page("每日信息排查", page.render(), visitor.session), request, visitor)
            } catch let error as ConnectError {
                guard let message = GridLabels.refusal(error) else { throw error }
                let grids = try await choicesKeeping(form.grid, visitor)
                let page = ScreeningView(form: form, grids: grids, remembered: identity(request, visitor), today: today,
                                         refusal: message, notice: nil, csrf: visitor.session.csrf)
                return Dashboard.page(status: status(of: error), "每日信息排查", page.render(), visitor.session)
            }
        }
    }

    /// What a recorded screening says, as the worker reads it back.
    static func notice(_ answer: Pingan_Grid_V1_RecordScreeningResponse) -> String {
        let screening = answer.screening
        let found = screening.disputesFound == 0 ? "未发现矛盾纠纷" : "发现矛盾纠纷 \(screening.disputesFound) 起"
        return "已记录 \(screening.day) 的排查：走访 \(screening.householdsVisited) 户，\(found)。" + (answer.corrected ? "（已更正当天此前的记录）" : "")
    }

    /// The facts the report gave, as the service recorded them; minors from the parties sent,
    /// since the incident keeps how many people, never who.
    static func facts(of incident: Pingan_Grid_V1_Incident, minors: Bool) -> [String] {
        GridLabels.facts(violence: incident.threatOfViolence, selfHarm: incident.threatOfSelfHarm, repeated: incident.repeatIncident,
                         policeCalls: incident.priorPoliceCalls, minors: minors)
    }

    /// The grids for a refused form; when they cannot be read either, the one typed, so the
    /// page still shows what was typed rather than an error.
    private static func choicesKeeping(_ grid: String, _ visitor: Visitor) async throws -> [Choice] {
        do {
            return try await choices(under: visitor.session.principal.centre, client: visitor.client)
        } catch let error as ConnectError where mayHaveGoneThrough(error) {
            return grid.isEmpty ? [] : [Choice(id: grid, label: "已选网格")]
        }
    }

    private static func identity(_ request: Request, _ visitor: Visitor) -> GridIdentity? {
        GridIdentity(cookieHeader: request.headers[.cookie], subject: visitor.session.principal.subject)
    }

    /// `response` with the grid and member remembered on the phone, when both are numbers.
    private static func remember(_ grid: String, _ member: String, in response: Response, _ request: Request, _ visitor: Visitor) -> Response {
        guard GridIdentity.isNumber(grid), GridIdentity.isNumber(member) else { return response }
        var response = response
        // Secure when the ingress in front says the browser came over HTTPS, as the session's.
        let secure = HTTPField.Name("X-Forwarded-Proto").flatMap { request.headers[$0] } == "https"
        response.headers[.setCookie] = GridIdentity(grid: grid, member: member).setCookie(for: visitor.session.principal.subject, secure: secure)
        return response
    }

    private static func seesCases(_ visitor: Visitor) -> Bool {
        !isHome(for: visitor.session.principal)
    }

    /// A refusal that may come from a call the service did take: sending the same form again
    /// must not report twice.
    private static func mayHaveGoneThrough(_ error: ConnectError) -> Bool {
        error.code == .unavailable || error.code == .deadlineExceeded
    }

    private static func status(of error: ConnectError) -> HTTPResponse.Status {
        switch error.code {
        case .notFound, .permissionDenied: .notFound
        case .failedPrecondition: .conflict
        case .unavailable, .deadlineExceeded: .serviceUnavailable
        default: .badRequest
        }
    }

    private static func notOffered(_ session: Dashboard.Session) -> Response {
        Dashboard.message(status: .forbidden, "只有网格员和中心工作人员可以上报事件和记录排查。", session)
    }
}
