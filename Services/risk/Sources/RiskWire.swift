import Foundation
import PinganAccess
import PinganConnect
import PinganContracts
import PinganDomain

// The one place risk's domain values turn into the generated protobuf messages and back:
// handlers convert at the door, the store keeps two columns in the messages' formats
// (`assessments.facts` as an `AssessCaseRequest`'s bytes, `reasons` as `Reason` JSON).

extension AssessedCase {
    /// The case an `AssessCase` event names, its id and village checked at the door
    /// (`invalid_argument` naming the field).
    init(_ request: Pingan_Risk_V1_AssessCaseRequest) throws {
        self.init(id: try UUID.field(request.caseID, "case_id"), village: try DivisionCode.field(request.villageCode, "village_code"), facts: CaseFacts(request))
    }

    /// As an `AssessCase` event carries it, which is also how `risk.assessments.facts` stores it.
    var wire: Pingan_Risk_V1_AssessCaseRequest {
        var request = Pingan_Risk_V1_AssessCaseRequest()
        request.caseID = id.wire
        request.villageCode = village.rawValue
        request.category = facts.category
        request.partyCount = Int32(clamping: facts.partyCount)
        request.minorsInvolved = facts.minorsInvolved
        request.threatOfViolence = facts.threatOfViolence
        request.threatOfSelfHarm = facts.threatOfSelfHarm
        request.repeatIncident = facts.repeatIncident
        request.priorPoliceCalls = Int32(clamping: facts.priorPoliceCalls)
        request.incidentID = facts.incidentID?.wire ?? ""
        request.violenceOccurred = facts.violenceOccurred
        request.incidents = Int32(clamping: facts.incidents)
        request.failedRungs = Int32(clamping: facts.failedRungs)
        request.escalations = Int32(clamping: facts.escalations)
        request.overdueSummons = Int32(clamping: facts.overdueSummons)
        request.openedAt = facts.openedAt?.wireTimestamp ?? ""
        request.asOf = facts.asOf?.wireTimestamp ?? ""
        request.closed = facts.closed
        return request
    }
}

extension CaseFacts {
    /// The facts of an `AssessCase` request, or of one stored. An unreadable time or incident
    /// id counts as absent, as scoring always took it: stored facts must keep scoring.
    init(_ request: Pingan_Risk_V1_AssessCaseRequest) {
        self.init(
            category: request.category, partyCount: Int(request.partyCount), minorsInvolved: request.minorsInvolved,
            threatOfViolence: request.threatOfViolence, threatOfSelfHarm: request.threatOfSelfHarm,
            repeatIncident: request.repeatIncident, violenceOccurred: request.violenceOccurred,
            priorPoliceCalls: Int(request.priorPoliceCalls), incidents: Int(request.incidents), failedRungs: Int(request.failedRungs),
            escalations: Int(request.escalations), overdueSummons: Int(request.overdueSummons),
            openedAt: Date(wireTimestamp: request.openedAt), asOf: Date(wireTimestamp: request.asOf), closed: request.closed,
            incidentID: UUID(uuidString: request.incidentID)
        )
    }
}

extension Reason {
    init(_ reason: Pingan_Risk_V1_Reason) {
        self.init(rule: reason.rule, points: Int(reason.points), explanation: reason.explanation, decisive: reason.decisive)
    }

    var wire: Pingan_Risk_V1_Reason {
        var reason = Pingan_Risk_V1_Reason()
        reason.rule = rule
        reason.points = Int32(clamping: points)
        reason.explanation = explanation
        reason.decisive = decisive
        return reason
    }
}

extension Assessment {
    var wire: Pingan_Risk_V1_Assessment {
        var assessment = Pingan_Risk_V1_Assessment()
        assessment.caseID = caseID.wire
        assessment.villageCode = village.rawValue
        assessment.score = Int32(clamping: score)
        assessment.threshold = Int32(clamping: threshold)
        assessment.reasons = reasons.map(\.wire)
        assessment.warningID = warningID?.wire ?? ""
        assessment.assessedAt = assessedAt.wireTimestamp
        assessment.modelVersion = modelVersion
        assessment.history = history.map(\.wire)
        assessment.level = level.wire
        return assessment
    }
}

extension ScoreChange {
    var wire: Pingan_Risk_V1_ScoreChange {
        var change = Pingan_Risk_V1_ScoreChange()
        change.score = Int32(clamping: score)
        change.modelVersion = modelVersion
        change.assessedAt = assessedAt.wireTimestamp
        change.level = level.wire
        return change
    }
}

extension Warning {
    var wire: Pingan_Risk_V1_Warning {
        var warning = Pingan_Risk_V1_Warning()
        warning.id = id.wire
        warning.caseID = caseID?.wire ?? ""
        warning.centreCode = centre.rawValue
        warning.score = Int32(clamping: score)
        warning.status = status.wire
        warning.raisedAt = raisedAt.wireTimestamp
        warning.villageCode = village.rawValue
        warning.count = Int32(clamping: count)
        warning.assignee = assignee ?? ""
        warning.feedback = feedback ?? ""
        warning.evaluation = evaluation ?? ""
        warning.outcome = outcome ?? ""
        warning.escalatesAt = escalatesAt?.wireTimestamp ?? ""
        warning.steps = steps.map(\.wire)
        warning.level = level.wire
        warning.memberCaseIds = members.map(\.wire)
        warning.rule = rule ?? ""
        warning.rulesVersion = rulesVersion ?? ""
        warning.heldBy = heldBy?.wire ?? ""
        return warning
    }
}

extension WarningStatus {
    var wire: Pingan_Risk_V1_WarningStatus {
        switch self {
        case .raised: .raised
        case .acknowledged: .acknowledged
        case .handling: .handling
        case .fedBack: .fedBack
        case .evaluated: .evaluated
        case .closed: .closed
        }
    }
}

extension RiskLevel {
    var wire: Pingan_Risk_V1_RiskLevel {
        switch self {
        case .general: .general
        case .serious: .serious
        case .major: .major
        }
    }
}

extension WarningStep {
    var wire: Pingan_Risk_V1_WarningStep {
        var step = Pingan_Risk_V1_WarningStep()
        step.at = at.wireTimestamp
        step.kind = kind.rawValue
        step.note = note
        step.actor = actor
        return step
    }
}

extension VillageWarningFacts {
    var wire: Pingan_Risk_V1_VillageWarningFacts {
        var facts = Pingan_Risk_V1_VillageWarningFacts()
        facts.villageCode = village.rawValue
        facts.raised = Int32(clamping: raised)
        facts.acknowledged = Int32(clamping: acknowledged)
        facts.acknowledgedInTime = Int32(clamping: acknowledgedInTime)
        return facts
    }
}
