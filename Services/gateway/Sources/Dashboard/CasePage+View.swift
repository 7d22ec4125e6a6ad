extension CasePage {
    /// The page, then beside each part of the record the forms of the steps the signed-in
    /// person may take on it (``CaseForms``): the ladder's under the rungs, the return visit's
    /// under the agreement, the whistle's under the summons, the coordination steps last. A
    /// refused form carries its reason (`role="alert"`) and what was typed.
    static let template = View.template("""
    {{#page}}
    <nav class="trail" aria-label="返回"><a href="/ui/">今日工作</a> › 案件</nav>
    <h1>{{category}}纠纷 · {{village}}</h1>
    {{#hasNotice}}<p class="notice" role="status">{{notice}}</p>{{/hasNotice}}
    {{#forms}}{{#hasOtherError}}<p class="error" role="alert" id="refusal">{{otherError}}</p>{{/hasOtherError}}{{/forms}}
    <section id="summary">
      <p>{{status}} · 受理于 {{openedAt}} · 当前：{{currentRung}} · 统筹中心：{{coordinator}}</p>
      {{#hasFacts}}<ul class="facts" aria-label="风险事实">{{#facts}}<li><strong class="fact">{{.}}</strong></li>{{/facts}}</ul>{{/hasFacts}}
      <p>{{description}}</p>
      {{#hasMajor}}<p class="major">{{major}}</p>{{/hasMajor}}
      {{#hasOwner}}<p class="notice" id="owner">{{owner}}</p>{{/hasOwner}}
      {{#hasErased}}<p class="notice" id="erased">{{erased}}</p>{{/hasErased}}
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
      <table><thead><tr><th scope="col">层级</th><th scope="col">牵头人与参与</th><th scope="col">开始</th><th scope="col">期限</th><th scope="col">计日方式</th><th scope="col">结束与结果</th></tr></thead>
      <tbody>{{#rungs}}<tr{{#overdue}} class="overdue"{{/overdue}}><td data-label="层级">{{rung}}<br><span class="muted">{{kind}}</span></td>
      <td data-label="牵头人与参与">{{lead}}<br><span class="muted">{{participants}}</span></td><td data-label="开始">{{startedAt}}</td>
      <td data-label="期限" class="deadline">{{dueAt}}{{#overdue}} <span class="overdue-tag">已超期</span>{{/overdue}}</td><td data-label="计日方式" class="calendar">{{calendar}}</td>
      <td data-label="结束与结果" class="outcome">{{#open}}进行中{{/open}}{{endedAt}} {{outcome}}<br><span class="muted">{{outcomeNote}}</span></td></tr>{{/rungs}}</tbody></table>
      {{^rungs}}<p class="empty">尚未开始调解。</p>{{/rungs}}
      {{#forms}}
      {{#hasLadderHint}}<p class="hint">{{ladderHint}}</p>{{/hasLadderHint}}
      {{#endRungForm}}<form class="step" id="end-rung" method="post" action="/ui/cases/{{id}}/steps/end-rung" aria-labelledby="end-rung-title">
        <h3 id="end-rung-title">登记{{rung}}的结果</h3>
        {{#hasError}}<p class="error" role="alert">{{error}}</p>{{/hasError}}
        <input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="attempt_id" value="{{attemptID}}">
        <fieldset><legend>结果</legend>{{#outcomes}}<label><input type="radio" name="outcome" value="{{value}}" required{{#selected}} checked{{/selected}}> {{label}}</label> {{/outcomes}}</fieldset>
        <p><label for="end-note">情况说明</label><textarea id="end-note" name="note" required maxlength="2000" rows="3">{{note}}</textarea></p>
        <fieldset><legend>调解协议（结果为“调解成功，达成协议”时填写）</legend>
          <p><label for="agreement-terms">协议内容</label><textarea id="agreement-terms" name="terms" maxlength="4000" rows="3">{{terms}}</textarea></p>
          <p><label for="agreement-signed-on">签订日期</label><input id="agreement-signed-on" name="signed_on" type="date" value="{{signedOn}}"></p>
          <p><label for="agreement-signatories">签字人（用顿号或逗号分隔）</label><input id="agreement-signatories" name="signatories" maxlength="2000" value="{{signatories}}"></p>
        </fieldset>
        <p><button type="submit">登记结果</button></p>
      </form>{{/endRungForm}}
      {{#startRungForm}}<form class="step" id="start-rung" method="post" action="/ui/cases/{{id}}/steps/start-rung" aria-labelledby="start-rung-title">
        <h3 id="start-rung-title">开始调解</h3>
        {{#hasError}}<p class="error" role="alert">{{error}}</p>{{/hasError}}
        <input type="hidden" name="csrf" value="{{csrf}}">
        <p><label for="start-rung-select">调解层级</label><select id="start-rung-select" name="rung">{{#rungs}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/rungs}}</select></p>
        <p><label for="start-kind">调解类型（4+N）</label><select id="start-kind" name="kind">{{#kinds}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/kinds}}</select></p>
        <p><label for="start-lead">牵头人</label><input id="start-lead" name="lead" required maxlength="100" value="{{lead}}"></p>
        <p><label for="start-participants">参与人员（用顿号或逗号分隔）</label><input id="start-participants" name="participants" maxlength="4000" value="{{participants}}"></p>
        <p><label for="start-bodies">参与单位：站所、部门（用顿号或逗号分隔）</label><input id="start-bodies" name="bodies" maxlength="4000" value="{{bodies}}"></p>
        <p><label for="start-skip">跳级理由（跳过下一级时必填）</label><textarea id="start-skip" name="skip_reason" maxlength="2000" rows="2">{{skipReason}}</textarea></p>
        {{#hint}}<p class="muted">{{hint}}</p>{{/hint}}
        <p><button type="submit">开始调解</button></p>
      </form>{{/startRungForm}}
      {{/forms}}
    </section>
    <section id="summons" aria-labelledby="summons-title">
      <h2 id="summons-title">部门报到（中心吹哨、部门报到）</h2>
      {{#summons}}<p class="summons"><strong>{{department}}</strong> · 报到期限 {{reportBy}}{{#reported}} · 已报到 {{reportedAt}}{{/reported}} · 反馈期限 {{feedbackBy}}{{#hasFeedback}} · 已反馈 {{fedBackAt}}：{{feedback}}{{/hasFeedback}} <span class="muted">（{{calendar}}）</span></p>{{/summons}}
      {{^summons}}<p class="empty">未召集部门。</p>{{/summons}}
      {{#forms}}{{#summonForm}}<form class="step" id="summon" method="post" action="/ui/cases/{{id}}/steps/summon">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <fieldset><legend>召集部门（各部门须在期限内报到并反馈）</legend>
        {{#hasError}}<p class="error" role="alert">{{error}}</p>{{/hasError}}
        {{#departments}}<label><input type="checkbox" name="department_{{value}}"{{#selected}} checked{{/selected}}> {{label}}</label> {{/departments}}</fieldset>
        <p><button type="submit">吹哨召集</button></p>
      </form>{{/summonForm}}{{/forms}}
    </section>
    <section id="agreement"><h2>调解协议与回访</h2>
      {{#hasAgreement}}<p>{{agreement}}</p>{{/hasAgreement}}{{^hasAgreement}}<p class="empty">尚无调解协议。</p>{{/hasAgreement}}
      {{#hasReturnVisit}}<p class="return-visit">{{returnVisit}}</p>{{/hasReturnVisit}}
      {{#forms}}{{#returnVisitForm}}<form class="step" id="return-visit" method="post" action="/ui/cases/{{id}}/steps/return-visit" aria-labelledby="return-visit-title">
        <h3 id="return-visit-title">登记回访</h3>
        {{#hasError}}<p class="error" role="alert">{{error}}</p>{{/hasError}}
        <input type="hidden" name="csrf" value="{{csrf}}">
        <fieldset><legend>回访结果</legend>{{#outcomes}}<label><input type="radio" name="outcome" value="{{value}}" required{{#selected}} checked{{/selected}}> {{label}}</label> {{/outcomes}}</fieldset>
        <p><label for="visit-note">回访情况</label><textarea id="visit-note" name="note" required maxlength="2000" rows="3">{{note}}</textarea></p>
        <p><button type="submit">登记回访</button></p>
      </form>{{/returnVisitForm}}{{/forms}}
    </section>
    {{#forms}}{{#hasLevelForms}}<section id="steps" aria-labelledby="steps-title"><h2 id="steps-title">统筹与结案</h2>
      {{#reasoned}}<form class="step" id="{{step}}" method="post" action="/ui/cases/{{id}}/steps/{{step}}" aria-labelledby="{{step}}-title">
        <h3 id="{{step}}-title">{{title}}</h3><p class="muted">{{explain}}</p>
        {{#hasError}}<p class="error" role="alert">{{error}}</p>{{/hasError}}
        <input type="hidden" name="csrf" value="{{csrf}}">
        <p><label for="{{step}}-text">{{label}}</label><textarea id="{{step}}-text" name="text" required maxlength="2000" rows="2">{{text}}</textarea></p>
        <p><button type="submit">{{button}}</button></p>
      </form>{{/reasoned}}
      {{#majorForm}}<form class="step" id="major" method="post" action="/ui/cases/{{id}}/steps/major" aria-labelledby="major-title">
        <h3 id="major-title">按重大纠纷办理（1350工作法）</h3><p class="muted">一个重大纠纷，三个以上部门参与，五十名群众代表参与调处。</p>
        {{#hasError}}<p class="error" role="alert">{{error}}</p>{{/hasError}}
        <input type="hidden" name="csrf" value="{{csrf}}">
        <p><label for="major-departments">参与部门（至少 3 个，用顿号或逗号分隔）</label><input id="major-departments" name="departments" required maxlength="4000" value="{{departments}}"></p>
        <p><label for="major-representatives">群众代表人数（至少 50）</label><input id="major-representatives" name="representatives" required inputmode="numeric" maxlength="6" value="{{representatives}}"></p>
        <p><button type="submit">登记重大纠纷</button></p>
      </form>{{/majorForm}}
      {{#reclassifyForm}}<form class="step" id="reclassify" method="post" action="/ui/cases/{{id}}/steps/reclassify" aria-labelledby="reclassify-title">
        <h3 id="reclassify-title">更正纠纷类别</h3>
        {{#hasError}}<p class="error" role="alert">{{error}}</p>{{/hasError}}
        <input type="hidden" name="csrf" value="{{csrf}}">
        <p><label for="reclassify-category">纠纷类别</label><select id="reclassify-category" name="category">{{#categories}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/categories}}</select></p>
        <p><label for="reclassify-reason">更正理由</label><textarea id="reclassify-reason" name="reason" required maxlength="2000" rows="2">{{reason}}</textarea></p>
        <p><button type="submit">更正类别</button></p>
      </form>{{/reclassifyForm}}
    </section>{{/hasLevelForms}}{{/forms}}
    <section id="timeline" aria-labelledby="timeline-title"><h2 id="timeline-title">办理记录</h2>
      {{#timelinePaged}}<p><a href="/ui/cases/{{id}}#timeline">回到最新</a></p>{{/timelinePaged}}
      <ol>{{#timeline}}<li>{{at}} · <strong>{{kind}}</strong> · {{note}} <span class="muted">{{actor}}</span></li>{{/timeline}}</ol>
      {{#hasOlderTimeline}}<p><a rel="next" href="{{olderTimeline}}">更早</a></p>{{/hasOlderTimeline}}
    </section>
    {{/page}}
    """)

    /// What the template reads: the page, and the flags mustache cannot work out itself (it
    /// sees stored properties only).
    private struct Shown {
        let page: CasePage
        let hasNotice: Bool
        let hasMajor: Bool
        let hasOwner: Bool
        let hasErased: Bool
    }

    func render() -> String {
        Self.template.render(Shown(page: self, hasNotice: !notice.isEmpty, hasMajor: !major.isEmpty, hasOwner: !owner.isEmpty, hasErased: !erased.isEmpty))
    }
}
