import Foundation
import PinganDomain

/// How a new incident finds the case it belongs to (同一当事人再起纠纷): a new incident between
/// parties who already have a case in the village joins that case, and reopens it when it was
/// settled or closed recently; otherwise a case opens.
///
/// The store narrows the candidates with an index (the village's cases naming one of the
/// parties); this type decides among them, so the whole rule is here and tested without a
/// database.
enum SameParties {
    /// How long after it closed a case is reopened by a new incident rather than a new case opened.
    static let reopenWithin: TimeInterval = 180 * 24 * 3600

    /// A case a new incident might join, with what the rule looks at.
    struct Candidate: Sendable {
        let record: DisputeCase
        /// The case's parties' names as compared (``Party/names(_:)``).
        let partyNames: [String]
        /// When the case closed after its return visit, if it did.
        let closedAt: Date?
    }

    /// What a new incident does.
    enum Decision: Sendable {
        /// It joins `case` (facts, incidents and status as they become); `reopened` when the
        /// case had been settled or closed, so its pending return visit counts as unsettled.
        case join(DisputeCase, reopened: Bool)
        /// It opens `case`.
        case open(DisputeCase)
    }

    /// True when the two incidents are between the same people: at least two names in
    /// common (or the one name, when a side names one person). A new incident may add
    /// people (the brothers who joined the fight) and still be the same dispute.
    static func match(_ lhs: [String], _ rhs: [String]) -> Bool {
        let shared = Set(lhs).intersection(rhs).count
        return shared > 0 && shared >= min(2, Set(lhs).count, Set(rhs).count)
    }

    /// Whether `candidate` may still take a new incident at `now`: a case of the same village
    /// that is open or settled, or closed less than ``reopenWithin`` ago.
    static func mayJoin(_ candidate: Candidate, village: DivisionCode, now: Date) -> Bool {
        guard candidate.record.village == village else { return false }
        switch candidate.record.status {
        case .open, .settled: return true
        case .closed: return candidate.closedAt.map { $0 > now.addingTimeInterval(-reopenWithin) } ?? false
        case .resolved: return false
        }
    }

    /// Decides what `newCase` does, given the candidates newest first.
    ///
    /// - Parameter id: the id a case opened now gets.
    static func decide(_ newCase: NewCase, candidates: [Candidate], now: Date, id: UUID = UUID.random()) -> Decision {
        let names = newCase.partyNames
        if let found = candidates.first(where: { mayJoin($0, village: newCase.village, now: now) && match(names, $0.partyNames) }) {
            var joined = found.record
            let reopened = joined.status != .open
            joined.facts = joined.facts.joining(newCase.facts)
            joined.incidents += 1
            joined.status = .open
            joined.joinedReport = DisputeCase.ReportStamp(source: newCase.source, at: now)
            return .join(joined, reopened: reopened)
        }
        return .open(DisputeCase(
            id: id, incidentID: newCase.incidentID, village: newCase.village, category: newCase.category, source: newCase.source,
            status: .open, description: newCase.description, parties: newCase.parties, facts: newCase.facts,
            openedAt: now, coordinator: newCase.village.owningCentre, major: nil, incidents: 1
        ))
    }
}
