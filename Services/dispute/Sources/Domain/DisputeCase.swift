import Foundation
import PinganConnect
import PinganContracts
import PinganDomain

/// A dispute case, as dispute-service keeps it: the parties in full (mediation needs them),
/// the facts risk scores, and where it stands.
struct DisputeCase: Sendable {
    enum Status: String, Sendable {
        /// Being mediated.
        case open
        /// Closed without a settlement (withdrawn, no dispute found), with an outcome.
        case resolved
        /// Settled by a signed agreement; the return visit is due.
        case settled
        /// The return visit confirmed the settlement.
        case closed
    }

    let id: UUID
    /// The incident it was opened from, when a grid reported it.
    let incidentID: UUID?
    let village: DivisionCode
    var category: Pingan_Grid_V1_IncidentCategory
    /// Where the report that opened the case came from.
    let source: Pingan_Dispute_V1_CaseSource
    var status: Status
    let description: String
    let parties: [Party]
    /// The worst facts over every report of the case (``CaseFacts/joining(_:)``).
    var facts: CaseFacts
    let openedAt: Date
    /// The centre coordinating the case: the village's township until it is escalated.
    var coordinator: DivisionCode
    var major: MajorDispute?
    /// Incidents between the same parties this case holds, the first included.
    var incidents: Int
    /// The rung of its latest attempt, as the cases table keeps it; `nil` before the first.
    var currentRung: LadderRung? = nil
    /// The newest report's source and time when another report joined; `nil` while the
    /// opening report is the newest (``latest``). Kept on the case so a centre sees what came
    /// in last without reading the case's reports.
    var joinedReport: ReportStamp? = nil
    /// The county whose own mesh owns the case, when this (the city's) holds a copy of it:
    /// read-only here (docs/architecture.md, "Deployed per level").
    var federatedFrom: DivisionCode? = nil
    /// When the parties' personal data was erased, its term over (``PartyDataRetention``):
    /// the case keeps its facts, steps and dates, and no name, phone or free text.
    var personalDataErasedAt: Date? = nil

    /// The newest report's source and time.
    var latest: ReportStamp { joinedReport ?? ReportStamp(source: source, at: openedAt) }

    /// Where and when a report came in.
    struct ReportStamp: Sendable, Equatable {
        let source: Pingan_Dispute_V1_CaseSource
        let at: Date
    }
}

/// One person in a dispute.
struct Party: Codable, Sendable, Equatable {
    var name: String
    var phone: String
    var minor: Bool
}

/// What was reported about the danger of a dispute.
struct CaseFacts: Sendable, Equatable {
    var threatOfViolence: Bool
    var threatOfSelfHarm: Bool
    var repeatIncident: Bool
    var priorPoliceCalls: Int
    var violenceOccurred = false
    /// A minor is among the parties (of any report, for a case).
    var minorsInvolved = false

    /// The facts after another incident between the same parties: a repeat, with whatever
    /// the new report adds. The worst of each fact is kept: a milder report later does not
    /// undo violence or a threat reported earlier.
    func joining(_ other: CaseFacts) -> CaseFacts {
        CaseFacts(
            threatOfViolence: threatOfViolence || other.threatOfViolence,
            threatOfSelfHarm: threatOfSelfHarm || other.threatOfSelfHarm,
            repeatIncident: true,
            priorPoliceCalls: max(priorPoliceCalls, other.priorPoliceCalls),
            violenceOccurred: violenceOccurred || other.violenceOccurred,
            minorsInvolved: minorsInvolved || other.minorsInvolved
        )
    }
}

/// One report that opened or joined a case, with the facts it gave (the case keeps the worst
/// of all of them). Not to be confused with ``CaseReports``, the monthly reading of cases.
struct CaseReport: Sendable, Equatable {
    let id: UUID
    let caseID: UUID
    let source: Pingan_Dispute_V1_CaseSource
    /// The grid incident, for a grid report.
    let incidentID: UUID?
    let reportedAt: Date
    let description: String
    let facts: CaseFacts
    /// True for the report that opened the case.
    let openedCase: Bool
    /// True for a row made by migration 8 from what an existing case held.
    var backfilled = false
    /// The principal subject that filed the report (`user:wang`), when the report said so.
    var reportedBy: String? = nil
}

/// A report as the one who filed it sees it: the report and where its case stands now,
/// without the case's parties.
struct FiledReport: Sendable {
    let report: CaseReport
    let category: Pingan_Grid_V1_IncidentCategory
    let status: DisputeCase.Status
    let currentRung: LadderRung?
    let coordinator: DivisionCode
}

/// One step in a case's append-only history.
struct TimelineEntry: Sendable {
    let at: Date
    let kind: String
    let note: String
    let actor: String
}

/// A case to open from a reported incident, a call, a walk-in or a referral.
struct NewCase: Sendable {
    /// The grid incident, when grid-service reported it.
    let incidentID: UUID?
    let village: DivisionCode
    let category: Pingan_Grid_V1_IncidentCategory
    let source: Pingan_Dispute_V1_CaseSource
    let description: String
    /// With their names trimmed, however the case arrived.
    let parties: [Party]
    let facts: CaseFacts
    /// The principal subject that filed the report, when the report said so.
    let reportedBy: String?

    init(
        incidentID: UUID?, village: DivisionCode, category: Pingan_Grid_V1_IncidentCategory, source: Pingan_Dispute_V1_CaseSource,
        description: String, parties: [Party], facts: CaseFacts, reportedBy: String? = nil
    ) {
        self.incidentID = incidentID
        self.reportedBy = reportedBy
        self.village = village
        self.category = category
        self.source = source
        self.description = description
        self.parties = parties.map { Party(name: $0.name.trimmingCharacters(in: .whitespaces), phone: $0.phone, minor: $0.minor) }
        var facts = facts
        // Whether a minor is involved is read off the parties, however the report said it.
        facts.minorsInvolved = facts.minorsInvolved || parties.contains(where: \.minor)
        self.facts = facts
    }

    /// This report as the case keeps it, once `newCase` opened or joined case `caseID` at `now`.
    func report(on caseID: UUID, at now: Date, openedCase: Bool, id: UUID = UUID.random()) -> CaseReport {
        CaseReport(id: id, caseID: caseID, source: source, incidentID: incidentID, reportedAt: now, description: description,
                   facts: facts, openedCase: openedCase, reportedBy: reportedBy)
    }
}

extension NewCase {
    /// The parties' names as compared to find the same parties again: trimmed, without
    /// inner spaces, sorted.
    var partyNames: [String] { Party.names(parties) }
}

extension Party {
    static func names(_ parties: [Party]) -> [String] {
        parties.map { $0.name.filter { !$0.isWhitespace } }.filter { !$0.isEmpty }.sorted()
    }
}
