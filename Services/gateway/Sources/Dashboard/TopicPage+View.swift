import Foundation
import PinganContracts

extension TopicPage {
    /// The page's HTML: the cluster warnings first (what needs handling), then the open topics
    /// with their cases and forms, then the incidents table.
    func render() -> String {
        var html = ""
        if let notice { html += "<p class=\"notice\" role=\"status\">\(View.escape(notice))</p>" }
        if let refusal { html += "<p class=\"error\" role=\"alert\">\(View.escape(refusal))</p>" }
        html += "<section aria-labelledby=\"clusters\"><h2 id=\"clusters\">聚集性预警</h2>"
        if clusters.isEmpty {
            html += "<p>没有未办结的聚集性预警。</p>"
        } else {
            html += "<ul class=\"cards\">" + clusters.map { warning in
                let members = warning.memberCaseIds.map { "<li><a href=\"/ui/cases/\(View.escape($0))\">\(View.escape(String($0.prefix(8))))</a></li>" }.joined()
                return """
                    <li class="card" id="cluster-\(View.escape(warning.id))"><h3>\(View.escape(warning.rule))（规则版本 \(View.escape(warning.rulesVersion))）</h3>
                    <p>\(View.escape(Labels.warningStatus(warning.status))) · 关联案件 \(warning.memberCaseIds.count) 起 · 区域 \(View.escape(warning.villageCode)) · 预警至 \(View.escape(warning.centreCode))</p>
                    <ol class="members">\(members)</ol></li>
                    """
            }.joined() + "</ul>"
        }
        html += "</section><section aria-labelledby=\"topics\"><h2 id=\"topics\">专题</h2>"
        html += topics.isEmpty ? "<p>没有进行中的专题。</p>" : "<ul class=\"cards\">" + topics.map(topicCard).joined() + "</ul>"
        if mayEdit {
            html += """
                <form method="post" action="/ui/topics?centre=\(View.escape(centre))"><input type="hidden" name="csrf" value="\(View.escape(csrf))">
                <label for="topic-title">新专题</label><input id="topic-title" name="title" maxlength="100" required>
                <button type="submit">建立专题</button></form>
                """
        }
        html += "</section><section aria-labelledby=\"incidents\"><h2 id=\"incidents\">近\(weeks.count)周案事件（按村、类别）</h2>"
        if rows.isEmpty {
            html += "<p>这段时间没有案事件。</p>"
        } else {
            let head = weeks.map { "<th scope=\"col\">\(View.escape(String($0.dropFirst(5))))起</th>" }.joined()
            let body = rows.map { row in
                "<tr><th scope=\"row\">\(View.escape(row.village))</th><td>\(View.escape(Labels.category(row.category)))</td>"
                    + row.counts.map { "<td>\($0)</td>" }.joined() + "</tr>"
            }.joined()
            html += "<table><thead><tr><th scope=\"col\">村（社区）</th><th scope=\"col\">类别</th>\(head)</tr></thead><tbody>\(body)</tbody></table>"
        }
        return html + "</section>"
    }

    private func topicCard(_ topic: Pingan_Risk_V1_Topic) -> String {
        let cases = topic.caseIds.map { "<li><a href=\"/ui/cases/\(View.escape($0))\">\(View.escape(String($0.prefix(8))))</a></li>" }.joined()
        let attach = mayEdit ? """
            <form method="post" action="/ui/topics/\(View.escape(topic.id))/attach"><input type="hidden" name="csrf" value="\(View.escape(csrf))">
            <label for="attach-\(View.escape(topic.id))">关联案件编号</label><input id="attach-\(View.escape(topic.id))" name="case_id" required>
            <button type="submit">关联</button></form>
            """ : ""
        return """
            <li class="card" id="topic-\(View.escape(topic.id))"><h3>\(View.escape(topic.title))</h3>
            <p>\(View.escape(topic.centreCode)) · 建立于 \(View.escape(Labels.time(topic.openedAt))) · 关联案件 \(topic.caseIds.count) 起</p>
            <ol class="members">\(cases)</ol>\(attach)</li>
            """
    }
}
