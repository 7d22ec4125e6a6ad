/// The annual grade (年度等次) from a year's monthly scores, with documented bands: 优秀 90
/// and above, 良好 80 to 90, 合格 60 to 80, 不合格 below 60; fewer than six scored months is
/// 数据不足, since a grade from a few months would say more about those months than the year.
enum AnnualGrading {
    static let minimumMonths = 6

    /// A unit's grade for a year, as `GetAnnualGrades` lists it.
    struct Grade: Sendable, Equatable {
        let code: String
        let name: String
        /// The mean of the scored months, to two places; 0 when none was scored.
        let meanScore: Double
        let monthsScored: Int
        let grade: String
    }

    static func grade(scores: [Double]) -> (mean: Double, grade: String) {
        guard scores.count >= minimumMonths else {
            return (scores.isEmpty ? 0 : GovernanceIndex.rounded(scores.reduce(0, +) / Double(scores.count), 2), "数据不足")
        }
        let mean = GovernanceIndex.rounded(scores.reduce(0, +) / Double(scores.count), 2)
        let grade = switch mean {
        case 90...: "优秀"
        case 80..<90: "良好"
        case 60..<80: "合格"
        default: "不合格"
        }
        return (mean, grade)
    }

    /// The grade of one unit's year.
    static func grade(_ year: ScoredYear) -> Grade {
        let (mean, grade) = grade(scores: year.scores)
        return Grade(code: year.code, name: year.name, meanScore: mean, monthsScored: year.scores.count, grade: grade)
    }
}
