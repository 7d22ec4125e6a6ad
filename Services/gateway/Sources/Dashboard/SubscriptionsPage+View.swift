extension SubscriptionsPage {
    static let template = View.template("""
    <nav class="trail" aria-label="返回"><a href="/ui/">今日工作</a> › <a href="/ui/admin">账号管理</a> › 推送订阅</nav>
    <h1>推送订阅</h1>
    <p class="muted">本中心及下级中心的预警和案件提醒推送到哪里：部门系统的 Webhook、企业微信群机器人、短信或电子邮件。上级中心的订阅也收到下级的推送。添加后可发送一条测试推送，确认能够收到；接收方停机或调整时可暂停推送，推送不会丢失。</p>
    {{#hasNotice}}<p class="notice" role="status">{{notice}}</p>{{/hasNotice}}
    <section id="subscriptions" aria-labelledby="subscriptions-title">
      <h2 id="subscriptions-title">订阅（{{centre}} 及下级）</h2>
      {{#hasListError}}<p class="error" role="alert" id="list-error">{{listError}}</p>{{/hasListError}}
      {{#rows}}<article class="subscription" data-subscription="{{id}}">
        <h3>{{channel}} · <span class="muted">{{centre}}</span></h3>
        <p><code class="id">{{target}}</code></p>
        <p>推送类型：{{eventsShown}}{{#hasMinScore}} · 风险分 {{minScore}} 分以上的预警{{/hasMinScore}}</p>
        {{#hasTest}}<p class="{{#testDelivered}}notice{{/testDelivered}}{{^testDelivered}}error{{/testDelivered}}" role="status" id="test-{{id}}">{{test}}</p>{{/hasTest}}
        {{#paused}}<p class="error" id="paused-{{id}}">已暂停推送（{{pausedSince}} 起）：新的推送排队等待，恢复后送出。预警的签收时限照常计算，逾期未签收仍会升级并推送给上级中心。</p>{{/paused}}
        {{#hasError}}<p class="error" role="alert" id="error-{{id}}">{{error}}</p>{{/hasError}}
        {{^paused}}<form class="inline" method="post" action="/ui/admin/subscriptions/{{id}}/test"><input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="page_centre" value="{{pageCentre}}">
          <button type="submit" aria-label="发送测试推送：{{channel}} {{target}}">发送测试推送</button></form>
        <form class="inline" method="post" action="/ui/admin/subscriptions/{{id}}/pause"><input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="page_centre" value="{{pageCentre}}">
          <button type="submit" aria-label="暂停推送：{{channel}} {{target}}">暂停推送</button></form>{{/paused}}
        {{#paused}}<form class="inline" method="post" action="/ui/admin/subscriptions/{{id}}/resume"><input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="page_centre" value="{{pageCentre}}">
          <button type="submit" aria-label="恢复推送：{{channel}} {{target}}">恢复推送</button></form>{{/paused}}
        <form class="inline" method="post" action="/ui/admin/subscriptions/{{id}}/unsubscribe"><input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="page_centre" value="{{pageCentre}}">
          <button type="submit" aria-label="退订：{{channel}} {{target}}">退订</button></form>
        <details><summary>更改推送类型</summary>
        <form method="post" action="/ui/admin/subscriptions/{{id}}/events"><input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="page_centre" value="{{pageCentre}}">
          {{#categories}}<input type="hidden" name="category_{{.}}" value="{{.}}">{{/categories}}
          <fieldset><legend>推送类型（不选则全部）</legend>{{#events}}<label><input type="checkbox" name="event_{{value}}"{{#checked}} checked{{/checked}}> {{label}}</label> {{/events}}</fieldset>
          <p><label for="min-score-{{id}}">只推送风险分不低于</label> <input id="min-score-{{id}}" name="min_score" type="number" min="0" max="100" value="{{minScore}}"> 分的预警（提醒不受此限）</p>
          <p><button type="submit">保存推送类型</button></p>
        </form></details>
        {{#isWebhook}}<details><summary>更换签名密钥</summary>
        <form method="post" action="/ui/admin/subscriptions/{{id}}/secret"><input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="page_centre" value="{{pageCentre}}">
          <p><label for="secret-{{id}}">新签名密钥</label> <input id="secret-{{id}}" name="secret" type="password" autocomplete="new-password" minlength="16" required></p>
          <p><label for="overlap-{{id}}">过渡期（新旧密钥同时签名）</label> <select id="overlap-{{id}}" name="overlap"><option value="3600">1 小时</option><option value="0" selected>1 天</option><option value="604800">7 天</option></select></p>
          <p><button type="submit">更换密钥</button></p>
        </form></details>{{/isWebhook}}
      </article>{{/rows}}
      {{^rows}}<p class="empty">还没有订阅。</p>{{/rows}}
      {{#more}}<p class="muted">只列出最新的 {{listed}} 个订阅；其余请用 NotifyService/ListSubscriptions 分页查看。</p>{{/more}}
    </section>
    <section id="subscribe" aria-labelledby="subscribe-title">
      <h2 id="subscribe-title">添加订阅</h2>
      {{#hasSubscribeError}}<p class="error" role="alert" id="subscribe-error">{{subscribeError}}</p>{{/hasSubscribeError}}
      <form method="post" action="/ui/admin/subscriptions"><input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="page_centre" value="{{pageCentre}}">
        <fieldset><legend>推送渠道</legend>{{#channels}}<label><input type="radio" name="channel" value="{{value}}"{{#checked}} checked{{/checked}}> {{label}}</label> {{/channels}}</fieldset>
        <p><label for="sub-centre">中心代码</label> <input id="sub-centre" name="centre" required value="{{typed.centre}}" inputmode="numeric" maxlength="12"></p>
        <p class="hint">本中心或下级中心的代码。独立部署平台的县（市、区）中心管理员还可填上级市中心的代码（如 430700000000），把本平台的提级等推送直接送到市中心值班室，与市平台的连接中断时也能送达。</p>
        <p><label for="sub-url">接收地址（URL）</label> <input id="sub-url" name="url" type="url" maxlength="2000" value="{{typed.url}}" autocomplete="off"></p>
        <p class="hint">Webhook 填部门系统的接收地址；企业微信填群机器人的 Webhook 地址；短信填短信网关地址；电子邮件不填。</p>
        <p><label for="sub-secret">签名密钥（仅 Webhook）</label> <input id="sub-secret" name="secret" type="password" autocomplete="new-password"></p>
        <p class="hint">whsec_ 加 base64，或 16 至 200 字节的文本；交给接收方验证签名。出于安全，表单被退回时密钥不回显，请重新填写。</p>
        <p><label for="sub-phone">手机号（仅短信）</label> <input id="sub-phone" name="phone" inputmode="tel" maxlength="20" value="{{typed.phone}}"></p>
        <p><label for="sub-email">电子邮箱（仅电子邮件）</label> <input id="sub-email" name="email" type="email" maxlength="254" value="{{typed.email}}"></p>
        <fieldset><legend>推送类型（不选则全部）</legend>{{#events}}<label><input type="checkbox" name="event_{{value}}"{{#checked}} checked{{/checked}}> {{label}}</label> {{/events}}</fieldset>
        <p><label for="sub-min-score">只推送风险分不低于</label> <input id="sub-min-score" name="min_score" type="number" min="0" max="100" value="{{typed.minScore}}"> 分的预警</p>
        <p><button type="submit">添加订阅</button></p>
      </form>
    </section>
    """)

    /// The page as the template reads it: mustache sees stored properties only.
    private struct Shown {
        /// How many subscriptions the page reads (``SubscriptionsPage/listed``).
        let listed = SubscriptionsPage.listed
        let centre: String, pageCentre: String, csrf: String
        let rows: [Row], more: Bool
        let typed: Typed
        let channels: [ChannelOption], events: [EventOption]
        let notice: String, hasNotice: Bool
        let subscribeError: String, hasSubscribeError: Bool
        let listError: String, hasListError: Bool
    }

    func render() -> String {
        let rows = rows.map { row in
            var row = row
            if let refusal, refusal.form == row.id {
                row.error = refusal.message
                row.hasError = true
            }
            return row
        }
        let subscribeError = refusal?.form == "subscribe" ? refusal?.message ?? "" : ""
        // A refusal about a subscription the page no longer lists (unsubscribed meanwhile,
        // or never in the subtree) is said above the list.
        let unlisted = refusal.map { refusal in refusal.form != "subscribe" && !rows.contains { $0.id == refusal.form } } ?? false
        let listError = unlisted ? refusal?.message ?? "" : ""
        return Self.template.render(Shown(
            centre: centre, pageCentre: centre, csrf: csrf, rows: rows, more: more, typed: typed,
            channels: SubscriptionWords.channels.map { ChannelOption(value: $0.value, label: $0.label, checked: $0.value == typed.channel) },
            events: Self.eventTypes.map { EventOption(value: $0, label: SubscriptionWords.event($0), checked: typed.events.contains($0)) },
            notice: notice, hasNotice: !notice.isEmpty, subscribeError: subscribeError, hasSubscribeError: !subscribeError.isEmpty,
            listError: listError, hasListError: !listError.isEmpty
        ))
    }
}
