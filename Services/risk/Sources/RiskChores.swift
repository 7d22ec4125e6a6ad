import Foundation
import PinganPostgres

/// The work time alone sets off, with no event to say so: scoring open cases again as the
/// months pass, and moving unacknowledged warnings a level up. Each pass is one transaction
/// of the store, which locks what is due, asks the rules it is handed and applies their
/// decisions.
struct RiskChores: Sendable {
    /// The most cases or warnings one pass takes; a pass that takes this many is followed by another.
    static let batch = 200

    let store: any RiskStore
    let models: RiskModelCatalogue
    let rules: WarningRules
    var clusterRules = ClusterRuleBook(versions: [])

    /// Scores again up to ``batch`` open cases whose score time alone has changed by `now`,
    /// and acts on their warnings; returns how many.
    func rescoreDue(now moment: Date) async throws -> Int {
        // To the microsecond, as stored, so what the store selects and what is recorded agree.
        try await store.rescoreDue(now: moment.atPostgresPrecision, limit: Self.batch, models: models, rules: rules)
    }

    /// Pushes up to ``batch`` cluster warnings whose group wait is over by `now`, each once
    /// with every member it gathered; returns how many.
    func pushDueClusters(now moment: Date) async throws -> Int {
        try await store.pushDueClusters(now: moment.atPostgresPrecision, limit: Self.batch, rules: clusterRules)
    }

    /// Escalates up to ``batch`` raised warnings nobody acknowledged in time by `now`, one
    /// level each; returns how many.
    func escalateDue(now moment: Date) async throws -> Int {
        // To the microsecond, as stored: the rules then escalate every candidate the store
        // selected, and a pass never counts as full while leaving its candidates where they were.
        try await store.escalateDue(now: moment.atPostgresPrecision, limit: Self.batch, rules: rules)
    }
}
