import Foundation

/// What the HTTP SMS gateway is posted: the recipient, the deployment's template name and
/// the text. The text carries no personal data, since an SMS is read wherever the phone is.
///
/// A text SMS in Chinese (UCS-2) holds 70 characters, and a long one is sent as segments of
/// 67; Pingan's text is at most ``maxSegments`` of them (``maxCharacters``), so one push
/// costs at most three messages. What is cut to fit is the middle (what happened); the
/// title, the place, the level, the deadline and the link stay.
enum SMSMessage {
    static let segmentCharacters = 67
    static let maxSegments = 3
    static var maxCharacters: Int { segmentCharacters * maxSegments }

    /// The gateway's JSON: `{"phone":…,"template":…,"text":…}`.
    static func body(_ content: PushContent, to phone: String, template: String, dashboard: String) -> String {
        var body = JSONObjectText()
        body.add("phone", phone)
        body.add("template", template)
        body.add("text", text(content, dashboard: dashboard))
        return body.text
    }

    /// `【平安】<title>：<place>，风险等级<level>。<what>。<due>。详情：<link>`, at most
    /// ``maxCharacters`` characters.
    static func text(_ content: PushContent, dashboard: String) -> String {
        let text = PushText(content, dashboard: dashboard)
        let head = "【平安】\(text.title)：\(text.place)" + (text.risk.map { "，风险等级\($0)" } ?? "") + "。"
        let tail = (text.due.map { "\($0)。" } ?? "") + "详情：\(text.link)"
        let room = maxCharacters - head.count - tail.count - 1
        let middle = room > 1 ? PushText.cut(text.what, to: room) + "。" : ""
        return PushText.cut(head + middle + tail, to: maxCharacters)
    }
}
