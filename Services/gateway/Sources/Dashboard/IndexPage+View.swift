import Foundation

extension IndexPage {
    static let template = View.template("""
    <nav class="trail" aria-label="返回"><a href="/ui/?centre={{code}}">{{name}} · 今日工作</a> › 治理指数</nav>
    <h1>{{name}} · 下级单位治理指数 {{month}}</h1>
    <p class="muted">{{status}}</p>
    {{{copies}}}
    <p><a href="/ui/index/review?centre={{code}}&amp;month={{month}}">月度讲评报告（可打印）</a> ·
       <a href="/ui/index/review?centre={{code}}&amp;month={{month}}&amp;format=csv" download>下载排名（CSV）</a></p>
    {{{workbench}}}
    {{#hasScores}}
    <section id="ranking" aria-labelledby="ranking-title">
      <h2 id="ranking-title">本月得分与排名</h2>
      <table>
      <thead><tr><th scope="col">名次</th><th scope="col">单位</th><th scope="col">得分</th><th scope="col">名次区间（5%–95%）</th><th scope="col">较上月</th><th scope="col">各项指标得分</th></tr></thead>
      <tbody>{{#rows}}<tr><td data-label="名次">{{rank}}</td><td data-label="单位"><a href="/ui/index?centre={{code}}">{{name}}</a></td><td data-label="得分">{{score}}</td>
      <td data-label="名次区间">{{interval}}</td><td data-label="较上月">{{change}}</td>
      <td data-label="指标">{{#indicators}}<span class="indicator">{{name}} {{#measured}}{{points}}{{/measured}}{{^measured}}数据不足{{/measured}}</span>；{{/indicators}}</td></tr>{{/rows}}</tbody>
      </table>
    </section>
    <section id="trend" aria-labelledby="trend-title">
      <h2 id="trend-title">近十二个月得分走势</h2>
      {{{chart}}}
    </section>
    {{/hasScores}}
    {{^hasScores}}<p class="empty">{{month}} 尚未计算指数。</p>{{/hasScores}}
    """)

    func render() -> String { Self.template.render(self) }
}

/// The twelve months' scores as an SVG line chart, one line per unit, drawn on the server.
struct TrendChart {
    let months: [String]
    let trends: [IndexPage.Trend]

    var svg: String {
        let width = 720.0, height = 300.0, left = 40.0, right = 150.0, top = 10.0, bottom = 30.0
        let plotWidth = width - left - right, plotHeight = height - top - bottom
        func x(_ index: Int) -> Double { left + plotWidth * Double(index) / Double(max(months.count - 1, 1)) }
        func y(_ score: Double) -> Double { top + plotHeight * (1 - min(max(score, 0), 100) / 100) }
        var parts = ["<svg role=\"img\" aria-labelledby=\"trend-desc\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" xmlns=\"http://www.w3.org/2000/svg\" font-size=\"11\">",
                     "<desc id=\"trend-desc\">近十二个月各单位治理指数得分，0 至 100 分</desc>"]
        for score in stride(from: 0.0, through: 100, by: 20) {
            parts.append("<line x1=\"\(left)\" x2=\"\(left + plotWidth)\" y1=\"\(y(score))\" y2=\"\(y(score))\" stroke=\"#d6dde5\"/><text x=\"4\" y=\"\(y(score) + 4)\">\(Int(score))</text>")
        }
        for (index, month) in months.enumerated() where index % 2 == months.count % 2 || index == months.count - 1 {
            parts.append("<text x=\"\(x(index) - 18)\" y=\"\(height - 8)\">\(View.escape(month))</text>")
        }
        for (number, trend) in trends.enumerated() {
            let colour = "hsl(\((number * 137) % 360), 60%, 38%)"
            let points = trend.scores.enumerated().compactMap { index, score in score.map { "\(x(index)),\(y($0))" } }
            guard !points.isEmpty else { continue }
            parts.append("<polyline class=\"trend\" fill=\"none\" stroke=\"\(colour)\" stroke-width=\"2\" points=\"\(points.joined(separator: " "))\"><title>\(View.escape(trend.name))</title></polyline>")
            // A dot per month, so a unit with one month of scores still shows.
            for (index, score) in trend.scores.enumerated() {
                guard let score else { continue }
                parts.append("<circle cx=\"\(x(index))\" cy=\"\(y(score))\" r=\"3.5\" fill=\"\(colour)\"><title>\(View.escape(trend.name)) \(months[index])：\(String(format: "%.1f", score))</title></circle>")
            }
            parts.append("<text x=\"\(left + plotWidth + 8)\" y=\"\(top + 14 * Double(number + 1))\" fill=\"\(colour)\">\(View.escape(trend.name))</text>")
        }
        parts.append("</svg>")
        return parts.joined()
    }
}
