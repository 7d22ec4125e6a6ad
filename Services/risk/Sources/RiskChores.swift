import Foundation
import PinganPostgres

/// The work time alone sets off, with no event to say so: scoring open cases again as the
/// months pass, and moving unacknowledged warnings a level up. Each pass loads from the
/// store, asks the rules, and has the store apply what they decided, in one transaction.
struct RiskChores: Sendable {
    /// The most cases or warnings one pass takes; a pass that takes this many is followed by another.
    static let batch = 200

    let store: any RiskStore
    let models: RiskModelCatalogue
    let rules: WarningRules

    /// Scores again up to ``batch`` open cases whose score time alone has changed by `now`,
    /// and acts on their warnings; returns how many.
    func rescoreDue(now moment: Date) async throws -> Int {
        // To the microsecond, as stored, so what the store selects and what is recorded agree.
        let now = moment.atPostgresPrecision
        return try await store.rescoring(dueBy: now, limit: Self.batch) { due, writes in
            for candidate in due {
                var assessed = candidate.assessed
                assessed.facts.asOf = now
                let scored = models.scored(assessed, now: now)
                let decision = rules.decision(
                    for: scored.score, village: assessed.village, open: candidate.openWarning, closed: assessed.facts.closed, now: now
                )
                try await writes.record(scored, threshold: rules.threshold, decision: decision)
            }
            return due.count
        }
    }

    /// Escalates up to ``batch`` raised warnings nobody acknowledged in time by `now`, one
    /// level each; returns how many.
    func escalateDue(now moment: Date) async throws -> Int {
        // To the microsecond, as stored: the rules then escalate every candidate the store
        // selected, and a pass never counts as full while leaving its candidates where they were.
        let now = moment.atPostgresPrecision
        return try await store.escalating(dueBy: now, limit: Self.batch) { raised, writes in
            let escalations = rules.escalations(of: raised, now: now)
            try await writes.escalate(escalations, at: now)
            return escalations.count
        }
    }
}
