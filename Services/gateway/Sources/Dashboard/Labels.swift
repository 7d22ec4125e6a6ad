import Foundation
import PinganConnect
import PinganContracts
import PinganDomain

/// How the dashboard says things: Chinese labels for the contracts' enums, and times in
/// China time, as the centres read them.
enum Labels {
    /// `2026-11-28 14:05` in China time; empty for an empty timestamp.
    static func time(_ wire: String) -> String {
        guard let date = Date(wireTimestamp: wire) else { return "" }
        return time(date)
    }

    static func time(_ date: Date) -> String { ChinaTime.minute(date) }

    /// A deadline as centres count it: the end of a working day reads `2026-12-02 24:00`,
    /// not midnight of the next day.
    static func deadline(_ wire: String) -> String {
        guard let date = Date(wireTimestamp: wire) else { return "" }
        let text = time(date)
        guard text.hasSuffix(" 00:00") else { return text }
        return String(time(date.addingTimeInterval(-60)).prefix(10)) + " 24:00"
    }

    /// How long ago, or how long until, in words a centre reads at a glance.
    static func span(from start: Date, to end: Date) -> String {
        let minutes = Int(abs(end.timeIntervalSince(start)) / 60)
        if minutes < 60 { return "\(minutes) 分钟" }
        if minutes < 48 * 60 { return "\(minutes / 60) 小时" }
        return "\(minutes / 1440) 天"
    }

    static func category(_ value: Pingan_Grid_V1_IncidentCategory) -> String {
        switch value {
        case .marriageFamily: "婚恋家庭"
        case .neighbour: "邻里"
        case .economicDebt: "经济债务"
        case .land: "土地"
        case .demolitionCompensation: "征拆补偿"
        case .propertyManagement: "物业"
        case .other: "其他"
        default: "未分类"
        }
    }

    static func rung(_ value: Pingan_Dispute_V1_Rung) -> String {
        switch value {
        case .finder: "第一级：谁发现谁受理"
        case .villageSecretary: "第二级：村支书调解"
        case .townshipCadre: "第三级：包村干部调解"
        case .politicalLegal: "第四级：政法委员牵头"
        case .townshipLeaders: "第五级：乡镇主要领导"
        default: "尚未调解"
        }
    }

    static func source(_ value: Pingan_Dispute_V1_CaseSource) -> String {
        switch value {
        case .gridReport: "网格上报"
        case .hotline: "热线"
        case .policeTransfer: "公安移交"
        case .walkIn: "来访"
        case .departmentReferral: "部门移交"
        case .citizenApp: "群众端"
        case .screening: "每日排查"
        default: "未知来源"
        }
    }

    /// The dangerous facts of a case (the worst so far) in words, most serious first; empty when none.
    static func facts(of value: Pingan_Dispute_V1_Case) -> [String] {
        facts(violence: value.violenceOccurred, threat: value.threatOfViolence, selfHarm: value.threatOfSelfHarm,
              minors: value.minorsInvolved, policeCalls: value.priorPoliceCalls)
    }

    /// The dangerous facts one report gave, in words.
    static func facts(of value: Pingan_Dispute_V1_CaseReport) -> [String] {
        facts(violence: value.violenceOccurred, threat: value.threatOfViolence, selfHarm: value.threatOfSelfHarm,
              minors: value.minorsInvolved, policeCalls: value.priorPoliceCalls)
    }

    private static func facts(violence: Bool, threat: Bool, selfHarm: Bool, minors: Bool, policeCalls: Int32) -> [String] {
        var words: [String] = []
        if violence { words.append("已发生暴力") }
        // Violence that happened says more than its threat; the threat alone is named.
        if threat && !violence { words.append("有暴力威胁") }
        if selfHarm { words.append("有自伤风险") }
        if minors { words.append("涉及未成年人") }
        if policeCalls > 0 { words.append("曾报警 \(policeCalls) 次") }
        return words
    }

    static func caseStatus(_ value: Pingan_Dispute_V1_CaseStatus) -> String {
        switch value {
        case .open: "办理中"
        case .resolved: "已办结"
        case .settled: "已调解，待回访"
        case .closed: "已回访结案"
        default: "未知"
        }
    }

    static func warningStatus(_ value: Pingan_Risk_V1_WarningStatus) -> String {
        switch value {
        case .raised: "待签收"
        case .acknowledged: "已签收"
        case .handling: "处置中"
        case .fedBack: "已反馈"
        case .evaluated: "已问效"
        case .closed: "已关闭"
        default: "未知"
        }
    }

    static func actionKind(_ value: Pingan_Index_V1_ActionKind) -> String {
        switch value {
        case .shareExperience: "经验交流"
        case .reminderTalk: "提醒谈话"
        case .summons: "约谈"
        default: "其他"
        }
    }

    static func level(_ value: Pingan_Grid_V1_DivisionLevel) -> String {
        switch value {
        case .city: "市"
        case .county: "县（市、区）"
        case .township: "乡镇（街道）"
        case .village: "村（社区）"
        default: ""
        }
    }
}
