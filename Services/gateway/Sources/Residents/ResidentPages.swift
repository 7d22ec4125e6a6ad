import Foundation
import HTTPTypes
import Hummingbird
import PinganAccess
import PinganConnect
import PinganContracts
import PinganDomain

/// The resident pages (`/resident`), for a phone's browser or a WeChat web view: sign in with
/// a code texted to the phone, file a dispute or a concern in one's village, follow what became
/// of it, and rate it from the link texted after the return visit. Nothing here needs an
/// account or a password.
enum ResidentPages {
    static func routes(_ pages: RouterGroup<PageContext>, desk: ResidentDesk) {
        pages.get("") { request, _ in
            desk.phone(request) == nil ? page("平安 · 群众诉求", signInForm(error: nil)) : Dashboard.redirect("/resident/requests")
        }
        pages.post("code") { request, context in
            let fields = try await Dashboard.form(request)
            guard let phone = MobilePhone(normalising: fields["phone"] ?? "") else {
                return page("平安 · 群众诉求", signInForm(error: "请填写11位手机号码。"), status: .badRequest)
            }
            do {
                try await desk.sendCode(to: phone, peer: context.peer)
            } catch let refusal as ResidentCodes.Refusal {
                return page("平安 · 群众诉求", signInForm(error: refusal.description), status: .tooManyRequests)
            } catch {
                return page("平安 · 群众诉求", signInForm(error: "短信发送失败，请稍后再试。"), status: .serviceUnavailable)
            }
            return page("输入验证码", codeForm(phone: phone, error: nil))
        }
        pages.post("verify") { request, _ in
            let fields = try await Dashboard.form(request)
            guard let phone = MobilePhone(normalising: fields["phone"] ?? "") else {
                return page("平安 · 群众诉求", signInForm(error: "请填写11位手机号码。"), status: .badRequest)
            }
            do {
                let token = try await desk.signIn(phone, code: fields["code"] ?? "", now: desk.now())
                var response = Dashboard.redirect("/resident/requests")
                response.headers[.setCookie] = "\(ResidentDesk.cookie)=\(token); Path=/resident; HttpOnly; SameSite=Strict; Max-Age=\(Int(ResidentDesk.sessionLifetime))"
                return response
            } catch let refusal as ResidentCodes.Refusal {
                return page("输入验证码", codeForm(phone: phone, error: refusal.description), status: .forbidden)
            }
        }
        pages.get("requests") { request, context in
            guard let phone = desk.phone(request) else { return Dashboard.redirect("/resident") }
            let mine = try await desk.call(ResidentServiceMethods.listOwnRequests, .with { $0.phone = phone.digits; $0.pageSize = 50 }, for: phone, peer: context.peer)
            return page("我的诉求", ownList(mine.requests, phone: phone))
        }
        pages.get("requests/:tracking") { request, context in
            guard let phone = desk.phone(request) else { return Dashboard.redirect("/resident") }
            let tracking = context.parameters.get("tracking") ?? ""
            do {
                let own = try await desk.call(ResidentServiceMethods.getOwnRequest, .with { $0.trackingID = tracking; $0.phone = phone.digits }, for: phone, peer: context.peer)
                let names = await desk.names(of: [own.request.request.villageCode, own.request.request.centreCode], peer: context.peer)
                return page("诉求 \(own.request.request.trackingID)", detail(own.request, names: names))
            } catch let error as ConnectError where error.code == .notFound || error.code == .invalidArgument {
                return page("未找到", "<p class=\"error\" role=\"alert\">没有这件诉求，或它不是用这个手机号提交的。</p><p><a href=\"/resident/requests\">我的诉求</a></p>", status: .notFound)
            }
        }
        pages.get("file") { request, context in
            guard desk.phone(request) != nil else { return Dashboard.redirect("/resident") }
            let within = request.uri.queryParameters.get("in").map { String($0) } ?? desk.forwarder.centre.rawValue
            return try await fileForm(desk: desk, within: within, error: nil, peer: context.peer)
        }
        pages.post("file") { request, context in
            guard let phone = desk.phone(request) else { return Dashboard.redirect("/resident") }
            let fields = try await Dashboard.form(request)
            let category = Open311.services.first { $0.code == fields["category"] }?.category ?? .unspecified
            let filing = Pingan_Dispute_V1_FileRequestRequest.with {
                $0.requestID = (fields["request_id"].flatMap(UUID.init(uuidString:)) ?? UUID()).uuidString.lowercased()
                $0.category = category
                $0.divisionCode = fields["division_code"] ?? ""
                $0.description_p = fields["description"] ?? ""
                $0.phone = phone.digits
                $0.name = fields["name"] ?? ""
                $0.otherParty = fields["other_party"] ?? ""
                $0.threatOfViolence = fields["threat_of_violence"] == "on"
                $0.threatOfSelfHarm = fields["threat_of_self_harm"] == "on"
                $0.channel = .web
            }
            do {
                let filed = try await desk.call(ResidentServiceMethods.fileRequest, filing, for: phone, peer: context.peer)
                return Dashboard.redirect("/resident/requests/\(filed.request.request.trackingID)")
            } catch let error as ConnectError where error.code == .invalidArgument || error.code == .resourceExhausted || error.code == .permissionDenied {
                let problem = error.code == .resourceExhausted ? "今天提交的诉求已经很多了，请稍后再试，或拨打12345。" : "提交的内容有误：\(error.message)"
                return try await fileForm(desk: desk, within: fields["division_code"] ?? desk.forwarder.centre.rawValue, error: problem, peer: context.peer)
            }
        }
        pages.get("rate/:token") { _, context in
            page("评价办理结果", rateForm(token: context.parameters.get("token") ?? "", error: nil))
        }
        pages.post("rate/:token") { request, context in
            let token = context.parameters.get("token") ?? ""
            let fields = try await Dashboard.form(request)
            do {
                let rated = try await desk.call(
                    ResidentServiceMethods.rateRequest,
                    .with { $0.ratingToken = token; $0.rating = Int32(fields["rating"] ?? "") ?? 0; $0.comment = fields["comment"] ?? "" },
                    for: nil, peer: context.peer
                )
                return page("谢谢您的评价", "<p role=\"status\">诉求 \(View.escape(rated.request.request.trackingID)) 已评价：\(rated.request.rating) 分。谢谢！</p>")
            } catch let error as ConnectError {
                switch error.code {
                case .invalidArgument: return page("评价办理结果", rateForm(token: token, error: "请选择1到5分。"), status: .badRequest)
                case .failedPrecondition: return page("已评价", "<p class=\"error\" role=\"alert\">这件诉求已经评价过了。</p>", status: .conflict)
                case .notFound: return page("未找到", "<p class=\"error\" role=\"alert\">评价链接无效。</p>", status: .notFound)
                default: throw error
                }
            }
        }
    }

    // MARK: Views

    static func page(_ title: String, _ content: String, status: HTTPResponse.Status = .ok) -> Response {
        Dashboard.html("""
            <!doctype html>
            <html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(View.escape(title)) · 平安</title><link rel="stylesheet" href="/ui/style.css"></head>
            <body><main class="resident"><h1>\(View.escape(title))</h1>
            \(content)
            </main></body></html>
            """, status: status)
    }

    static func alert(_ error: String?) -> String {
        error.map { "<p class=\"error\" role=\"alert\">\(View.escape($0))</p>" } ?? ""
    }

    static func signInForm(error: String?) -> String {
        """
        \(alert(error))<p>用手机号接收验证码，即可提交和查询您的矛盾纠纷诉求，无需注册。</p>
        <form method="post" action="/resident/code">
          <label for="phone">手机号</label><input id="phone" name="phone" inputmode="tel" autocomplete="tel" required>
          <p><button type="submit">获取验证码</button></p>
        </form>
        """
    }

    static func codeForm(phone: MobilePhone, error: String?) -> String {
        """
        \(alert(error))<p>验证码已发送到 \(View.escape(phone.masked))，10分钟内有效。</p>
        <form method="post" action="/resident/verify">
          <input type="hidden" name="phone" value="\(phone.digits)">
          <label for="code">验证码</label><input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" maxlength="6" required>
          <p><button type="submit">登录</button></p>
        </form>
        """
    }

    static func ownList(_ requests: [Pingan_Dispute_V1_OwnRequest], phone: MobilePhone) -> String {
        let rows = requests.map { own in
            let request = own.request
            let name = Open311.services.first { $0.category == request.category }?.name ?? ""
            return "<tr><td><a href=\"/resident/requests/\(request.trackingID)\">\(request.trackingID)</a></td><td>\(View.escape(name))</td><td class=\"stage\">\(View.escape(request.stageText))</td><td>\(View.escape(String(request.requestedAt.prefix(10))))</td></tr>"
        }.joined()
        let table = requests.isEmpty ? "<p>您还没有提交过诉求。</p>"
            : "<table><thead><tr><th>编号</th><th>类别</th><th>进展</th><th>提交日期</th></tr></thead><tbody>\(rows)</tbody></table>"
        return "<p>手机号 \(View.escape(phone.masked))</p>\(table)<p><a class=\"button\" href=\"/resident/file\">提交新的诉求</a></p>"
    }

    static func detail(_ own: Pingan_Dispute_V1_OwnRequest, names: [String: String]) -> String {
        let request = own.request
        let name = Open311.services.first { $0.category == request.category }?.name ?? ""
        let deadline = own.nextDeadline.isEmpty ? "" : "<dt>办理期限</dt><dd>\(View.escape(String(own.nextDeadline.prefix(10))))</dd>"
        let place = request.villageCode.isEmpty ? "待分派到村（社区）" : names[request.villageCode] ?? request.villageCode
        return """
            <dl>
            <dt>编号</dt><dd>\(request.trackingID)</dd>
            <dt>进展</dt><dd class="stage">\(View.escape(request.stageText))</dd>
            <dt>类别</dt><dd>\(View.escape(name))</dd>
            <dt>地点</dt><dd>\(View.escape(place))</dd>
            <dt>承办中心</dt><dd>\(View.escape(names[request.centreCode] ?? request.centreCode))综治中心</dd>
            \(deadline)
            <dt>您的描述</dt><dd>\(View.escape(own.description_p))</dd>
            \(own.rating > 0 ? "<dt>您的评价</dt><dd>\(own.rating) 分</dd>" : "")
            </dl>
            <p><a href="/resident/requests">我的诉求</a></p>
            """
    }

    /// The filing form: the village is chosen by walking down from the gateway's centre
    /// (`?in=` a county, then a township), since residents know their village's name, not its code.
    static func fileForm(desk: ResidentDesk, within: String, error: String?, peer: String?) async throws -> Response {
        let code = (try? DivisionCode(validating: within)) ?? desk.forwarder.centre
        let children = code.level == .village ? [] : try await desk.children(of: code.rawValue, peer: peer)
        let choosing = children.first.map { $0.level == .village } ?? true
        var place = ""
        if code.level == .village {
            place = "<input type=\"hidden\" name=\"division_code\" value=\"\(code.rawValue)\"><p>地点：\(code.rawValue) <a href=\"/resident/file\">重新选择</a></p>"
        } else if choosing {
            let options = children.map { "<option value=\"\($0.code)\">\(View.escape($0.name))</option>" }.joined()
            place = "<label for=\"division_code\">所在村（社区）</label><select id=\"division_code\" name=\"division_code\" required>\(options)</select>"
        } else {
            let links = children.map { "<li><a href=\"/resident/file?in=\($0.code)\">\(View.escape($0.name))</a></li>" }.joined()
            return page("提交诉求", "\(alert(error))<p>请先选择所在地：</p><ul class=\"divisions\">\(links)</ul>")
        }
        let categories = Open311.services.map { "<option value=\"\($0.code)\">\(View.escape($0.name))</option>" }.joined()
        return page("提交诉求", """
            \(alert(error))
            <form method="post" action="/resident/file">
              <input type="hidden" name="request_id" value="\(UUID().uuidString.lowercased())">
              \(place)
              <label for="category">类别</label><select id="category" name="category" required>\(categories)</select>
              <label for="description">发生了什么</label><textarea id="description" name="description" maxlength="2000" required></textarea>
              <label for="name">您的姓名（可不填）</label><input id="name" name="name" maxlength="50">
              <label for="other_party">对方姓名（可不填）</label><input id="other_party" name="other_party" maxlength="50">
              <label><input type="checkbox" name="threat_of_violence"> 有人扬言动手或已有肢体冲突</label>
              <label><input type="checkbox" name="threat_of_self_harm"> 有人有轻生、自伤的言行</label>
              <p><button type="submit">提交</button></p>
            </form>
            """, status: error == nil ? .ok : .badRequest)
    }

    static func rateForm(token: String, error: String?) -> String {
        let choices = (1...5).reversed().map { score in
            "<label><input type=\"radio\" name=\"rating\" value=\"\(score)\" required> \(score) 分\(score == 5 ? "（完全解决）" : score == 1 ? "（没有解决）" : "")</label>"
        }.joined()
        return """
            \(alert(error))<p>您的诉求已回访。问题解决得怎么样？</p>
            <form method="post" action="/resident/rate/\(View.escape(token))">
              <fieldset><legend>评分</legend>\(choices)</fieldset>
              <label for="comment">意见（可不填）</label><textarea id="comment" name="comment" maxlength="500"></textarea>
              <p><button type="submit">提交评价</button></p>
            </form>
            """
    }
}
