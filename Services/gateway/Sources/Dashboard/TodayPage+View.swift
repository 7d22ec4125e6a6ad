extension TodayPage {
    static let template = View.template("""
    <nav class="trail" aria-label="层级">{{#trail}}<a href="/ui/?centre={{code}}">{{name}}</a> › {{/trail}}<strong>{{name}}</strong> <span class="muted">{{level}}</span></nav>
    <h1>{{name}} · 今日工作</h1>
    <p><a href="/ui/index?centre={{code}}">治理指数与排名</a></p>
    {{{copies}}}
    {{#hasChildren}}<section id="children"><h2>下级中心</h2><ul class="children">{{#children}}<li><a href="/ui/?centre={{code}}">{{name}}</a></li>{{/children}}</ul></section>{{/hasChildren}}
    <section id="warnings" aria-labelledby="warnings-title">
    <h2 id="warnings-title">未关闭的预警（{{warningCount}}）</h2>
    {{#warnings}}
    <article class="warning{{^waiting}} done{{/waiting}}" data-warning="{{id}}">
      <h3><a href="/ui/cases/{{caseID}}">风险 {{score}} 分 · {{village}}</a></h3>
      <p>{{#hasLevel}}<strong class="level">{{level}}风险</strong> · {{/hasLevel}}{{status}}{{#hasRepeated}} · <span class="repeated">{{repeated}}</span>{{/hasRepeated}} · 预警于 {{raisedAt}}（{{age}}前）{{#escalates}} · <span class="clock">{{escalation}}</span>{{/escalates}}</p>
      {{#next}}<form class="step" method="post" action="/ui/warnings/{{id}}/{{action}}">
        <input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="centre" value="{{code}}">
        {{#needsText}}<label for="text-{{id}}">{{textLabel}}</label><input id="text-{{id}}" name="text" required maxlength="500">{{/needsText}}
        <button type="submit" aria-label="{{label}}：{{village}}，风险 {{score}} 分">{{label}}</button></form>{{/next}}
    </article>
    {{/warnings}}
    {{^warnings}}<p class="empty">没有未关闭的预警。</p>{{/warnings}}
    </section>
    <section id="cases" aria-labelledby="cases-title">
    <h2 id="cases-title">矛盾纠纷案件（超期的在前）</h2>
    <p><a href="/ui/cases.csv?centre={{code}}" download>导出本表（CSV）</a></p>
    <table>
    <thead><tr><th scope="col">村（社区）</th><th scope="col">类别</th><th scope="col">调解层级</th><th scope="col">本级期限</th><th scope="col">状态</th><th scope="col">受理时间</th></tr></thead>
    <tbody>
    {{#cases}}<tr{{#overdue}} class="overdue"{{/overdue}}><td data-label="村（社区）"><a href="/ui/cases/{{id}}">{{village}}</a></td><td data-label="类别">{{category}}</td>
    <td data-label="调解层级">{{rung}}{{#overdue}} <span class="overdue-tag">已超期</span>{{/overdue}}</td><td data-label="本级期限">{{deadline}}</td><td data-label="状态">{{status}}</td><td data-label="受理时间">{{openedAt}}</td></tr>
    {{/cases}}
    </tbody>
    </table>
    {{^cases}}<p class="empty">没有案件。</p>{{/cases}}
    </section>
    <section id="due" aria-labelledby="due-title">
    <h2 id="due-title">待部门报到、反馈与回访</h2>
    {{#due}}<p{{#overdue}} class="overdue"{{/overdue}}><a href="/ui/cases/{{caseID}}">{{village}}</a> · {{what}} · 期限 {{due}}{{#overdue}} <span class="overdue-tag">已超期</span>{{/overdue}}</p>{{/due}}
    {{^due}}<p class="empty">没有待办的报到、反馈或回访。</p>{{/due}}
    {{#dueMore}}<p class="muted" id="due-more">本页只读最早到期的 {{dueRead}} 项办理步骤；其余请进入下级中心查看。</p>{{/dueMore}}
    </section>
    <section id="actions" aria-labelledby="actions-title">
    <h2 id="actions-title">待办的指数整改事项</h2>
    {{#actions}}<p><strong>{{division}}</strong> · {{kind}} · 负责：{{owner}} · {{month}} 月 · 期限 {{dueOn}}</p>{{/actions}}
    {{^actions}}<p class="empty">没有待办事项。</p>{{/actions}}
    </section>
    """)

    func render() -> String { Self.template.render(self) }

    /// The cases table as CSV, the rows the page shows, in its order.
    func casesCSV() -> String {
        var lines = ["村（社区）,类别,调解层级,本级期限,状态,受理时间,超期"]
        for row in cases {
            lines.append([row.village, row.category, row.rung, row.deadline, row.status, row.openedAt, row.overdue ? "是" : "否"].map(Self.csvField).joined(separator: ","))
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    /// A CSV field, quoted when it must be, and never read as a formula by a spreadsheet.
    static func csvField(_ text: String) -> String {
        var text = text
        if let first = text.first, "=+-@".contains(first) { text = "'" + text }
        guard text.contains(where: { ",\"\r\n".contains($0) }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
