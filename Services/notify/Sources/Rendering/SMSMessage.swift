import Foundation

/// What the HTTP SMS gateway is posted: the recipient, the deployment's template name and one
/// line of text. The text carries no personal data, since an SMS is read wherever the phone is.
enum SMSMessage {
    /// The gateway's JSON: `{"phone":…,"template":…,"text":…}`.
    static func body(_ content: PushContent, to phone: String, template: String) -> String {
        var body = JSONObjectText()
        body.add("phone", phone)
        body.add("template", template)
        body.add("text", text(content))
        return body.text
    }

    /// `【平安】<title>：<centre> <village> <score or summary>`, then ` 风险等级：<level>`
    /// when the push has one.
    static func text(_ content: PushContent) -> String {
        let detail = content.score.map { "风险分\($0)" } ?? content.summary
        let level = content.levelWord.map { " 风险等级：\($0)" } ?? ""
        return "【平安】\(PushRendering.title(content.type))：\(content.centre) \(content.village) \(detail)\(level)"
    }
}
