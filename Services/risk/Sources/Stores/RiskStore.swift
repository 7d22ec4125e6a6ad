import Foundation
import PinganAccess
import PinganContracts
import PinganDomain
import PinganOutbox

/// Where assessments, their history and warnings with their closed loop live.
///
/// The store loads and applies; the rules decide. A decision must see rows locked in the
/// same transaction as its writes (a new score and the case's open warning, a due warning
/// and its escalation), so the store is handed the rules as values (``WarningRules``,
/// ``RiskModelCatalogue``): it locks and loads, asks them, and applies what they return.
protocol RiskStore: Sendable {
    /// Applies one `AssessCase` event, `scored`, once: the round trip that records the event
    /// also locks the case's assessment and open warning and reads its history; `rules`
    /// decide what the score does to the warning, and the writes go with COMMIT. A
    /// redelivery answers the assessment the first delivery left.
    ///
    /// The same transaction keeps the case as an `incident` of the social-risk topic database
    /// and applies what the cluster rules in `clusters` decide about it; a cluster the case is
    /// a member of holds back the case's own pushes.
    func assess(_ scored: ScoredCase, incident: TopicIncident, rules: WarningRules, clusters: ClusterPolicy, applying event: EventDelivery) async throws -> Assessment

    /// In one transaction, pushes up to `limit` cluster warnings whose group wait is over by
    /// `now` (skipping any another instance holds), each with every member it gathered;
    /// returns how many.
    func pushDueClusters(now: Date, limit: Int, rules: ClusterRuleBook) async throws -> Int
    /// The case as the topic database keeps it.
    func incident(_ id: UUID) async throws -> IncidentRecord?
    /// Every other case naming a party of case `id`, wherever it lies: the caller filters by
    /// jurisdiction.
    func links(of id: UUID) async throws -> [CaseLink]
    /// Incidents per week, village and category under `root` opened in `start..<end`.
    func trend(under root: DivisionCode, from start: Date, to end: Date, category: Pingan_Grid_V1_IncidentCategory?) async throws -> [IncidentCount]
    /// Opens a topic for `centre`, by `actor`.
    func openTopic(centre: DivisionCode, title: String, category: Pingan_Grid_V1_IncidentCategory, by actor: String, at now: Date) async throws -> Topic
    /// The topic with its cases.
    func topic(_ id: UUID) async throws -> Topic?
    /// Attaches case `caseID` to the topic if it is still open; `false` when it is closed.
    /// Attaching a case twice changes nothing.
    func attach(_ caseID: UUID, to topic: UUID, by actor: String, at now: Date) async throws -> Bool
    /// Closes the topic with `outcome`; `false` when it was closed already.
    func closeTopic(_ id: UUID, outcome: String, at now: Date) async throws -> Bool
    /// Topics of centres under `root`, newest first.
    func topics(under root: DivisionCode, openOnly: Bool, limit: Int) async throws -> [Topic]

    /// In one transaction, locks up to `limit` open cases whose score time alone has changed
    /// by `now` (skipping any another instance holds) with their open warnings, scores them
    /// again with `models` and acts on their warnings as `rules` decide; returns how many.
    func rescoreDue(now: Date, limit: Int, models: RiskModelCatalogue, rules: WarningRules) async throws -> Int

    /// In one transaction, locks up to `limit` raised warnings whose escalation time has come
    /// by `now` (skipping any another instance holds), and moves up those `rules` escalate;
    /// returns how many.
    func escalateDue(now: Date, limit: Int, rules: WarningRules) async throws -> Int

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
