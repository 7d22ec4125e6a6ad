import Foundation

/// How grave a case's risk is, in the words centres say it in (风险等级): 一般, 较大, 重大.
/// Ordered, so a warning keeps the gravest level its case reached; the raw values are what
/// the database stores.
enum RiskLevel: String, Codable, Sendable, CaseIterable, Comparable {
    /// 一般
    case general
    /// 较大
    case serious
    /// 重大
    case major

    /// The level's word, as pushes and pages say it.
    var word: String {
        switch self {
        case .general: "一般"
        case .serious: "较大"
        case .major: "重大"
        }
    }

    static func < (lhs: RiskLevel, rhs: RiskLevel) -> Bool {
        allCases.firstIndex(of: lhs) ?? 0 < allCases.firstIndex(of: rhs) ?? 0
    }
}

/// The bands of one catalogue version (`levels` in `Data/risk-models.json`): the score from
/// which a case is 较大 and from which it is 重大, and the level a decisive factor gives.
///
/// The bands travel with the models' version rather than with the deployment's
/// `RISK_THRESHOLD`: a level says how grave the model judged a case, and an assessment keeps
/// the level its model gave (stored beside its score), whatever later versions say.
struct RiskBands: Codable, Sendable, Equatable {
    /// Scores at or over this are 较大.
    let serious: Int
    /// Scores at or over this are 重大.
    let major: Int
    /// The level a decisive factor gives whatever the score: the model warns on a decisive
    /// fact alone and tells the village at once, so it is judged 重大 too.
    let decisive: RiskLevel

    /// The level of `score`, or at least ``decisive`` when a decisive factor was present.
    func level(of score: Int, decisive isDecisive: Bool) -> RiskLevel {
        let banded: RiskLevel = score >= major ? .major : score >= serious ? .serious : .general
        return isDecisive ? max(banded, decisive) : banded
    }

    /// The bands must rise within 1...100, so every score has exactly one level.
    var problem: String? {
        guard 1 <= serious, serious < major, major <= 100 else { return "levels must satisfy 1 <= serious < major <= 100" }
        return nil
    }
}
