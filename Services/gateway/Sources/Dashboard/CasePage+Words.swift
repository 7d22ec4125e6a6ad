import Foundation
import PinganContracts

/// How a case's record reads in Chinese: the steps' outcomes and kinds, who took a step,
/// and each timeline line.
///
/// dispute-service writes its timeline for its own logs, in English with division codes
/// (`rung 2 failed: …`, `430781103000 asked 430781000000 to coordinate: …`). The dashboard
/// does not change that record; it reads each line by its kind and says it again in Chinese,
/// with the places named. A line it cannot read (a format written later) keeps its note as it
/// is, under a Chinese heading, so nothing on record is ever hidden.
enum CaseWords {
    static func outcome(_ value: Pingan_Dispute_V1_RungOutcome) -> String {
        switch value {
        case .settled: "调解成功，达成协议"
        case .eased: "矛盾缓和，未达成协议"
        case .failed: "调解不成功"
        default: ""
        }
    }

    static func kind(_ value: Pingan_Dispute_V1_MediationKind) -> String {
        switch value {
        case .administrative: "行政调解"
        case .arbitration: "仲裁调解"
        case .judicial: "司法调解"
        case .other: "其他调解"
        default: "人民调解"
        }
    }

    static func returnVisit(_ value: Pingan_Dispute_V1_ReturnVisitOutcome) -> String {
        switch value {
        case .confirmed: "协议履行，纠纷已化解"
        case .unsettled: "纠纷未化解，重新调解"
        default: ""
        }
    }

    /// `第三级` for rung 3: the short name a timeline line uses.
    static func ordinal(_ number: Int) -> String {
        let digits = ["一", "二", "三", "四", "五"]
        return (1...5).contains(number) ? "第\(digits[number - 1])级" : "第\(number)级"
    }

    /// Who took a step, as a person reads it: `用户 town-a`, `部门系统 xdk-police` (or the
    /// department's name where the page knows its key), `系统` for the services themselves.
    /// There is no display name for an account, so the username stands for the person.
    static func actor(_ subject: String, departments: [String: String] = [:]) -> String {
        if subject.hasPrefix("user:") { return "用户 " + subject.dropFirst(5) }
        if subject.hasPrefix("apikey:") {
            let key = String(subject.dropFirst(7))
            return departments[key].map { "\($0)（部门系统）" } ?? "部门系统 " + key
        }
        switch subject {
        case "intake": return "一站式接待"
        case "grid-service": return "网格上报"
        default: return "系统"
        }
    }

    /// A case source as dispute-service writes its Swift name into a note (`policeTransfer`).
    static func source(named name: String) -> String {
        switch name {
        case "gridReport": Labels.source(.gridReport)
        case "hotline": Labels.source(.hotline)
        case "policeTransfer": Labels.source(.policeTransfer)
        case "walkIn": Labels.source(.walkIn)
        case "departmentReferral": Labels.source(.departmentReferral)
        case "citizenApp": Labels.source(.citizenApp)
        default: name
        }
    }

    /// A category as dispute-service writes its Swift name into a note (`neighbour`).
    static func category(named name: String) -> String {
        switch name {
        case "marriageFamily": Labels.category(.marriageFamily)
        case "neighbour": Labels.category(.neighbour)
        case "economicDebt": Labels.category(.economicDebt)
        case "land": Labels.category(.land)
        case "demolitionCompensation": Labels.category(.demolitionCompensation)
        case "propertyManagement": Labels.category(.propertyManagement)
        case "other": Labels.category(.other)
        default: name
        }
    }

    /// A timeline line's heading.
    static func heading(_ kind: String) -> String {
        switch kind {
        case "opened": "立案"
        case "incident_joined": "同一当事人再次发生纠纷，并入本案"
        case "reopened": "同一当事人再次发生纠纷，案件重新办理"
        case "rung_started": "开始调解"
        case "rung_ended": "调解结束"
        case "agreement_signed": "签订调解协议"
        case "return_visit": "回访"
        case "summoned": "中心吹哨，召集部门"
        case "summons_reported": "部门报到"
        case "summons_feedback": "部门反馈"
        case "escalated": "上报上级中心统筹"
        case "escalation_requested": "提请上报"
        case "handed_back": "交回下级中心"
        case "major_dispute": "按重大纠纷（1350工作法）办理"
        case "reclassified": "更正纠纷类别"
        case "resolved": "办结（未经调解协议）"
        case "overdue": "超期提醒"
        case "personal_data_erased": "当事人信息保存期满删除"
        default: "其他记录"
        }
    }

    /// A timeline line's note in Chinese, places named by `place` (a code → its name).
    static func note(kind: String, _ note: String, place: (String) -> String) -> String {
        func match(_ pattern: String) -> [String]? {
            guard let regex = try? NSRegularExpression(pattern: pattern, options: [.dotMatchesLineSeparators]),
                  let found = regex.firstMatch(in: note, range: NSRange(note.startIndex..., in: note)) else { return nil }
            return (1..<found.numberOfRanges).map { index in
                Range(found.range(at: index), in: note).map { String(note[$0]) } ?? ""
            }
        }
        func rung(_ text: String) -> String { Int(text).map(ordinal) ?? text }
        func rungs(_ text: String) -> String { text.split(separator: ",").map { rung($0.trimmingCharacters(in: .whitespaces)) }.joined(separator: "、") }
        func outcome(_ text: String) -> String {
            switch text {
            case "settled": Self.outcome(.settled)
            case "eased": Self.outcome(.eased)
            case "failed": Self.outcome(.failed)
            default: text
            }
        }
        switch kind {
        case "opened":
            if let parts = match(#"^opened from incident (\S+)$"#) { return "由网格上报的事件立案（事件编号 \(parts[0])）" }
            if let parts = match(#"^opened from a (\w+) report$"#) { return "由\(source(named: parts[0]))立案" }
        case "incident_joined", "reopened":
            if let parts = match(#"^incident (\S+) between the same parties: (.*)$"#) { return "网格上报的事件（编号 \(parts[0])）：\(parts[1])" }
            if let parts = match(#"^a (\w+) report between the same parties: (.*)$"#) { return "\(source(named: parts[0]))：\(parts[1])" }
        case "rung_started":
            if let parts = match(#"^rung (\d), .*?: led by (.*?); skipped rung\(s\) ([\d, ]+): (.*)$"#) {
                return "\(rung(parts[0]))调解，牵头人：\(parts[1])；跳过\(rungs(parts[2]))，理由：\(parts[3])"
            }
            if let parts = match(#"^rung (\d), .*?: led by (.*)$"#) { return "\(rung(parts[0]))调解，牵头人：\(parts[1])" }
        case "rung_ended":
            if let parts = match(#"^rung (\d) (\w+): (.*)$"#) { return "\(rung(parts[0]))：\(outcome(parts[1]))。\(parts[2])" }
        case "agreement_signed":
            if let parts = match(#"^signed on (\S+) by (.*?): (.*)$"#) { return "\(parts[0]) 由 \(parts[1]) 签订：\(parts[2])" }
        case "return_visit":
            if let parts = match(#"^confirmed: (.*)$"#) { return "\(returnVisit(.confirmed))。\(parts[0])" }
            if let parts = match(#"^unsettled: (.*)$"#) { return "\(returnVisit(.unsettled))。\(parts[0])" }
        case "summoned":
            if let parts = match(#"^summoned (.*): report by (.*), feed back by (.*)$"#) {
                return "召集 \(parts[0])，报到期限 \(parts[1])，反馈期限 \(parts[2])"
            }
        case "summons_reported":
            if let parts = match(#"^(.*) reported late$"#) { return "\(parts[0]) 已报到（超过期限）" }
            if let parts = match(#"^(.*) reported$"#) { return "\(parts[0]) 已报到" }
        case "summons_feedback":
            if let parts = match(#"^(.*) \(late\): (.*)$"#) { return "\(parts[0])（超过期限）：\(parts[1])" }
            if let parts = match(#"^(.*?): (.*)$"#) { return "\(parts[0])：\(parts[1])" }
        case "escalated":
            if let parts = match(#"^(\d{12}) asked (\d{12}) to coordinate: (.*)$"#) { return "\(place(parts[0])) 提请 \(place(parts[1])) 统筹。理由：\(parts[2])" }
        case "escalation_requested":
            if let parts = match(#"^(\d{12}) asked (\d{12}) to escalate: (.*)$"#) { return "\(place(parts[0])) 提请 \(place(parts[1])) 上报上级。理由：\(parts[2])" }
        case "handed_back":
            if let parts = match(#"^(\d{12}) handed the case back to (\d{12}): (.*)$"#) { return "\(place(parts[0])) 将案件交回 \(place(parts[1]))：\(parts[2])" }
        case "major_dispute":
            if let parts = match(#"^handled as a major dispute with (.*) and (\d+) resident representatives$"#) {
                return "参与部门：\(parts[0])；群众代表 \(parts[1]) 名"
            }
        case "reclassified":
            if let parts = match(#"^category (\w+) → (\w+): (.*)$"#) { return "由「\(category(named: parts[0]))」更正为「\(category(named: parts[1]))」：\(parts[2])" }
        case "overdue":
            if let parts = match(#"^rung (\d) is past its deadline$"#) { return "\(rung(parts[0]))调解已超过期限" }
            if let parts = match(#"^(.*) has not reported to the summons by its deadline$"#) { return "\(parts[0]) 未在期限内报到" }
            if let parts = match(#"^(.*) has not fed back on the summons by its deadline$"#) { return "\(parts[0]) 未在期限内反馈" }
            if match(#"^(the )?return visit is past its deadline$"#) != nil { return "回访已超过期限" }
            if let parts = match(#"^(.*) is past its deadline$"#) { return "\(parts[0]) 已超过期限" }
        default:
            break
        }
        return note
    }
}
