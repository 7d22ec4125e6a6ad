import Foundation
import PinganAccess
import PinganDomain
import PinganOutbox

/// Where assessments, their history and warnings with their closed loop live.
///
/// The store loads and applies; it decides nothing. Where a decision must see rows locked in
/// the same transaction as its writes (a new score and the case's open warning, a due
/// warning and its escalation), the store opens the transaction, locks and loads, and hands
/// what it loaded with a ``RiskWrites`` to the caller's `body`: the caller asks the rules
/// (``WarningRules``, ``RiskModelCatalogue``) and gives the store their decisions to apply.
protocol RiskStore: Sendable {
    /// Applies one `AssessCase` event about case `id`, once.
    ///
    /// The round trip that records the event also locks the case's assessment and open
    /// warning and reads its history; `body` gets them as a ``PriorAssessment``, decides, and
    /// records through the ``RiskWrites`` it is handed, whose writes go with COMMIT. On a
    /// redelivery `body` does not run: the answer is the assessment the first delivery left.
    func assess(
        _ id: UUID, applying event: EventDelivery, _ body: (PriorAssessment, any RiskWrites) async throws -> Assessment
    ) async throws -> Assessment

    /// In one transaction, locks up to `limit` open cases whose score time alone has changed
    /// by `now` (skipping any another instance holds), with their open warnings, and hands
    /// them to `body` to score again and record.
    func rescoring(dueBy now: Date, limit: Int, _ body: ([CaseDueForRescoring], any RiskWrites) async throws -> Int) async throws -> Int

    /// In one transaction, locks up to `limit` raised warnings whose escalation time has come
    /// by `now` (skipping any another instance holds), and hands them to `body` to escalate.
    func escalating(dueBy now: Date, limit: Int, _ body: ([RaisedWarning], any RiskWrites) async throws -> Int) async throws -> Int

    func assessment(of id: UUID) async throws -> Assessment?
    /// Warnings about cases under `root`, newest first, after `cursor`, without their steps.
    func warnings(under root: DivisionCode, openOnly: Bool, after cursor: PageCursor?, limit: Int) async throws -> [Warning]
    /// The warning with every step of its loop.
    func warning(_ id: UUID) async throws -> Warning?
    /// Takes a step of the loop as `transition` says, by `actor`; `nil` when the warning is
    /// not in a status the step may follow.
    func advance(_ id: UUID, _ transition: WarningTransition, by actor: String) async throws -> Warning?
    /// Warnings raised and acknowledged per village under `root` during `month`.
    func facts(under root: DivisionCode, in month: Month) async throws -> [VillageWarningFacts]
}

/// The writes of a transaction a ``RiskStore`` holds open while its caller decides: each
/// applies a decision as it is given, with the events it sends, and reads nothing back.
protocol RiskWrites: Sendable {
    /// Records `scored` as the case's assessment (judged against `threshold`), appends it to
    /// the case's history, and carries out `decision` on the case's warning.
    /// - Returns: the warning the decision raised or regrouped into, if any.
    @discardableResult
    func record(_ scored: ScoredCase, threshold: Int, decision: WarningDecision) async throws -> UUID?

    /// Moves each warning a level up as decided, with a step and a notice for the new owner.
    func escalate(_ escalations: [WarningEscalation], at now: Date) async throws
}

/// A store invariant that did not hold, or a stored value risk-service does not know: a bug
/// or a damaged row, answered `internal`.
enum RiskStoreError: Error, CustomStringConvertible {
    case vanished(UUID)
    /// The column and the value it holds.
    case unreadable(String, String)

    var description: String {
        switch self {
        case .vanished(let id): "the assessment of case \(id.wire) vanished inside its transaction"
        case let .unreadable(column, value): "\(column) holds \"\(value)\", which is not a value risk-service knows"
        }
    }
}
