import Foundation
import PinganConnect
import PinganContracts

/// How the subscriptions page says things in Chinese: channels, push types, a test push's
/// outcome, what a form did, and why notify-service refused one.
enum SubscriptionWords {
    /// The type of a test push (`SendTestPush`), as `ListDeliveries` names it.
    static let testType = "push.test"

    static func channel(_ channel: Pingan_Notify_V1_Channel) -> String {
        switch channel {
        case .wecom: "企业微信群机器人"
        case .sms: "短信"
        case .email: "电子邮件"
        case .webhook, .unspecified, .UNRECOGNIZED: "Webhook（签名 JSON）"
        }
    }

    /// The channel a subscribe form's radio button names; webhook for anything else.
    static func channel(_ value: String) -> Pingan_Notify_V1_Channel {
        switch value {
        case "wecom": .wecom
        case "sms": .sms
        case "email": .email
        default: .webhook
        }
    }

    static let channels: [(value: String, label: String)] = [
        ("webhook", "Webhook（签名 JSON，供部门系统接收）"), ("wecom", "企业微信群机器人"), ("sms", "短信"), ("email", "电子邮件"),
    ]

    /// A push type as centre staff read it (the same words the pushes themselves use).
    static func event(_ type: String) -> String {
        switch type {
        case "warning.raised": "风险预警"
        case "warning.escalated": "预警升级"
        case "warning.grew": "预警扩大"
        case "case.overdue": "逾期提醒"
        case "case.escalated": "案件提级"
        case "case.escalation_requested": "请求提级"
        case "case.summoned": "吹哨报到"
        case "index.action": "指数处置"
        case "index.published": "指数发布"
        case testType: "测试推送"
        default: type
        }
    }

    /// A test push's delivery in words: delivered when, or still trying and why.
    static func outcome(_ delivery: Pingan_Notify_V1_Delivery) -> String {
        if !delivery.deliveredAt.isEmpty {
            return "测试推送已送达（\(Labels.time(delivery.deliveredAt))，共尝试 \(delivery.attempts) 次）。"
        }
        if delivery.attempts == 0 { return "测试推送已排队，正在发送；请稍后刷新本页查看结果。" }
        let why = delivery.lastError.isEmpty ? "" : "：\(delivery.lastError)"
        return "测试推送尚未送达（已尝试 \(delivery.attempts) 次\(why)），系统会自动重试；请检查接收方后刷新本页。"
    }

    /// What a successful form did, by the code its redirect carries.
    static func notice(_ code: String) -> String {
        switch code {
        case "subscribed": "已添加订阅。"
        case "updated": "已保存推送类型。"
        case "rotated": "已更换签名密钥；过渡期内新旧密钥同时签名。"
        case "unsubscribed": "已退订；尚未送出的推送不再发送。"
        case "paused": "已暂停推送；新的推送排队等待，恢复后送出。"
        case "resumed": "已恢复推送；排队的推送开始送出。"
        default: ""
        }
    }

    /// A refused call in words an administrator can act on; `nil` for a refusal the page as a
    /// whole answers (a session that ended, a service that is down).
    static func refusal(_ error: ConnectError) -> String? {
        let field = error.message.split(separator: ":", maxSplits: 1).first.map(String.init) ?? ""
        switch error.code {
        case .invalidArgument:
            switch field {
            case "url":
                if error.message.contains("e-mail") { return "电子邮件订阅不填接收地址。" }
                return "接收地址须为可从外网访问的 http 或 https 地址（内网地址须由部署方允许），不超过 2000 个字符。"
            case "secret": return "签名密钥须为 whsec_ 加 16 至 200 字节的 base64，或 16 至 200 字节的文本（建议 24 字节以上的随机值）。"
            case "phone":
                if error.message.contains("only an SMS") { return "只有短信订阅填写手机号。" }
                return "短信订阅须填写 5 至 20 位数字的手机号。"
            case "email":
                if error.message.contains("only an e-mail") { return "只有电子邮件订阅填写邮箱。" }
                return "电子邮件订阅须填写有效的邮箱地址，如 zongzhi@example.org。"
            case "min_score": return "最低风险分须为 0 至 100。"
            case "centre_code": return "中心代码须为 12 位统计用区划代码，如 430723102000。"
            case "overlap_seconds": return "过渡期须在 0 至 7 天之间。"
            case "subscription_id": return "未找到该订阅。"
            default:
                return field.hasPrefix("event_types[") ? "所选推送类型无效。" : "提交的内容有误：\(error.message)"
            }
        case .permissionDenied:
            if field == "centre_code" { return "所选中心不在本中心的辖区内，不能为它订阅推送。" }
            return "只有本中心的管理员可以管理推送订阅。"
        case .notFound:
            return "未找到该订阅，或它已退订、不在本中心的辖区内。"
        case .failedPrecondition:
            if error.message.contains("paused") { return "该订阅已暂停推送；恢复后再发送测试推送。" }
            return "只有 Webhook 订阅有签名密钥；企业微信、短信和电子邮件不签名。"
        default:
            return nil
        }
    }
}
