import Foundation

/// A WeCom group robot's markdown message: what a group of centre staff reads on a phone.
/// WeCom refuses a markdown message over ``maxBytes`` bytes of UTF-8, so the parts that can
/// grow (the reasons, what happened) are cut to fit, never the place, the level, the deadline
/// or the link.
enum WeComMessage {
    /// WeCom's limit on a markdown message's `content`, in bytes of UTF-8.
    static let maxBytes = 4096

    /// The robot's JSON: `{"markdown":{"content":…},"msgtype":"markdown"}`.
    static func body(_ content: PushContent, dashboard: String) -> String {
        json(markdown(content, dashboard: dashboard))
    }

    static func json(_ markdown: String) -> String {
        var inner = JSONObjectText()
        inner.add("content", markdown)
        var body = JSONObjectText()
        body.add("msgtype", "markdown")
        body.add("markdown", object: inner)
        return body.text
    }

    /// The markdown itself: a bold title, then one quoted line per part the push has.
    static func markdown(_ content: PushContent, dashboard: String) -> String {
        let text = PushText(content, dashboard: dashboard)
        var head = ["**平安 · \(text.title)**", "> 中心：\(text.centre)"]
        if !text.village.isEmpty { head.append("> 村（社区）：\(text.village)") }
        if let risk = text.risk { head.append("> 风险等级：<font color=\"warning\">\(risk)</font>") }
        var tail: [String] = []
        if let due = text.due { tail.append("> \(due)") }
        tail.append("> [查看案件详情](\(text.link))")
        let fixed = (head + tail).joined(separator: "\n").utf8.count
        // What is left for the reasons and what happened, each with its line's prefix and newline.
        var room = maxBytes - fixed
        var middle: [String] = []
        for line in [text.reasons.isEmpty ? nil : "> 依据：\(text.reasons.joined(separator: "；"))", "> 事由：\(text.what)"].compactMap({ $0 }) {
            let fitted = fit(line, bytes: room - 1)
            guard !fitted.isEmpty else { continue }
            middle.append(fitted)
            room -= fitted.utf8.count + 1
        }
        return (head + middle + tail).joined(separator: "\n")
    }

    /// A message naming several pushes at once, for the robot's last message of a minute
    /// (``RobotPacing``): a line each, as many as fit in ``maxBytes``.
    /// - Returns: the markdown and how many of `digests` it names (at least one).
    static func grouped(_ digests: [String], link: String) -> (markdown: String, named: Int) {
        let head = "**平安 · 合并推送**\n> 企业微信群机器人每分钟最多发送20条消息，以下推送合并为一条："
        let foot = "> [打开工作台](\(link))"
        var lines: [String] = []
        var used = head.utf8.count + foot.utf8.count + 2
        // Room for the count line, written once the number is known.
        used += "> 共 0000 条".utf8.count + 1
        for (index, digest) in digests.enumerated() {
            let line = "\(index + 1). \(digest)"
            guard used + line.utf8.count + 1 <= maxBytes || lines.isEmpty else { break }
            let fitted = fit(line, bytes: maxBytes - used - 1)
            lines.append(fitted)
            used += fitted.utf8.count + 1
        }
        return (markdown: ([head, "> 共 \(lines.count) 条"] + lines + [foot]).joined(separator: "\n"), named: lines.count)
    }

    /// `line` cut to at most `bytes` bytes of UTF-8 on a character boundary, ending in `…`.
    static func fit(_ line: String, bytes: Int) -> String {
        guard line.utf8.count > bytes else { return line }
        var cut = ""
        for character in line {
            guard cut.utf8.count + character.utf8.count + "…".utf8.count <= bytes else { break }
            cut.append(character)
        }
        return cut.isEmpty ? "" : cut + "…"
    }
}
