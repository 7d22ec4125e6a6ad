extension IndexWorkbench {
    static let template = View.template("""
    {{#hasNotice}}<p class="notice" role="status">{{notice}}</p>{{/hasNotice}}
    <section id="actions" aria-labelledby="actions-title">
      <h2 id="actions-title">指数调度行动</h2>
      <p class="muted">按本中心的调度规则，定稿时为每个单位生成：经验交流、提醒谈话或约谈。待办的行动一直列在这里，直至办结。</p>
      {{#actions}}<article class="action{{^open}} done{{/open}}" data-action="{{id}}">
        <h3>{{unit}} · {{month}} · {{kind}}</h3>
        <p>得分 {{score}} · 负责人：{{owner}} · 期限 {{due}}{{#overdue}} <span class="overdue-tag">已逾期</span>{{/overdue}} · <span class="status">{{status}}</span></p>
        {{#hasOutcome}}<p class="outcome">办理情况：{{outcome}}（{{doneBy}}，{{doneAt}}）</p>{{/hasOutcome}}
        {{#open}}{{#mayComplete}}<form method="post" action="/ui/index/actions/{{id}}/complete"><input type="hidden" name="csrf" value="{{csrf}}">
          <input type="hidden" name="centre" value="{{centre}}"><input type="hidden" name="month" value="{{pageMonth}}">
          {{#hasError}}<p class="error" role="alert" id="action-error-{{id}}">{{error}}</p>{{/hasError}}
          <p><label for="note-{{id}}">办理情况</label><br><textarea id="note-{{id}}" name="outcome" rows="2" maxlength="500" required{{#hasError}} aria-describedby="action-error-{{id}}"{{/hasError}}>{{note}}</textarea></p>
          <p><button type="submit" aria-label="办结：{{unit}} {{kind}}">办结</button></p>
        </form>{{/mayComplete}}{{/open}}
      </article>{{/actions}}
      {{^actions}}<p class="empty">没有待办的调度行动；{{pageMonth}} 也没有已生成的行动。</p>{{/actions}}
    </section>
    <section id="rule" aria-labelledby="rule-title">
      <h2 id="rule-title">本中心的调度规则{{#isDefault}}（默认规则）{{/isDefault}}</h2>
      {{#hasRuleError}}<p class="error" role="alert" id="rule-error">{{ruleError}}</p>{{/hasRuleError}}
      {{#maySetRule}}<form method="post" action="/ui/index/rule"><input type="hidden" name="csrf" value="{{csrf}}">
        <input type="hidden" name="centre" value="{{centre}}"><input type="hidden" name="month" value="{{pageMonth}}">
      {{/maySetRule}}
      <table>
      <thead><tr><th scope="col">行动</th><th scope="col">分数线</th><th scope="col">办理期限（天）</th><th scope="col">负责人</th></tr></thead>
      <tbody>
      {{#rule}}
      <tr><td data-label="行动">经验交流</td>
        <td data-label="分数线">{{#maySetRule}}<label for="share-at">不低于</label> <input id="share-at" name="share_at" value="{{shareAt}}" inputmode="decimal" size="5" required>{{/maySetRule}}{{^maySetRule}}{{shareAt}} 分及以上{{/maySetRule}}</td>
        <td data-label="期限">{{#maySetRule}}<label for="share-days" class="visually-hidden">经验交流期限</label><input id="share-days" name="share_days" value="{{shareDays}}" inputmode="numeric" size="4" required>{{/maySetRule}}{{^maySetRule}}{{shareDays}}{{/maySetRule}}</td>
        <td data-label="负责人">{{#maySetRule}}<label for="share-owner" class="visually-hidden">经验交流负责人</label><input id="share-owner" name="share_owner" value="{{shareOwner}}" maxlength="50" required>{{/maySetRule}}{{^maySetRule}}{{shareOwner}}{{/maySetRule}}</td></tr>
      <tr><td data-label="行动">提醒谈话</td>
        <td data-label="分数线">{{#maySetRule}}<label for="remind-below">低于</label> <input id="remind-below" name="remind_below" value="{{remindBelow}}" inputmode="decimal" size="5" required>{{/maySetRule}}{{^maySetRule}}低于 {{remindBelow}} 分{{/maySetRule}}</td>
        <td data-label="期限">{{#maySetRule}}<label for="remind-days" class="visually-hidden">提醒谈话期限</label><input id="remind-days" name="remind_days" value="{{remindDays}}" inputmode="numeric" size="4" required>{{/maySetRule}}{{^maySetRule}}{{remindDays}}{{/maySetRule}}</td>
        <td data-label="负责人">{{#maySetRule}}<label for="remind-owner" class="visually-hidden">提醒谈话负责人</label><input id="remind-owner" name="remind_owner" value="{{remindOwner}}" maxlength="50" required>{{/maySetRule}}{{^maySetRule}}{{remindOwner}}{{/maySetRule}}</td></tr>
      <tr><td data-label="行动">约谈</td>
        <td data-label="分数线">{{#maySetRule}}<label for="summon-below">低于</label> <input id="summon-below" name="summon_below" value="{{summonBelow}}" inputmode="decimal" size="5" required>{{/maySetRule}}{{^maySetRule}}低于 {{summonBelow}} 分{{/maySetRule}}</td>
        <td data-label="期限">{{#maySetRule}}<label for="summon-days" class="visually-hidden">约谈期限</label><input id="summon-days" name="summon_days" value="{{summonDays}}" inputmode="numeric" size="4" required>{{/maySetRule}}{{^maySetRule}}{{summonDays}}{{/maySetRule}}</td>
        <td data-label="负责人">{{#maySetRule}}<label for="summon-owner" class="visually-hidden">约谈负责人</label><input id="summon-owner" name="summon_owner" value="{{summonOwner}}" maxlength="50" required>{{/maySetRule}}{{^maySetRule}}{{summonOwner}}{{/maySetRule}}</td></tr>
      {{/rule}}
      </tbody>
      </table>
      {{#maySetRule}}<p><button type="submit">保存调度规则</button></p></form>{{/maySetRule}}
    </section>
    {{#freeze}}<section id="freeze" aria-labelledby="freeze-title">
      <h2 id="freeze-title">计算与定稿</h2>
      <p>{{explanation}}</p>
      {{#hasFreezeError}}<p class="error" role="alert" id="freeze-error">{{freezeError}}</p>{{/hasFreezeError}}
      <form method="post" action="/ui/index/freeze"><input type="hidden" name="csrf" value="{{csrf}}">
        <input type="hidden" name="centre" value="{{centre}}"><input type="hidden" name="month" value="{{pageMonth}}">
        {{#needsReason}}<p><label for="freeze-reason">重新计算的理由</label><br><textarea id="freeze-reason" name="reason" rows="2" maxlength="500" required>{{reason}}</textarea></p>{{/needsReason}}
        <p><button type="submit">{{label}}</button></p>
      </form>
    </section>{{/freeze}}
    """)

    /// The workbench as the template reads it: mustache sees stored properties only, so every
    /// flag a section tests is worked out here.
    private struct Shown {
        let centre: String, pageMonth: String, csrf: String
        let actions: [ActionRow], mayComplete: Bool
        let rule: RuleForm, isDefault: Bool, maySetRule: Bool, ruleError: String, hasRuleError: Bool
        let freeze: Freeze?, reason: String, freezeError: String, hasFreezeError: Bool
        let notice: String, hasNotice: Bool
    }

    func render(reason: String = "") -> String {
        func error(_ form: String) -> String { refusal?.form == form ? refusal?.message ?? "" : "" }
        let rows = actions.map { row in
            var row = row
            let message = error("action:\(row.id)")
            row.error = message
            row.hasError = !message.isEmpty
            return row
        }
        return Self.template.render(Shown(
            centre: centre, pageMonth: month, csrf: csrf, actions: rows, mayComplete: mayComplete,
            rule: rule, isDefault: rule.isDefault, maySetRule: maySetRule, ruleError: error("rule"), hasRuleError: !error("rule").isEmpty,
            freeze: freeze, reason: reason, freezeError: error("freeze"), hasFreezeError: !error("freeze").isEmpty,
            notice: notice, hasNotice: !notice.isEmpty
        ))
    }
}
