import Foundation
import HTTPTypes
import PinganConnect

/// Why dispute-service refused a step on a case, in words a window clerk or mediator reads,
/// shown beside the form that asked. The service's messages are stable English for API
/// callers (`rung: rung 3 is run by the township centre or above`); each known one is said
/// again in Chinese with places named, and an unknown one keeps its text after a Chinese
/// lead-in, so a refusal is never hidden.
enum CaseRefusals {
    /// The refusal as the page says it, or `nil` for one the page as a whole answers (a case
    /// not found, a session that ended, a service that is down).
    static func message(_ error: ConnectError, place: (String) -> String) -> String? {
        let text = error.message
        func match(_ pattern: String) -> [String]? {
            guard let regex = try? NSRegularExpression(pattern: pattern, options: [.dotMatchesLineSeparators]),
                  let found = regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) else { return nil }
            return (1..<found.numberOfRanges).map { index in Range(found.range(at: index), in: text).map { String(text[$0]) } ?? "" }
        }
        func rung(_ number: String) -> String { Int(number).map(CaseWords.ordinal) ?? number }
        switch error.code {
        case .failedPrecondition:
            if let parts = match(#"^the case is (\w+); only an open case"#) { return "案件\(status(parts[0]))，只有办理中的案件可以调解、召集部门或上报。" }
            if let parts = match(#"^rung (\d) is still open"#) { return "\(rung(parts[0]))调解尚未结束，请先登记它的结果。" }
            if let parts = match(#"rung (\d) cannot start now; the next is rung (\d)"#) {
                return "现在不能开始\(rung(parts[0]))调解：下一步是\(rung(parts[1]))（上一级调解不成功后才开启下一级）。"
            }
            if text.contains("every rung of the ladder failed") { return "五级调解均未成功，请将案件上报上级中心统筹。" }
            if text.contains("it escalates with EscalateCase") { return "本中心统筹本案，请直接上报上级中心，无需提请。" }
            if text.contains("it is not the case's open rung") { return "这一级调解已经结束或已有变动，请刷新页面后再登记。" }
            if text.contains("no return visit is due") { return "现在没有待办的回访：案件尚未调解成功，或已经回访。" }
            if text.contains("there is no level above") { return "本案已由市级中心统筹，没有更上一级。" }
            if text.contains("nothing to hand back") { return "本案没有上报过，无需交回。" }
            if let parts = match(#"^county (\d{12}) runs its own platform"#) {
                return "\(place(parts[0]))独立部署了平台，该县的案件只在县平台登记：请在该县平台（或县、乡镇中心窗口）受理。"
            }
            if let parts = match(#"belongs to county (\d{12}), which runs its own platform"#) {
                return "本案属于独立部署平台的\(place(parts[0]))，只能在该县平台办理。"
            }
            return "这一步现在不能做：\(text)"
        case .permissionDenied:
            if let parts = match(#"^rung: rung (\d) is run by the (\w+) centre or above"#) {
                return "\(rung(parts[0]))调解由\(level(parts[1]))中心或上级中心开展，本中心不能办理。"
            }
            if let parts = match(#"^only the coordinating centre (\d{12}) may escalate"#) {
                return "只有统筹本案的\(place(parts[0]))可以上报上级（不得越级上报）；本中心可以提请它上报。"
            }
            if let parts = match(#"^only the coordinating centre (\d{12}) may (.+) on this case"#) {
                return "只有统筹本案的\(place(parts[0]))可以\(action(parts[1]))。"
            }
            if let parts = match(#"^the case is coordinated by centre (\d{12})"#) { return "本案由\(place(parts[0]))统筹，本中心不能办理这一步。" }
            if text.hasPrefix("this needs one of the roles") { return "您的账号没有办理这一步的角色。" }
            if let parts = match(#"^(\w+): (\d{12}) is outside the jurisdiction"#) { return "所选地区不在本中心的辖区内（\(parts[0])）。" }
            return "本中心不能办理这一步：\(text)"
        case .alreadyExists:
            if let parts = match(#"^department_ids: (.*) is already summoned to this case"#) { return "\(parts[0]) 已被召集且尚未反馈，不能重复召集。" }
            return "已经办理过：\(text)"
        case .aborted:
            return "案件正在被他人同时办理，请刷新页面后重新提交。"
        case .invalidArgument:
            return field(text)
        default:
            return nil
        }
    }

    /// What a field refused for input reads as; the field is the message's first word.
    static func field(_ text: String) -> String {
        let field = text.split(separator: ":", maxSplits: 1).first.map(String.init) ?? ""
        if field == "skip_reason" {
            if let eased = text.range(of: #"eased tension (\d+) time"#, options: .regularExpression) {
                let times = text[eased].filter(\.isNumber)
                return "下一级尚未失败：已缓和 \(times) 次但未达成协议（不成功一次或缓和满 2 次才开启更高一级）。现在开始更高一级属于跳级，请填写跳级理由。"
            }
            return "开始这一级将跳过尚未开展的调解，请填写跳级理由。"
        }
        if field.hasPrefix("participants[") { return "参与人员每个不超过 100 字。" }
        if field.hasPrefix("bodies[") { return "参与单位每个不超过 100 字。" }
        if field.hasPrefix("agreement.signatories[") { return "签字人每个不超过 100 字。" }
        if field.hasPrefix("parties[") { return "当事人姓名须为 1 至 50 字，电话须为 11 位手机号，或带区号的固定电话。" }
        switch field {
        case "lead": return "请填写牵头人（1 至 100 字）。"
        case "note": return "请填写情况说明（1 至 2000 字）。"
        case "outcome": return "请选择或填写结果。"
        case "rung": return "请选择调解层级。"
        case "kind": return "请选择调解类型。"
        case "participants": return "参与人员最多 100 人。"
        case "bodies": return "参与单位最多 100 个。"
        case "agreement": return text.contains("needs") ? "调解成功须同时登记已签订的调解协议。" : "只有调解成功才登记调解协议。"
        case "agreement.terms": return "请填写协议内容（不超过 4000 字）。"
        case "agreement.signed_on": return "签订日期须为 年-月-日，如 2026-07-15。"
        case "agreement.signatories": return "请至少填写一名签字人（最多 100 人）。"
        case "reason": return "请填写理由（1 至 2000 字）。"
        case "category": return "请选择纠纷类别。"
        case "department_ids": return text.contains("1 to 20") || text.contains("required") ? "请选择 1 至 20 个部门。" : "所选部门不能由本中心就本案召集：须在本中心或下级中心登记，并服务本案所在村（社区）。"
        case "departments": return "重大纠纷（1350工作法）须有至少 3 个不同的部门参与。"
        case "resident_representatives": return "重大纠纷（1350工作法）须有至少 50 名群众代表参与。"
        case "village_code": return "请选择本中心辖区内的一个村（社区）。"
        case "description": return "请填写纠纷情况（1 至 2000 字）。"
        case "parties": return "请至少填写一名当事人（最多 20 人）。"
        case "source": return "请选择来源（网格上报请由网格员在手机上报）。"
        case "prior_police_calls": return "此前报警次数须为 0 至 100。"
        case "request_id": return "表单已过期，请刷新页面后重新填写。"
        default: return "提交的内容有误：\(text)"
        }
    }

    /// The status a refused form is answered with: the page is shown again, beside the form.
    static func status(_ error: ConnectError) -> HTTPResponse.Status {
        switch error.code {
        case .permissionDenied: .forbidden
        case .failedPrecondition, .alreadyExists, .aborted: .conflict
        default: .badRequest
        }
    }

    private static func status(_ name: String) -> String {
        switch name {
        case "settled": "已调解成功，待回访"
        case "closed": "已回访结案"
        case "resolved": "已办结"
        default: "不在办理中"
        }
    }

    private static func level(_ name: String) -> String {
        switch name {
        case "village": "村（社区）"
        case "township": "乡镇（街道）"
        case "county": "县（市、区）"
        default: "市"
        }
    }

    /// A ``CaseAction``'s name, as dispute-service words it, in Chinese.
    private static func action(_ name: String) -> String {
        switch name {
        case "summon departments": "召集部门"
        case "hand back": "交回下级中心"
        case "mark a major dispute (1350)": "按重大纠纷（1350）办理"
        case "escalate": "上报上级"
        default: "办理这一步"
        }
    }
}
