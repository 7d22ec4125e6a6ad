import Foundation

/// The monthly review (讲评) of the units a centre reviews: each unit's score, indicators,
/// rank and rank interval, change from last month and the action due; as a printable page
/// with a chart, and as CSV for a spreadsheet.
struct MonthlyReview: Sendable {
    let centreCode: String
    let centreName: String
    let version: MonthVersion?
    let catalogue: IndicatorCatalogue
    let scores: [RankedScore]
    /// Open or done actions of the month, by unit.
    let actions: [String: [IndexAction]]

    var title: String { "\(centreName) \(version.map { "\($0.month)" } ?? "") 矛盾纠纷排查化解指数讲评" }

    func csv() -> String {
        var header = ["rank", "rank_low", "rank_high", "code", "name", "score", "enough_data", "change"]
        header += catalogue.indicators.map(\.id)
        header += ["action", "owner", "due_on", "action_status"]
        var lines = [header.joined(separator: ",")]
        for score in scores {
            let values = Dictionary(score.indicators.map { ($0.indicator, $0) }, uniquingKeysWith: { first, _ in first })
            let action = actions[score.code]?.first
            var cells = [
                score.rank == 0 ? "" : "\(score.rank)", score.rank == 0 ? "" : "\(score.rankLow)", score.rank == 0 ? "" : "\(score.rankHigh)",
                score.code, score.name, score.enoughData ? Self.number(score.score) : "", score.enoughData ? "true" : "false",
                score.change.map(Self.number) ?? "",
            ]
            cells += catalogue.indicators.map { indicator in
                guard let value = values[indicator.id], value.enoughData else { return "" }
                return Self.number(value.points)
            }
            cells += [action?.kind.rawValue ?? "", action?.owner ?? "", action?.dueOn.description ?? "", action?.status.rawValue ?? ""]
            lines.append(cells.map(Self.csvCell).joined(separator: ","))
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    func html() -> String {
        let status = switch version?.status {
        case .frozen?: "已定稿（第\(version?.version ?? 1)版\(version.map { $0.reason.isEmpty ? "" : "，重算原因：\($0.reason)" } ?? "")）"
        case .provisional?: "本月进行中，数据为临时结果"
        case nil: "尚未计算"
        }
        var rows = ""
        for score in scores {
            let values = Dictionary(score.indicators.map { ($0.indicator, $0) }, uniquingKeysWith: { first, _ in first })
            let action = actions[score.code]?.first
            rows += "<tr><td>\(score.rank == 0 ? "—" : "\(score.rank)")</td>"
            rows += "<td>\(score.rank == 0 ? "—" : "\(score.rankLow)–\(score.rankHigh)")</td>"
            rows += "<td>\(Self.escape(score.name))<br><small>\(score.code)</small></td>"
            rows += "<td class=\"n\">\(score.enoughData ? Self.number(score.score) : "数据不足")</td>"
            rows += "<td class=\"n\">\(score.change.map { ($0 >= 0 ? "+" : "") + Self.number($0) } ?? "—")</td>"
            for indicator in catalogue.indicators {
                if let value = values[indicator.id], value.enoughData {
                    rows += "<td class=\"n\">\(Self.number(value.points))</td>"
                } else {
                    rows += "<td class=\"n muted\">—</td>"
                }
            }
            if let action {
                rows += "<td>\(action.kind.title)<br><small>\(Self.escape(action.owner))，\(action.dueOn)前\(action.status == .done ? "（已完成）" : "")</small></td>"
            } else {
                rows += "<td>—</td>"
            }
            rows += "</tr>\n"
        }
        let headers = catalogue.indicators.map { "<th title=\"\(Self.escape($0.note))\">\(Self.escape($0.name))<br><small>\($0.category.title) \(Self.number($0.weight))</small></th>" }.joined()
        return """
            <!doctype html>
            <html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(Self.escape(title))</title>
            <style>
            body{font-family:system-ui,"Noto Sans CJK SC",sans-serif;margin:1.5rem;color:#1a1a1a}
            table{border-collapse:collapse;width:100%;font-size:.9rem}th,td{border:1px solid #bbb;padding:.3rem .4rem;vertical-align:top}
            th{background:#f1f1f1}td.n{text-align:right;font-variant-numeric:tabular-nums}.muted{color:#888}
            @media print{body{margin:0}svg{max-width:100%}}
            </style></head><body>
            <h1>\(Self.escape(title))</h1>
            <p>\(Self.escape(centreName))（\(centreCode)） · \(status) · 指标目录 \(Self.escape(version?.catalogueVersion ?? catalogue.version))</p>
            \(chart())
            <table><thead><tr><th>名次</th><th>名次区间</th><th>单位</th><th>得分</th><th>较上月</th>\(headers)<th>处置</th></tr></thead>
            <tbody>
            \(rows)</tbody></table>
            <p><small>名次区间：按指标目录所列权重不确定性和另一种标准化方法做 \(catalogue.monteCarloDraws) 次蒙特卡洛模拟，第5至第95百分位的名次。“—”表示数据不足，不计分也不扣分。</small></p>
            </body></html>
            """
    }

    /// Each ranked unit's score as a bar, with its rank interval beside it.
    func chart() -> String {
        let ranked = scores.filter { $0.enoughData }
        guard !ranked.isEmpty else { return "<p>本月没有可排名的单位。</p>" }
        let rowHeight = 22
        let height = ranked.count * rowHeight + 30
        var bars = ""
        for (index, score) in ranked.enumerated() {
            let y = index * rowHeight + 10
            let width = max(0, min(100, score.score)) * 4
            bars += "<text x=\"0\" y=\"\(y + 14)\" font-size=\"12\">\(Self.escape(String(score.name.prefix(12))))</text>"
            bars += "<rect x=\"160\" y=\"\(y)\" width=\"\(Self.number(width))\" height=\"16\" fill=\"\(Self.colour(score.score))\"><title>\(Self.escape(score.name)) \(Self.number(score.score))</title></rect>"
            bars += "<text x=\"\(Self.number(166 + width))\" y=\"\(y + 13)\" font-size=\"11\">\(Self.number(score.score)) · 第\(score.rank)名（\(score.rankLow)–\(score.rankHigh)）</text>"
        }
        var guides = ""
        for mark in [60.0, 80.0, 98.0] {
            let x = 160 + mark * 4
            guides += "<line x1=\"\(Self.number(x))\" y1=\"0\" x2=\"\(Self.number(x))\" y2=\"\(height - 14)\" stroke=\"#999\" stroke-dasharray=\"3 3\"/>"
            guides += "<text x=\"\(Self.number(x - 8))\" y=\"\(height - 2)\" font-size=\"10\">\(Int(mark))</text>"
        }
        return "<svg role=\"img\" aria-label=\"各单位得分\" xmlns=\"http://www.w3.org/2000/svg\" width=\"720\" height=\"\(height)\" viewBox=\"0 0 720 \(height)\">\(guides)\(bars)</svg>"
    }

    static func colour(_ score: Double) -> String {
        switch score {
        case 98...: "#2e7d32"
        case 80..<98: "#1565c0"
        case 60..<80: "#ef6c00"
        default: "#c62828"
        }
    }

    static func number(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(format: "%.2f", value)
    }

    static func escape(_ text: String) -> String {
        var escaped = ""
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            default: escaped.append(character)
            }
        }
        return escaped
    }

    /// Quotes a CSV cell when it needs it, and defuses spreadsheet formulas.
    static func csvCell(_ text: String) -> String {
        var cell = text
        if let first = cell.first, "=+-@".contains(first), Double(cell) == nil { cell = "'" + cell }
        guard cell.contains(where: { ",\"\r\n".contains($0) }) else { return cell }
        return "\"" + cell.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
