/// The frame every page is drawn in: who is signed in, for which centre, and a way out.
/// Templates are mustache, so every value is HTML-escaped unless a template says otherwise
/// (`{{{content}}}`, the page's own rendered body, is the one place).
/// Compiles the templates written in this folder; one that does not parse is a bug the
/// first render test shows.
enum View {
    static func template(_ text: String) -> PageTemplate {
        do {
            return try PageTemplate(text)
        } catch {
            preconditionFailure("a dashboard template does not parse: \(error)")
        }
    }

    /// HTML-escapes text the templates do not: what goes into the SVG chart and error lines.
    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}

struct Frame {
    let title: String
    let user: String
    let centreName: String
    let csrf: String
    let content: String
    /// Whether the signed-in person administers accounts: the nav then offers ``AdminPage``.
    var administers = false
    /// Whether the signed-in person takes in cases: the nav then offers ``IntakePage``.
    var takesIn = false
    /// Whether the signed-in person reports from a grid: the nav then offers ``GridPage``.
    var reportsFromGrid = false
    /// Whether the signed-in person acts for a department: the nav then offers ``DepartmentPage``.
    var actsForDepartment = false
    var followsTopics = false

    static let template = View.template("""
    <!doctype html>
    <html lang="zh-CN">
    <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>{{title}} · 平安</title>
    <link rel="stylesheet" href="/ui/style.css">
    <link rel="icon" href="/favicon.ico" type="image/png">
    </head>
    <body>
    <header class="top">
      <a class="brand" href="/ui/">平安 · 社会治理中心</a>
      <span class="who">{{user}} · {{centreName}}</span>
      {{#takesIn}}<a class="nav" href="/ui/intake">一站式接待</a><a class="nav" href="/ui/triage">群众诉求分派</a>{{/takesIn}}
      {{#administers}}<a class="nav" href="/ui/admin">账号管理</a>{{/administers}}
      {{#reportsFromGrid}}<a class="nav" href="/ui/grid">网格上报</a>{{/reportsFromGrid}}
      {{#actsForDepartment}}<a class="nav" href="/ui/department">部门报到</a>{{/actsForDepartment}}
      {{#followsTopics}}<a class="nav" href="/ui/topics">风险专题</a>{{/followsTopics}}
      <form method="post" action="/ui/logout"><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit">退出</button></form>
    </header>
    <main>
    {{{content}}}
    </main>
    </body>
    </html>
    """)

    func render() -> String { Self.template.render(self) }

    static let stylesheet = """
    :root { --ink: #1d2733; --muted: #5b6776; --line: #d6dde5; --warn: #b3261e; --ok: #1b6e3c; --accent: #0b5cad; }
    * { box-sizing: border-box; }
    body { margin: 0; font: 16px/1.5 "Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", system-ui, sans-serif; color: var(--ink); background: #f6f8fa; }
    header.top { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: center; padding: .6rem 1rem; background: #12355b; color: #fff; }
    header.top a.brand { color: #fff; font-weight: 700; text-decoration: none; }
    header.top .who { flex: 1; }
    header.top a.nav { color: #fff; }
    main { max-width: 72rem; margin: 0 auto; padding: 1rem; }
    a { color: var(--accent); }
    a:focus, button:focus, input:focus { outline: 3px solid #f2b705; outline-offset: 2px; }
    nav.trail { margin: .25rem 0 1rem; }
    section { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: .75rem 1rem; margin-bottom: 1rem; }
    h1 { font-size: 1.5rem; margin: .25rem 0; } h2 { font-size: 1.15rem; margin: .25rem 0 .5rem; }
    table { width: 100%; border-collapse: collapse; } th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
    td.nowrap { white-space: nowrap; } tr.overdue td { background: #fdecea; } .overdue-tag { color: var(--warn); font-weight: 700; }
    article.warning { border-left: 4px solid var(--warn); padding: .4rem .75rem; margin: .5rem 0; background: #fffafa; }
    article.warning.done { border-left-color: var(--ok); background: #f7fbf8; }
    article.warning h3 { margin: 0; font-size: 1rem; }
    .muted, .empty { color: var(--muted); }
    button { font: inherit; padding: .35rem .9rem; border-radius: 4px; border: 1px solid #0b4a8a; background: var(--accent); color: #fff; cursor: pointer; }
    header.top button { background: transparent; border-color: #fff; }
    ul.children { display: flex; flex-wrap: wrap; gap: .25rem 1rem; padding-left: 1.2rem; }
    form.login { max-width: 22rem; margin: 3rem auto; background: #fff; padding: 1.5rem; border: 1px solid var(--line); border-radius: 6px; }
    form.login label { display: block; margin: .5rem 0 .2rem; } form.login input { width: 100%; padding: .45rem; font: inherit; }
    .error { color: var(--warn); font-weight: 700; }
    svg { max-width: 100%; height: auto; }
    @media (max-width: 40rem) {
      table thead { display: none; } table tr { display: block; border-bottom: 1px solid var(--line); padding: .3rem 0; }
      table td { display: block; border: 0; padding: .1rem 0; }
      table td[data-label]::before { content: attr(data-label) "："; color: var(--muted); }
    }
    form.grid-form label, form.grid-form legend { display: block; font-weight: 600; margin: .6rem 0 .2rem; }
    form.grid-form input, form.grid-form select, form.grid-form textarea { width: 100%; min-height: 44px; padding: .5rem; font: inherit; }
    form.grid-form label.check { display: flex; gap: .6rem; align-items: center; min-height: 44px; font-weight: 400; margin: 0; }
    form.grid-form label.check input { width: 1.6rem; min-height: 1.6rem; flex: none; }
    form.grid-form fieldset { border: 1px solid var(--line); border-radius: 6px; margin: .6rem 0; padding: .3rem .75rem .6rem; }
    form.grid-form button { width: 100%; min-height: 48px; font-size: 1.1rem; margin-top: .6rem; }
    select:focus, textarea:focus, summary:focus { outline: 3px solid #f2b705; outline-offset: 2px; }
    nav.tabs { display: flex; gap: .5rem; } nav.tabs a { flex: 1; text-align: center; padding: .7rem .5rem; border: 1px solid var(--line); border-radius: 6px; background: #fff; }
    .notice { color: var(--ok); font-weight: 700; } p.hint { color: var(--muted); font-size: .9rem; margin: .2rem 0; } code.id { word-break: break-all; }
    .visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
    article.action, article.summons { border-left: 4px solid var(--accent); padding: .4rem .75rem; margin: .5rem 0; background: #fff; }
    article.action.done, article.summons.done { border-left-color: var(--ok); background: #f7fbf8; }
    article.action h3, article.summons h3 { margin: 0; font-size: 1rem; } dl.deadlines { display: grid; grid-template-columns: auto 1fr; gap: .1rem .75rem; margin: .3rem 0; } dl.deadlines dd { margin: 0; }
    article.action textarea, article.summons textarea, #freeze textarea { width: 100%; font: inherit; padding: .4rem; }
    form.step { border-top: 1px solid var(--line); margin-top: .75rem; padding-top: .5rem; }
    form.step h3 { font-size: 1rem; margin: .25rem 0; } form.step label { display: inline-block; margin: .2rem 0; }
    form.step p > label { display: block; } form.step input:not([type=checkbox]):not([type=radio]), form.step select, form.step textarea { width: 100%; max-width: 36rem; padding: .4rem; font: inherit; }
    form.step fieldset { border: 1px solid var(--line); border-radius: 6px; margin: .5rem 0; } form.step fieldset label { margin-right: 1rem; }
    .visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
    """
}
