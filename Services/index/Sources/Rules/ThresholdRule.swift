/// What a centre does about the month's scores of the units it reviews (指数调度法). The
/// seed's township rule is the default: 98 and above shares its experience; below 80 the
/// political-legal officer holds a reminder talk and sets a deadline; below 60 the party
/// secretary summons the unit's head. A centre may set its own (`SetThresholdRule`); which
/// actions a frozen month then creates or withdraws is ``ThresholdActions``.
struct ThresholdRule: Sendable, Equatable {
    /// What a score calls for, stored by its raw value in `index.actions.kind`.
    enum Kind: String, Sendable, CaseIterable {
        case shareExperience = "share_experience"
        case reminderTalk = "reminder_talk"
        case summons

        var title: String {
            switch self {
            case .shareExperience: "经验交流"
            case .reminderTalk: "提醒谈话"
            case .summons: "约谈"
            }
        }
    }

    var shareAt = 98.0
    var remindBelow = 80.0
    var summonBelow = 60.0
    var shareDays = 30
    var remindDays = 15
    var summonDays = 7
    var shareOwner = "被评单位负责人"
    var remindOwner = "政法委员"
    var summonOwner = "党委书记"

    /// The rule of a centre that set none.
    static let seedDefault = ThresholdRule()

    /// The action a unit's month calls for, if any. A unit without enough data to be scored
    /// (no grids registered, nothing recorded) gets none: the review lists it as 数据不足
    /// for the centre to set it up, instead of a talk about a score it does not have. A unit
    /// with grids that screens nothing has a score, of 0, and gets the summons.
    func action(score: Double, enoughData: Bool) -> Kind? {
        guard enoughData else { return nil }
        if score >= shareAt { return .shareExperience }
        if score < summonBelow { return .summons }
        if score < remindBelow { return .reminderTalk }
        return nil
    }

    /// Who carries out an action of `kind`, as the centre names the office.
    func owner(_ kind: Kind) -> String {
        switch kind {
        case .shareExperience: shareOwner
        case .reminderTalk: remindOwner
        case .summons: summonOwner
        }
    }

    /// How many days after the month is frozen an action of `kind` is due.
    func days(_ kind: Kind) -> Int {
        switch kind {
        case .shareExperience: shareDays
        case .reminderTalk: remindDays
        case .summons: summonDays
        }
    }

    /// Checks a rule a centre sets; the first bad field is named as the request names it.
    func validate() throws(FieldProblem) {
        for (field, value) in [("rule.share_at", shareAt), ("rule.remind_below", remindBelow), ("rule.summon_below", summonBelow)]
        where !(0...100).contains(value) || !value.isFinite {
            throw FieldProblem(field: field, problem: "must be between 0 and 100")
        }
        guard summonBelow <= remindBelow else { throw FieldProblem(field: "rule.summon_below", problem: "must not be above remind_below (\(remindBelow))") }
        guard remindBelow <= shareAt else { throw FieldProblem(field: "rule.remind_below", problem: "must not be above share_at (\(shareAt))") }
        for (field, value) in [("rule.share_days", shareDays), ("rule.remind_days", remindDays), ("rule.summon_days", summonDays)]
        where !(1...365).contains(value) {
            throw FieldProblem(field: field, problem: "must be 1 to 365 days")
        }
        for (field, value) in [("rule.share_owner", shareOwner), ("rule.remind_owner", remindOwner), ("rule.summon_owner", summonOwner)]
        where !(1...50).contains(value.count) {
            throw FieldProblem(field: field, problem: "must be 1 to 50 characters")
        }
    }
}
