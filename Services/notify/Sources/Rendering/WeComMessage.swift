import Foundation

/// A WeCom group robot's markdown message: what a group of centre staff reads on a phone.
enum WeComMessage {
    /// The robot's JSON: `{"markdown":{"content":…},"msgtype":"markdown"}`.
    static func body(_ content: PushContent) -> String {
        var inner = JSONObjectText()
        inner.add("content", markdown(content))
        var body = JSONObjectText()
        body.add("msgtype", "markdown")
        body.add("markdown", object: inner)
        return body.text
    }

    /// The markdown itself: a bold title, then one quoted line per field the push has. An
    /// e-mail's text is this without the markup (``MailMessage``).
    static func markdown(_ content: PushContent) -> String {
        var lines = ["**平安 · \(PushRendering.title(content.type))**", "> 中心：\(content.centre)　村（社区）：\(content.village)"]
        if let score = content.score { lines.append("> 风险分：<font color=\"warning\">\(score)</font>") }
        if let level = content.levelWord { lines.append("> 风险等级：<font color=\"warning\">\(level)</font>") }
        if !content.reasons.isEmpty { lines.append("> 依据：\(content.reasons.joined(separator: "；"))") }
        if !content.summary.isEmpty { lines.append("> \(content.summary)") }
        if !content.dueAt.isEmpty { lines.append("> 期限：\(content.dueAt)") }
        if !content.caseID.isEmpty { lines.append("> 案件：\(content.caseID)") }
        return lines.joined(separator: "\n")
    }
}
