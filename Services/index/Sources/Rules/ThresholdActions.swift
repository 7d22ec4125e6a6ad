import Foundation
import PinganDomain

/// The actions a frozen month's scores call for (指数调度), each unit judged by the rule of
/// the centre that reviews it (its parent) or the seed's rule when that centre set none.
///
/// A month may be frozen more than once (a recomputation with a reason), so the rule also
/// looks at the actions the month already has: one a recomputation no longer calls for is
/// withdrawn while it is open; one already done stays done; and a unit never gets a second
/// action of a kind it already has. The month store reads the rules and the month's actions
/// in the transaction that freezes the month and applies the decisions in their order.
enum ThresholdActions {
    /// An action the month already has, open or done, as the rule compares it.
    struct Existing: Sendable, Equatable {
        let id: UUID
        let division: String
        let kind: ThresholdRule.Kind
        let status: IndexAction.Status
    }

    /// An action to create: for `division`, owned by `centre`, due `dueOn`.
    struct NewAction: Sendable, Equatable {
        let month: Month
        let division: String
        let divisionName: String
        let centre: DivisionCode
        let kind: ThresholdRule.Kind
        /// The office that carries it out, as the centre's rule names it.
        let owner: String
        let dueOn: Day
        /// The score that called for it; an action is only ever called for by a score with
        /// enough data (``ThresholdRule/action(score:enoughData:)``).
        let score: Double
    }

    /// One change to the month's actions, applied in the order decided so an action's
    /// withdrawal and its replacement's creation land together.
    enum Decision: Sendable, Equatable {
        /// Withdraw the open action with this id: the month no longer calls for it.
        case withdraw(UUID)
        /// Create an action, and tell its centre (``IndexEvents/action(_:)``).
        case create(NewAction)
    }

    /// Decides, unit by unit in the order scored, what the month's actions become.
    ///
    /// - Parameters:
    ///   - rules: the centres' own rules, by centre.
    ///   - existing: the month's actions that are not withdrawn.
    ///   - today: the day the month is frozen, from which actions fall due.
    static func decide(
        month: Month, scored: [GovernanceIndex.Scored], rules: [DivisionCode: ThresholdRule], existing: [Existing], today: Day
    ) -> [Decision] {
        let standing = Dictionary(grouping: existing.filter { $0.status != .withdrawn }, by: \.division)
        var decisions: [Decision] = []
        for unit in scored {
            // The root has no centre above it to review it.
            guard let parent = unit.parent, let centre = try? DivisionCode(validating: parent) else { continue }
            let rule = rules[centre] ?? .seedDefault
            let kind = rule.action(score: unit.score, enoughData: unit.enoughData)
            let had = standing[unit.code] ?? []
            for old in had where old.kind != kind && old.status == .open {
                decisions.append(.withdraw(old.id))
            }
            guard let kind, !had.contains(where: { $0.kind == kind }) else { continue }
            decisions.append(.create(NewAction(
                month: month, division: unit.code, divisionName: unit.name, centre: centre, kind: kind,
                owner: rule.owner(kind), dueOn: today.adding(days: rule.days(kind)), score: unit.score
            )))
        }
        return decisions
    }
}
