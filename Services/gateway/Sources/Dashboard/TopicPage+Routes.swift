import Foundation
import HTTPTypes
import Hummingbird
import PinganConnect
import PinganContracts
import PinganDomain

extension TopicPage {
    /// `/ui/topics` (`?centre=` a centre of the subtree) and its forms: `POST /ui/topics`
    /// (OpenTopic) and `POST /ui/topics/:id/attach` (AttachCaseToTopic). A change done goes
    /// back to the page saying so; a refusal is the page again with the reason.
    static func routes(_ topics: RouterGroup<PageContext>, now: @escaping @Sendable () -> Date) {
        topics.get { request, context in
            let visitor = try context.requireVisitor()
            guard isOffered(to: visitor.session.principal) else { return notOffered(visitor.session) }
            let query = request.uri.queryParameters
            var page = try await load(visitor, centre: query["centre"].map(String.init), now: now())
            page.notice = query["done"].map { $0 == "opened" ? "专题已建立。" : "案件已关联到专题。" }
            return Dashboard.page("社会风险专题", page.render(), visitor.session)
        }
        topics.post { request, context in
            let visitor = try context.requireVisitor()
            guard isOffered(to: visitor.session.principal) else { return notOffered(visitor.session) }
            let centre = request.uri.queryParameters["centre"].map(String.init)
            let title = context.form["title"] ?? ""
            return try await act(visitor, centre: centre, now: now(), done: "opened") {
                _ = try await visitor.client.call(RiskServiceMethods.openTopic, .with {
                    $0.centreCode = (try? visitor.session.centre(centre).rawValue) ?? ""
                    $0.title = title
                })
            }
        }
        topics.post(":id/attach") { _, context in
            let visitor = try context.requireVisitor()
            guard isOffered(to: visitor.session.principal) else { return notOffered(visitor.session) }
            let id = try context.parameters.require("id")
            let caseID = (context.form["case_id"] ?? "").trimmingCharacters(in: .whitespaces)
            return try await act(visitor, centre: nil, now: now(), done: "attached") {
                _ = try await visitor.client.call(RiskServiceMethods.attachCaseToTopic, .with {
                    $0.topicID = id
                    $0.caseID = caseID
                })
            }
        }
    }

    private static func load(_ visitor: Visitor, centre: String?, now: Date) async throws -> TopicPage {
        try await load(
            centre: try visitor.session.centre(centre), today: Day(containing: now), principal: visitor.session.principal,
            csrf: visitor.session.csrf, client: visitor.client
        )
    }

    /// Runs one form's call; the refusals a person can act on are said on the page.
    private static func act(_ visitor: Visitor, centre: String?, now: Date, done: String, _ call: () async throws -> Void) async throws -> Response {
        do {
            try await call()
            return Dashboard.redirect("/ui/topics?done=\(done)" + (Dashboard.centreParameter(centre).map { "&centre=\($0)" } ?? ""))
        } catch let error as ConnectError where [.invalidArgument, .notFound, .failedPrecondition, .permissionDenied].contains(error.code) {
            var page = try await load(visitor, centre: centre, now: now)
            page.refusal = switch error.code {
            case .notFound: "没有这个案件或专题，或不在本中心辖区内。"
            case .failedPrecondition: "专题已结束，或案件不在专题所属中心的辖区内。"
            case .permissionDenied: "这个中心不在您的辖区内。"
            default: "填写有误：\(error.message)"
            }
            return Dashboard.page(status: error.code == .failedPrecondition ? .conflict : .badRequest, "社会风险专题", page.render(), visitor.session)
        }
    }

    static func notOffered(_ session: Dashboard.Session) -> Response {
        Dashboard.message(status: .forbidden, "本页面供中心工作人员查看社会风险专题。", session)
    }
}
