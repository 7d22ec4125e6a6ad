import Foundation
import PinganAccess
import PinganConnect
import PinganContracts
import PinganDomain

/// The index owner's work on the index page (指数调度法): the actions the centre's units'
/// scores call for, each completed with a note; the centre's threshold rule, shown and, for
/// its leader or administrator, set; and freezing a month, for those who compute the index.
///
/// Built from `IndexService` as the signed-in person calls it, so the forms offered are the
/// ones ``MethodRoles`` lets that person use; a refusal is shown beside the form it answers,
/// with what was typed kept (``Refusal``, ``RuleForm``, ``ActionRow/note``).
struct IndexWorkbench {
    struct ActionRow {
        let id: String, month: String, unit: String, kind: String, owner: String, due: String, score: String
        let status: String, open: Bool, overdue: Bool
        let outcome: String, doneBy: String, doneAt: String, hasOutcome: Bool
        /// The note typed into this action's form, kept when the form was refused, and why.
        var note = ""
        var error = ""
        var hasError = false
    }

    /// The threshold rule as its form shows it: text, so a refused value is shown as typed.
    struct RuleForm: Equatable {
        var shareAt = "", remindBelow = "", summonBelow = ""
        var shareDays = "", remindDays = "", summonDays = ""
        var shareOwner = "", remindOwner = "", summonOwner = ""
        var isDefault = false

        init(_ rule: Pingan_Index_V1_ThresholdRule) {
            shareAt = Self.number(rule.shareAt); remindBelow = Self.number(rule.remindBelow); summonBelow = Self.number(rule.summonBelow)
            shareDays = "\(rule.shareDays)"; remindDays = "\(rule.remindDays)"; summonDays = "\(rule.summonDays)"
            shareOwner = rule.shareOwner; remindOwner = rule.remindOwner; summonOwner = rule.summonOwner
            isDefault = rule.isDefault
        }

        /// The form's fields as posted (`share_at`, ..., `summon_owner`).
        init(form: [String: String]) {
            func text(_ name: String) -> String { (form[name] ?? "").trimmingCharacters(in: .whitespaces) }
            shareAt = text("share_at"); remindBelow = text("remind_below"); summonBelow = text("summon_below")
            shareDays = text("share_days"); remindDays = text("remind_days"); summonDays = text("summon_days")
            shareOwner = text("share_owner"); remindOwner = text("remind_owner"); summonOwner = text("summon_owner")
        }

        /// The rule to send; a field that is not a number is refused here, naming it as the
        /// service would, so the page says the same whichever side found it.
        func rule(centre: String) throws(ConnectError) -> Pingan_Index_V1_ThresholdRule {
            func score(_ text: String, _ field: String) throws(ConnectError) -> Double {
                guard let value = Double(text), value.isFinite else { throw ConnectError.invalidArgument(field: "rule.\(field)", "must be a number") }
                return value
            }
            func days(_ text: String, _ field: String) throws(ConnectError) -> Int32 {
                guard let value = Int32(text) else { throw ConnectError.invalidArgument(field: "rule.\(field)", "must be a whole number of days") }
                return value
            }
            var rule = Pingan_Index_V1_ThresholdRule()
            rule.centreCode = centre
            rule.shareAt = try score(shareAt, "share_at"); rule.remindBelow = try score(remindBelow, "remind_below")
            rule.summonBelow = try score(summonBelow, "summon_below")
            rule.shareDays = try days(shareDays, "share_days"); rule.remindDays = try days(remindDays, "remind_days")
            rule.summonDays = try days(summonDays, "summon_days")
            rule.shareOwner = shareOwner; rule.remindOwner = remindOwner; rule.summonOwner = summonOwner
            return rule
        }

        static func number(_ value: Double) -> String {
            value == value.rounded() ? String(Int(value)) : String(format: "%g", value)
        }
    }

    /// Computing the shown month: what the button does, and whether a reason is asked.
    struct Freeze: Equatable {
        let label: String
        let explanation: String
        let needsReason: Bool
    }

    /// A refusal, shown beside the form it answers: `action:<id>`, `rule` or `freeze`.
    struct Refusal: Equatable { let form: String, message: String }

    let centre: String
    let month: String
    let csrf: String
    var actions: [ActionRow]
    var rule: RuleForm
    let mayComplete: Bool
    let maySetRule: Bool
    /// `nil` when the signed-in person does not compute the index, or the month is frozen
    /// and only an administrator could recompute it.
    let freeze: Freeze?
    var notice = ""
    var refusal: Refusal?

    /// How many actions the page lists at once; the API pages through the rest.
    static let listed = 200

    static func load(
        centre: DivisionCode, month: Month, frozen: Bool, now: Date, gatewayCentre: DivisionCode, session: Dashboard.Session, client: DashboardClient
    ) async throws -> IndexWorkbench {
        let principal = session.principal
        // Open actions of every month (on record until done), and everything of the month shown.
        async let open = client.call(IndexServiceMethods.listActions, .with {
            $0.centreCode = centre.rawValue; $0.status = .open; $0.pageSize = Int32(listed)
        })
        async let ofMonth = client.call(IndexServiceMethods.listActions, .with {
            $0.centreCode = centre.rawValue; $0.month = month.description; $0.pageSize = Int32(listed)
        })
        async let rule = client.call(IndexServiceMethods.getThresholdRule, .with { $0.centreCode = centre.rawValue })
        var seen = Set<String>()
        let actions = (try await open.actions + ofMonth.actions).filter { seen.insert($0.id).inserted }
        let today = ChinaTime.minute(now).prefix(10)
        return IndexWorkbench(
            centre: centre.rawValue, month: month.description, csrf: session.csrf,
            actions: actions.map { row(of: $0, today: String(today)) },
            rule: RuleForm(try await rule.rule),
            mayComplete: MethodRoles.allows(principal, IndexServiceMethods.completeAction.path),
            maySetRule: MethodRoles.allows(principal, IndexServiceMethods.setThresholdRule.path),
            freeze: freeze(month: month, frozen: frozen, now: now, principal: principal, centre: centre, gatewayCentre: gatewayCentre)
        )
    }

    static func row(of action: Pingan_Index_V1_IndexAction, today: String) -> ActionRow {
        let open = action.status == .open
        return ActionRow(
            id: action.id, month: action.month, unit: action.divisionName.isEmpty ? action.divisionCode : action.divisionName,
            kind: Labels.actionKind(action.kind), owner: action.owner, due: action.dueOn, score: String(format: "%.1f", action.score),
            status: IndexWords.status(action.status), open: open, overdue: open && !action.dueOn.isEmpty && action.dueOn < today,
            outcome: action.outcome, doneBy: action.doneBy.replacingOccurrences(of: "user:", with: ""), doneAt: Labels.time(action.doneAt),
            hasOutcome: !action.outcome.isEmpty
        )
    }

    /// The compute form, for those the roles table lets compute, on the page of their own
    /// centre, when that is the gateway's: a centre below it cannot be the deployment's root,
    /// the only one the service computes for (a gateway deployed below the root still offers
    /// it, and shows the service's refusal). A frozen month is recomputed by an administrator
    /// alone, with a reason; a leader is not offered it.
    static func freeze(month: Month, frozen: Bool, now: Date, principal: Principal, centre: DivisionCode, gatewayCentre: DivisionCode) -> Freeze? {
        guard MethodRoles.allows(principal, IndexServiceMethods.computeMonthlyIndex.path), centre == principal.centre,
              principal.centre == gatewayCentre, month.range.start <= now else { return nil }
        if frozen {
            guard principal.has(.admin) else { return nil }
            return Freeze(label: "重新计算 \(month)", explanation: "\(month) 已定稿。重新计算将生成新版本并保留原版本，须说明理由。", needsReason: true)
        }
        if month.range.end <= now {
            return Freeze(label: "定稿 \(month)", explanation: "\(month) 已结束。定稿后分数即为本月公布版本，并按调度规则生成各单位的行动。", needsReason: false)
        }
        return Freeze(label: "重新计算本月", explanation: "\(month) 尚在进行中，计算结果为临时分数，月末后定稿。", needsReason: false)
    }
}

/// How the index owner's forms say things in Chinese: action statuses, what a form did, and
/// why `IndexService` refused it.
enum IndexWords {
    static func status(_ value: Pingan_Index_V1_ActionStatus) -> String {
        switch value {
        case .open: "待办"
        case .done: "已完成"
        case .withdrawn: "已撤回（重新计算后不再需要）"
        default: "未知"
        }
    }

    /// What a form done did, by the code its redirect carries.
    static func notice(_ code: String) -> String {
        switch code {
        case "completed": "已办结该行动，办理情况已记录。"
        case "rule": "已保存本中心的调度规则，下次定稿时生效。"
        case "computed": "已重新计算，分数已更新。"
        default: ""
        }
    }

    /// A refused form in words an index owner reads; `nil` for one the page as a whole
    /// answers (a session that ended, a service that is down).
    static func refusal(_ error: ConnectError, form: String) -> String? {
        let field = error.message.split(separator: ":", maxSplits: 1).first.map(String.init) ?? ""
        switch (form, error.code) {
        case ("action", .invalidArgument):
            return field == "outcome" ? "请填写办理情况，1 至 500 字。" : "提交的内容有误：\(error.message)"
        case ("action", .notFound), ("action", .permissionDenied):
            return "未找到该行动，或它不在本中心的辖区内。"
        case ("action", .failedPrecondition):
            return "该行动已完成或已撤回，不能再办结。"
        case ("rule", .invalidArgument):
            return ruleField(field)
        case ("rule", .permissionDenied):
            return "只有本中心的领导或管理员可以设置调度规则。"
        case ("freeze", .invalidArgument):
            if field == "reason" { return "该月已定稿，重新计算须说明理由（最多 500 字）。" }
            if field == "month" { return "该月尚未开始，不能计算。" }
            return "提交的内容有误：\(error.message)"
        case ("freeze", .permissionDenied):
            if error.message.contains("frozen") { return "该月已定稿，只有根中心的管理员可以说明理由后重新计算。" }
            return "治理指数由根中心（全市）统一计算，本中心可查看下级单位的排名。"
        default:
            return nil
        }
    }

    private static func ruleField(_ field: String) -> String {
        switch field {
        case "rule.share_at": "经验交流分数线须为 0 至 100 的数，且不低于提醒谈话分数线。"
        case "rule.remind_below": "提醒谈话分数线须为 0 至 100 的数，且不高于经验交流分数线。"
        case "rule.summon_below": "约谈分数线须为 0 至 100 的数，且不高于提醒谈话分数线。"
        case "rule.share_days", "rule.remind_days", "rule.summon_days": "办理期限须为 1 至 365 天的整数。"
        case "rule.share_owner", "rule.remind_owner", "rule.summon_owner": "请填写负责人，1 至 50 个字。"
        default: "提交的规则有误：\(field)"
        }
    }
}
