import Foundation
import HTTPTypes
import Hummingbird
import PinganAccess
import PinganConnect
import PinganContracts

/// `/ui/triage` (群众诉求分派): residents' requests that came without a village, waiting at the
/// signed-in centre (a county's, usually) for its staff to place each in its village, where it
/// opens or joins a case like any other report. The longest waiting come first.
enum TriagePage {
    static func routes(_ triage: RouterGroup<PageContext>) {
        triage.get { request, context in
            let visitor = try context.requireVisitor()
            guard IntakePage.isOffered(to: visitor.session.principal) else { return notOffered(visitor.session) }
            let done = request.uri.queryParameters.get("placed").map { String($0) }
            let from = request.uri.queryParameters.get("from").map { String($0) } ?? ""
            return try await page(visitor, notice: done.map { "已分派：\($0)" }, refusal: nil, from: from)
        }
        triage.post(":tracking/place") { _, context in
            let visitor = try context.requireVisitor()
            guard IntakePage.isOffered(to: visitor.session.principal) else { return notOffered(visitor.session) }
            let tracking = try context.parameters.require("tracking")
            let village = (context.form["village_code"] ?? "").trimmingCharacters(in: .whitespaces)
            do {
                _ = try await visitor.client.call(ResidentServiceMethods.placeRequest, .with { $0.trackingID = tracking; $0.villageCode = village })
                return Dashboard.redirect("/ui/triage?placed=\(tracking)")
            } catch let error as ConnectError where [.invalidArgument, .permissionDenied, .notFound, .failedPrecondition].contains(error.code) {
                let why = switch error.code {
                case .invalidArgument: "村（社区）代码有误：\(error.message)"
                case .permissionDenied: "这个村（社区）不在本中心的辖区内。"
                case .failedPrecondition: "这件诉求已经分派过了。"
                default: "没有这件待分派的诉求。"
                }
                return try await page(visitor, notice: nil, refusal: (tracking, why), status: error.code == .failedPrecondition ? .conflict : .badRequest)
            }
        }
    }

    static func page(
        _ visitor: Visitor, notice: String?, refusal: (tracking: String, message: String)?, from: String = "", status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let listed = try await visitor.client.call(ResidentServiceMethods.listTriage, .with { $0.pageSize = 50; $0.pageToken = from })
        let waiting = listed.requests
        let items = waiting.map { item -> String in
            let request = item.request
            let category = Open311.services.first { $0.category == request.category }?.name ?? ""
            let spot = item.latitude.isEmpty ? "" : "（\(item.latitude), \(item.longitude)）"
            let refused = refusal?.tracking == request.trackingID ? "<p class=\"error\" role=\"alert\">\(View.escape(refusal?.message ?? ""))</p>" : ""
            return """
                <li class="card" id="triage-\(request.trackingID)"><h3>\(request.trackingID) · \(View.escape(category))</h3>
                <p>\(View.escape(item.description_p))</p>
                <p>地址：\(View.escape(item.address.isEmpty ? "未填写" : item.address))\(View.escape(spot)) · 提交于 \(View.escape(String(request.requestedAt.prefix(16))))</p>
                \(refused)<form method="post" action="/ui/triage/\(request.trackingID)/place">
                <input type="hidden" name="csrf" value="\(visitor.session.csrf)">
                <label for="village-\(request.trackingID)">所在村（社区）代码</label>
                <input id="village-\(request.trackingID)" name="village_code" inputmode="numeric" pattern="[0-9]{12}" required>
                <button type="submit">分派</button></form></li>
                """
        }.joined()
        let content = (notice.map { "<p class=\"notice\" role=\"status\">\(View.escape($0))</p>" } ?? "")
            + (waiting.isEmpty ? "<p>没有待分派的群众诉求。</p>" : "<ul class=\"cards\">\(items)</ul>")
            + (listed.nextPageToken.isEmpty ? "" : "<p><a href=\"/ui/triage?from=\(listed.nextPageToken.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")\">下一页</a></p>")
        return Dashboard.page(status: status, "群众诉求分派", content, visitor.session)
    }

    static func notOffered(_ session: Dashboard.Session) -> Response {
        Dashboard.message(status: .forbidden, "本页面供中心工作人员分派群众诉求。", session)
    }
}
