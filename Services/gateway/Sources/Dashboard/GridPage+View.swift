import Foundation
import PinganContracts
import PinganDomain

extension GridPage {
    /// A grid in the select, chosen or not.
    struct GridOption { let id: String, label: String, selected: Bool }
    /// A category in the select, chosen or not.
    struct CategoryOption { let value: Int, label: String, selected: Bool }
    /// A party row of the report form, numbered from 1, with what was typed in it.
    struct PartyRow { let row: Int, name: String, phone: String, minor: Bool }

    /// The grid and member fields both forms carry. Folded away once the phone remembers them,
    /// so a worker's thumb meets the report first; open when they are new or were refused.
    static let identityFields = """
    <details class="identity"{{#identityOpen}} open{{/identityOpen}}>
      <summary>{{#remembered}}网格：{{identityLabel}}（点此更改）{{/remembered}}{{^remembered}}我的网格与成员编号{{/remembered}}</summary>
      <label for="grid">网格</label>
      <select id="grid" name="grid" required>
        <option value="">请选择网格</option>
        {{#grids}}<option value="{{id}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/grids}}
      </select>
      <label for="member">我的成员编号</label>
      <input id="member" name="member" value="{{member}}" required autocomplete="off" autocapitalize="off" spellcheck="false" aria-describedby="member-hint">
      <p class="hint" id="member-hint">36 位编号，由中心管理员在将您加入网格时提供；提交成功后本机会记住。</p>
    </details>
    """

    /// The report page: the form, drawn blank or as typed when refused, with the refusal above it.
    struct ReportView {
        let grids: [GridOption], hasGrids: Bool
        let member: String, remembered: Bool, identityLabel: String, identityOpen: Bool
        let categories: [CategoryOption]
        let description: String
        let parties: [PartyRow]
        let threatOfViolence: Bool, threatOfSelfHarm: Bool, repeatIncident: Bool, priorPoliceCalls: String
        let requestID: String, csrf: String
        let refusal: String, hasRefusal: Bool
        /// Whether the person may list cases: the page then points to the centre's day's work.
        let seesCases: Bool
        /// 我的上报: the person's own reports, when they may list them.
        let offersMine: Bool, mine: [MyReports.Row], hasMine: Bool, mineUnavailable: Bool

        static let template = View.template("""
        <nav class="tabs" aria-label="网格工作"><a href="/ui/grid" aria-current="page">上报事件</a><a href="/ui/grid/screening">今日排查</a></nav>
        <h1>上报矛盾纠纷</h1>
        <section id="report" aria-labelledby="report-title">
          <h2 id="report-title" class="muted">谁发现、谁上报：写下看到的，中心据此立案</h2>
          {{#hasRefusal}}<p class="error" role="alert" id="report-error">{{refusal}}</p>{{/hasRefusal}}
          {{^hasGrids}}<p class="error">您的辖区内还没有网格，请联系中心管理员建立网格并把您加入。</p>{{/hasGrids}}
          <form class="grid-form" method="post" action="/ui/grid/report"{{#hasRefusal}} aria-describedby="report-error"{{/hasRefusal}}>
            <input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="request_id" value="{{requestID}}">
            \(identityFields)
            <label for="category">纠纷类别</label>
            <select id="category" name="category" required>
              <option value="">请选择类别</option>
              {{#categories}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/categories}}
            </select>
            <label for="description">事情经过</label>
            <textarea id="description" name="description" rows="5" maxlength="2000" required>{{description}}</textarea>
            <fieldset id="parties"><legend>当事人（至少一人）</legend>
              {{#parties}}<fieldset class="party"><legend>当事人 {{row}}</legend>
                <label for="party{{row}}-name">当事人 {{row}} 姓名</label><input id="party{{row}}-name" name="party{{row}}_name" value="{{name}}" maxlength="50" autocomplete="off">
                <label for="party{{row}}-phone">当事人 {{row}} 电话（可不填）</label><input id="party{{row}}-phone" name="party{{row}}_phone" value="{{phone}}" type="tel" inputmode="tel" maxlength="20" autocomplete="off">
                <label class="check"><input type="checkbox" name="party{{row}}_minor"{{#minor}} checked{{/minor}}> 当事人 {{row}} 是未成年人</label>
              </fieldset>{{/parties}}
              <p class="hint">当事人超过三人的，请在事情经过中写明，或请中心受理。</p>
            </fieldset>
            <fieldset id="flags"><legend>风险情况</legend>
              <label class="check"><input type="checkbox" name="threat_of_violence"{{#threatOfViolence}} checked{{/threatOfViolence}}> 有暴力威胁</label>
              <label class="check"><input type="checkbox" name="threat_of_self_harm"{{#threatOfSelfHarm}} checked{{/threatOfSelfHarm}}> 有人扬言自伤、轻生</label>
              <label class="check"><input type="checkbox" name="repeat_incident"{{#repeatIncident}} checked{{/repeatIncident}}> 反复发生（不是第一次）</label>
              <label for="police">此前报警次数</label>
              <input id="police" name="prior_police_calls" value="{{priorPoliceCalls}}" type="number" inputmode="numeric" min="0" max="100" placeholder="0">
            </fieldset>
            <button type="submit">提交上报</button>
          </form>
        </section>
        <section id="after" aria-labelledby="after-title">
          <h2 id="after-title">上报之后</h2>
          <p>提交后会得到一个事件编号。纠纷服务据此立案（同一批当事人已有案件的，并入该案件），风险模型随即评估，必要时向村（社区）和乡镇（街道）中心预警。</p>
          {{#seesCases}}<p>案件的办理情况见 <a href="/ui/">今日工作</a>。</p>{{/seesCases}}
          {{^seesCases}}{{#offersMine}}<p>按权限，网格员账号不能查看案件详情；您上报的事件办理到哪一步，见下方“我的上报”。</p>{{/offersMine}}{{^offersMine}}<p>按权限，网格员账号不能查看案件；需要了解办理进展的，请凭事件编号询问本乡镇（街道）综治中心。</p>{{/offersMine}}{{/seesCases}}
        </section>
        {{#offersMine}}<section id="mine" aria-labelledby="mine-title">
          <h2 id="mine-title">我的上报</h2>
          {{#mineUnavailable}}<p class="error">暂时无法读取您上报的事件，请稍后刷新。</p>{{/mineUnavailable}}
          {{^mineUnavailable}}{{^hasMine}}<p class="muted">您还没有上报过事件（上报后，纠纷服务立案或并入案件，即在此显示）。</p>{{/hasMine}}{{/mineUnavailable}}
          {{#hasMine}}<p class="hint">最近 \(GridPage.listedReports) 起，新的在前；不显示当事人。</p>
          <ol class="mine">
            {{#mine}}<li><dl>
              <dt>上报时间</dt><dd>{{reportedAt}}</dd>
              <dt>类别</dt><dd>{{category}}纠纷</dd>
              <dt>处理</dt><dd>{{outcome}}</dd>
              <dt>当前层级</dt><dd>{{rung}}</dd>
              <dt>状态</dt><dd>{{status}}</dd>
              <dt>承办中心</dt><dd>{{centre}}</dd>
            </dl></li>{{/mine}}
          </ol>{{/hasMine}}
        </section>{{/offersMine}}
        """)

        func render() -> String { Self.template.render(self) }
    }

    /// The screening page: today's screening, "nothing found" one tap away.
    struct ScreeningView {
        let grids: [GridOption], hasGrids: Bool
        let member: String, remembered: Bool, identityLabel: String, identityOpen: Bool
        let day: String, earliest: String, today: String
        let households: String, disputes: String
        let csrf: String
        let refusal: String, hasRefusal: Bool
        let notice: String, hasNotice: Bool

        static let template = View.template("""
        <nav class="tabs" aria-label="网格工作"><a href="/ui/grid">上报事件</a><a href="/ui/grid/screening" aria-current="page">今日排查</a></nav>
        <h1>每日信息排查</h1>
        {{#hasNotice}}<p class="notice" role="status" id="screening-done">{{notice}}</p>{{/hasNotice}}
        <section id="screening" aria-labelledby="screening-title">
          <h2 id="screening-title" class="muted">每天一条：没有发现纠纷也要记录</h2>
          {{#hasRefusal}}<p class="error" role="alert" id="screening-error">{{refusal}}</p>{{/hasRefusal}}
          {{^hasGrids}}<p class="error">您的辖区内还没有网格，请联系中心管理员建立网格并把您加入。</p>{{/hasGrids}}
          <form class="grid-form" method="post" action="/ui/grid/screening"{{#hasRefusal}} aria-describedby="screening-error"{{/hasRefusal}}>
            <input type="hidden" name="csrf" value="{{csrf}}">
            \(identityFields)
            <label for="day">排查日期</label>
            <input id="day" name="day" type="date" value="{{day}}" min="{{earliest}}" max="{{today}}" required>
            <label for="households">今日走访户数</label>
            <input id="households" name="households" value="{{households}}" type="number" inputmode="numeric" min="0" max="10000" placeholder="0">
            <button type="submit" name="result" value="none">未发现矛盾纠纷，提交</button>
            <label for="disputes">发现矛盾纠纷（起）</label>
            <input id="disputes" name="disputes" value="{{disputes}}" type="number" inputmode="numeric" min="0" max="1000">
            <button type="submit" name="result" value="count">按发现的起数提交</button>
            <p class="hint">发现的纠纷请另在“上报事件”中逐起上报。同一天再次提交会更正当天的记录。</p>
          </form>
        </section>
        """)

        func render() -> String { Self.template.render(self) }
    }

    /// What a taken report says: its number, what was sent, and who takes it from here.
    struct Receipt {
        let id: String
        let grid: String
        let category: String
        let description: String
        let partyCount: Int32
        let facts: [String], hasFacts: Bool
        let reportedAt: String
        let seesCases: Bool

        static let template = View.template("""
        <nav class="tabs" aria-label="网格工作"><a href="/ui/grid">上报事件</a><a href="/ui/grid/screening">今日排查</a></nav>
        <h1>已上报</h1>
        <section id="receipt" aria-labelledby="receipt-title">
          <h2 id="receipt-title" role="status">上报成功，事件编号 <code class="id">{{id}}</code></h2>
          <dl>
            <dt>网格</dt><dd>{{grid}}</dd>
            <dt>类别</dt><dd>{{category}}纠纷</dd>
            <dt>当事人</dt><dd>{{partyCount}} 人</dd>
            <dt>风险情况</dt><dd>{{#hasFacts}}{{#facts}}<strong class="fact">{{.}}</strong> {{/facts}}{{/hasFacts}}{{^hasFacts}}未报告风险情况{{/hasFacts}}</dd>
            <dt>上报时间</dt><dd>{{reportedAt}}</dd>
            <dt>事情经过</dt><dd>{{description}}</dd>
          </dl>
        </section>
        <section id="next" aria-labelledby="next-title">
          <h2 id="next-title">接下来</h2>
          <p>纠纷服务据此立案（同一批当事人已有案件的，并入该案件），风险模型随即评估；风险高的，村（社区）和乡镇（街道）中心会收到预警。</p>
          {{#seesCases}}<p>立案后可在 <a href="/ui/">今日工作</a> 的案件中查看。</p>{{/seesCases}}
          {{^seesCases}}<p>按权限，网格员账号不能查看案件详情；立案或并入案件后，办理到哪一步见 <a href="/ui/grid#mine">我的上报</a>。</p>{{/seesCases}}
          <p><a href="/ui/grid">再报一起</a> · <a href="/ui/grid/screening">记录今日排查</a></p>
        </section>
        """)

        func render() -> String { Self.template.render(self) }
    }
}

extension GridPage.ReportView {
    /// The page for `form` as typed (or blank), the grids to choose from, and a refusal if any.
    init(form: ReportForm, grids: [GridPage.Choice], remembered: GridIdentity?, refusal: String?, seesCases: Bool, csrf: String,
         mine: GridPage.MyReports = .notOffered) {
        let identity = GridPage.IdentityShown(grid: form.grid, member: form.member, grids: grids, remembered: remembered, refused: refusal != nil)
        self.init(
            grids: identity.options, hasGrids: !grids.isEmpty, member: form.member, remembered: identity.remembered,
            identityLabel: identity.label, identityOpen: identity.open,
            categories: GridLabels.categories.map { category in
                GridPage.CategoryOption(value: category.rawValue, label: Labels.category(category), selected: form.category == String(category.rawValue))
            },
            description: form.description,
            parties: form.parties.enumerated().map { GridPage.PartyRow(row: $0.offset + 1, name: $0.element.name, phone: $0.element.phone, minor: $0.element.minor) },
            threatOfViolence: form.threatOfViolence, threatOfSelfHarm: form.threatOfSelfHarm, repeatIncident: form.repeatIncident,
            priorPoliceCalls: form.priorPoliceCalls, requestID: form.requestID, csrf: csrf,
            refusal: refusal ?? "", hasRefusal: refusal != nil, seesCases: seesCases,
            offersMine: mine.offered, mine: mine.rows ?? [], hasMine: !(mine.rows ?? []).isEmpty, mineUnavailable: mine.offered && mine.rows == nil
        )
    }
}

extension GridPage.ScreeningView {
    init(form: ScreeningForm, grids: [GridPage.Choice], remembered: GridIdentity?, today: Day, refusal: String?, notice: String?, csrf: String) {
        let identity = GridPage.IdentityShown(grid: form.grid, member: form.member, grids: grids, remembered: remembered, refused: refusal != nil)
        self.init(
            grids: identity.options, hasGrids: !grids.isEmpty, member: form.member, remembered: identity.remembered,
            identityLabel: identity.label, identityOpen: identity.open,
            day: form.day, earliest: today.adding(days: -7).description, today: today.description,
            households: form.households, disputes: form.disputes, csrf: csrf,
            refusal: refusal ?? "", hasRefusal: refusal != nil, notice: notice ?? "", hasNotice: notice != nil
        )
    }
}

extension GridPage {
    /// The grid and member fields as a form shows them: the chosen grid selected, and folded
    /// when they are what the phone remembers and nothing was refused.
    struct IdentityShown {
        let options: [GridOption]
        let remembered: Bool
        let label: String
        let open: Bool

        init(grid: String, member: String, grids: [Choice], remembered identity: GridIdentity?, refused: Bool) {
            options = grids.map { GridOption(id: $0.id, label: $0.label, selected: $0.id == grid) }
            let chosen = grids.first { $0.id == grid }
            remembered = identity == GridIdentity(grid: grid, member: member) && chosen != nil
            label = "\(chosen?.label ?? "") · 成员编号尾号 \(member.suffix(4))"
            open = !remembered || refused
        }
    }
}
