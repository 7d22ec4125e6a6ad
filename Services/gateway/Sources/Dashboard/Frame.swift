import Mustache

/// The frame every page is drawn in: who is signed in, for which centre, and a way out.
/// Templates are mustache, so every value is HTML-escaped unless a template says otherwise
/// (`{{{content}}}`, the page's own rendered body, is the one place).
/// Compiles the templates written in this folder; one that does not parse is a bug the
/// first render test shows.
enum View {
    static func template(_ text: String) -> MustacheTemplate {
        do {
            return try MustacheTemplate(string: text)
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

    static let template = View.template("""
    <!doctype html>
    <html lang="zh-CN">
    <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>{{title}} · 平安</title>
    <link rel="stylesheet" href="/ui/style.css">
    </head>
    <body>
    <header class="top">
      <a class="brand" href="/ui/">平安 · 社会治理中心</a>
      <span class="who">{{user}} · {{centreName}}</span>
      {{#administers}}<a class="nav" href="/ui/admin">账号管理</a>{{/administers}}
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
    tr.overdue td { background: #fdecea; } .overdue-tag { color: var(--warn); font-weight: 700; }
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
    """
}
