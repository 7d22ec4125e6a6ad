extension CasePage {
    static let template = View.template("""
    <nav class="trail" aria-label="返回"><a href="/ui/">今日工作</a> › 案件</nav>
    <h1>{{category}}纠纷 · {{village}}</h1>
    <section id="summary">
      <p>{{status}} · 受理于 {{openedAt}} · 当前：{{currentRung}}</p>
      {{#hasFacts}}<ul class="facts" aria-label="风险事实">{{#facts}}<li><strong class="fact">{{.}}</strong></li>{{/facts}}</ul>{{/hasFacts}}
      <p>{{description}}</p>
      <p class="muted">最近一次报告：{{latestReport}}</p>
      <h2>当事人</h2>
      <ul class="parties">{{#parties}}<li>{{name}}{{#hasPhone}} · {{phone}}{{/hasPhone}}</li>{{/parties}}</ul>
      {{#revealed}}<p class="muted">本次查看当事人信息已记入个人信息查阅记录。</p>{{/revealed}}
      {{#canReveal}}<form method="post" action="/ui/cases/{{id}}/reveal"><input type="hidden" name="csrf" value="{{csrf}}">
        <button type="submit">查看当事人完整信息（将被记录）</button></form>{{/canReveal}}
    </section>
    <section id="reports" aria-labelledby="reports-title">
      <h2 id="reports-title">来源报告</h2>
      {{#reportsPaged}}<p><a href="/ui/cases/{{id}}#reports">回到最新</a></p>{{/reportsPaged}}
      <ol>{{#reports}}<li>{{reportedAt}} · {{source}}{{#opened}} · 立案{{/opened}}{{#hasFacts}} · {{#facts}}<strong class="fact">{{.}}</strong> {{/facts}}{{/hasFacts}}
        <br>{{description}}{{#backfilled}} <span class="muted">（由原案件信息补录）</span>{{/backfilled}}</li>{{/reports}}</ol>
      {{^reports}}<p class="empty">没有更多报告。</p>{{/reports}}
      {{#hasOlderReports}}<p><a rel="next" href="{{olderReports}}">更早</a></p>{{/hasOlderReports}}
    </section>
    <section id="rungs" aria-labelledby="rungs-title">
      <h2 id="rungs-title">三二一调解</h2>
      <table><thead><tr><th scope="col">层级</th><th scope="col">负责人</th><th scope="col">开始</th><th scope="col">期限</th><th scope="col">结束</th></tr></thead>
      <tbody>{{#rungs}}<tr{{#overdue}} class="overdue"{{/overdue}}><td data-label="层级">{{rung}}</td><td data-label="负责人">{{lead}}</td><td data-label="开始">{{startedAt}}</td>
      <td data-label="期限" class="deadline">{{dueAt}}{{#overdue}} <span class="overdue-tag">已超期</span>{{/overdue}}</td><td data-label="结束">{{#open}}进行中{{/open}}{{endedAt}}</td></tr>{{/rungs}}</tbody></table>
      {{^rungs}}<p class="empty">尚未开始调解。</p>{{/rungs}}
    </section>
    <section id="summons" aria-labelledby="summons-title">
      <h2 id="summons-title">部门报到（中心吹哨、部门报到）</h2>
      {{#summons}}<p><strong>{{department}}</strong> · 报到期限 {{reportBy}}{{#reported}} · 已报到 {{reportedAt}}{{/reported}}{{#hasFeedback}} · 反馈：{{feedback}}{{/hasFeedback}}</p>{{/summons}}
      {{^summons}}<p class="empty">未召集部门。</p>{{/summons}}
    </section>
    <section id="agreement"><h2>调解协议与回访</h2>
      {{#hasAgreement}}<p>{{agreement}}</p>{{/hasAgreement}}{{^hasAgreement}}<p class="empty">尚无调解协议。</p>{{/hasAgreement}}
      {{#hasReturnVisit}}<p>{{returnVisit}}</p>{{/hasReturnVisit}}
    </section>
    <section id="timeline" aria-labelledby="timeline-title"><h2 id="timeline-title">办理记录</h2>
      {{#timelinePaged}}<p><a href="/ui/cases/{{id}}#timeline">回到最新</a></p>{{/timelinePaged}}
      <ol>{{#timeline}}<li>{{at}} · {{kind}} · {{note}} <span class="muted">{{actor}}</span></li>{{/timeline}}</ol>
      {{#hasOlderTimeline}}<p><a rel="next" href="{{olderTimeline}}">更早</a></p>{{/hasOlderTimeline}}
    </section>
    """)

    func render() -> String { Self.template.render(self) }
}
