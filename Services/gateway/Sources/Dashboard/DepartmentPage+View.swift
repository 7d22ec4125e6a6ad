extension DepartmentPage {
    static let template = View.template("""
    <nav class="trail" aria-label="返回"><a href="/ui/department">部门报到</a></nav>
    <h1>{{#hasDepartment}}{{department}} · {{/hasDepartment}}吹哨报到</h1>
    <p class="muted">中心吹哨、部门报到：每件吹哨事项须先在报到期限前报到，再在反馈期限前反馈处理情况。期限为工作日，按法定节假日和调休计算。</p>
    {{#hasNotice}}<p class="notice" role="status">{{notice}}</p>{{/hasNotice}}
    <section id="summons" aria-labelledby="summons-title">
      <h2 id="summons-title">派给本部门的吹哨事项</h2>
      {{#rows}}<article class="summons{{#fedBack}} done{{/fedBack}}" data-summons="{{id}}">
        <h3><a href="/ui/cases/{{caseID}}">{{village}} · {{category}}</a> <span class="muted">（{{caseStatus}}）</span></h3>
        <p class="description">{{description}}</p>
        <dl class="deadlines">
          <dt>报到期限</dt><dd>{{reportDue}}{{#reported}} · 已于 {{reportedAt}} 报到{{/reported}}{{#reportOverdue}} <span class="overdue-tag">已逾期</span>{{/reportOverdue}}</dd>
          <dt>反馈期限</dt><dd>{{feedbackDue}}{{#fedBack}} · 已于 {{fedBackAt}} 反馈{{/fedBack}}{{#feedbackOverdue}} <span class="overdue-tag">已逾期</span>{{/feedbackOverdue}}</dd>
        </dl>
        {{#beyondCalendar}}<p class="hint">期限超出已载入的法定工作日历，按周一至周五推算。</p>{{/beyondCalendar}}
        {{#fedBack}}<p class="outcome">反馈：{{feedback}}</p>{{/fedBack}}
        {{#hasError}}<p class="error" role="alert" id="summons-error-{{id}}">{{error}}</p>{{/hasError}}
        {{#mayReport}}<form method="post" action="/ui/department/summons/{{id}}/report"><input type="hidden" name="csrf" value="{{csrf}}">
          <button type="submit" aria-label="报到：{{village}} {{category}}">报到</button></form>{{/mayReport}}
        {{#mayFeedBack}}<form method="post" action="/ui/department/summons/{{id}}/feedback"><input type="hidden" name="csrf" value="{{csrf}}">
          <p><label for="feedback-{{id}}">处理情况</label><br><textarea id="feedback-{{id}}" name="feedback" rows="3" maxlength="4000" required{{#hasError}} aria-describedby="summons-error-{{id}}"{{/hasError}}>{{typed}}</textarea></p>
          <p><button type="submit" aria-label="反馈：{{village}} {{category}}">反馈</button></p></form>{{/mayFeedBack}}
      </article>{{/rows}}
      {{^rows}}<p class="empty">目前没有派给本部门的吹哨事项。</p>{{/rows}}
      {{#more}}<p class="muted">只列出最近 100 件案件的吹哨事项；其余请用 DisputeService/ListCases 分页查看。</p>{{/more}}
    </section>
    """)

    /// The page as the template reads it: mustache sees stored properties only.
    private struct Shown {
        let department: String, hasDepartment: Bool, rows: [SummonsRow], more: Bool, csrf: String
        let notice: String, hasNotice: Bool
    }

    func render() -> String {
        let rows = rows.map { row in
            var row = row
            if let refusal, refusal.summons == row.id {
                row.error = refusal.message
                row.hasError = true
            }
            return row
        }
        return Self.template.render(Shown(
            department: department, hasDepartment: !department.isEmpty, rows: rows, more: more, csrf: csrf,
            notice: notice, hasNotice: !notice.isEmpty
        ))
    }
}
