import Foundation
import PinganConnect
import PinganContracts
import PinganDomain

// The domain's values as responses carry them.

extension DisputeCase {
    /// Parties masked unless a reveal was allowed (and audited) for the caller.
    func wire(revealingParties reveal: Bool) -> Pingan_Dispute_V1_Case {
        var value = Pingan_Dispute_V1_Case()
        value.id = id.wire
        value.incidentID = incidentID?.wire ?? ""
        value.villageCode = village.rawValue
        value.category = category
        value.source = source
        switch status {
        case .open: value.status = .open
        case .resolved: value.status = .resolved
        case .settled: value.status = .settled
        case .closed: value.status = .closed
        }
        value.description_p = description
        value.parties = parties.map { stored in
            var party = Pingan_Grid_V1_Party()
            party.name = reveal ? stored.name : Masking.name(stored.name)
            party.phone = reveal ? stored.phone : Masking.phone(stored.phone)
            party.minor = stored.minor
            return party
        }
        value.threatOfViolence = facts.threatOfViolence
        value.threatOfSelfHarm = facts.threatOfSelfHarm
        value.repeatIncident = facts.repeatIncident
        value.priorPoliceCalls = Int32(facts.priorPoliceCalls)
        value.violenceOccurred = facts.violenceOccurred
        value.minorsInvolved = facts.minorsInvolved
        value.latestSource = latest.source
        value.latestReportedAt = latest.at.wireTimestamp
        value.openedAt = openedAt.wireTimestamp
        value.coordinatorCode = coordinator.rawValue
        value.federatedFrom = federatedFrom?.rawValue ?? ""
        value.personalDataErasedAt = personalDataErasedAt?.wireTimestamp ?? ""
        value.incidents = Int32(incidents)
        if let major {
            value.major = true
            value.majorDepartments = major.departments
            value.residentRepresentatives = Int32(major.residentRepresentatives)
        }
        value.currentRung = currentRung.flatMap { Pingan_Dispute_V1_Rung(rawValue: $0.rawValue) } ?? .unspecified
        return value
    }
}


extension WorkingDeadline {
    var wire: Pingan_Dispute_V1_Deadline {
        var deadline = Pingan_Dispute_V1_Deadline()
        deadline.dueAt = dueAt.wireTimestamp
        deadline.beyondCalendar = beyondCalendar
        return deadline
    }
}

extension DueStep {
    var wire: Pingan_Dispute_V1_DueStep {
        var value = Pingan_Dispute_V1_DueStep()
        value.caseID = caseID.wire
        value.villageCode = village.rawValue
        value.kind = switch kind {
        case .rung: .rung
        case .summonsReport: .summonsReport
        case .summonsFeedback: .summonsFeedback
        case .returnVisit: .returnVisit
        }
        if let rung { value.rung = Pingan_Dispute_V1_Rung(rawValue: rung.rawValue) ?? .unspecified }
        value.departmentName = department
        value.deadline = deadline.wire
        return value
    }
}

extension RungAttempt {
    var wire: Pingan_Dispute_V1_RungAttempt {
        var value = Pingan_Dispute_V1_RungAttempt()
        value.id = id.wire
        value.rung = Pingan_Dispute_V1_Rung(rawValue: rung.rawValue) ?? .unspecified
        value.kind = switch kind {
        case .peoples: .peoples
        case .administrative: .administrative
        case .arbitration: .arbitration
        case .judicial: .judicial
        case .other: .other
        }
        value.lead = lead
        value.participants = participants
        value.bodies = bodies
        value.startedBy = startedBy
        value.startedAt = startedAt.wireTimestamp
        value.deadline = deadline.wire
        value.outcome = switch outcome {
        case .settled: .settled
        case .eased: .eased
        case .failed: .failed
        case nil: .unspecified
        }
        value.outcomeNote = outcomeNote ?? ""
        value.endedAt = endedAt?.wireTimestamp ?? ""
        value.centreCode = centre.rawValue
        value.startEnteredAt = startEnteredAt.wireTimestamp
        value.endedBy = endedBy ?? ""
        value.endEnteredAt = endEnteredAt?.wireTimestamp ?? ""
        return value
    }
}

extension Agreement {
    var wire: Pingan_Dispute_V1_Agreement {
        var value = Pingan_Dispute_V1_Agreement()
        value.id = id.wire
        value.terms = terms
        value.signedOn = signedOn.description
        value.signatories = signatories
        return value
    }
}

extension ReturnVisit {
    var wire: Pingan_Dispute_V1_ReturnVisit {
        var value = Pingan_Dispute_V1_ReturnVisit()
        value.id = id.wire
        value.deadline = deadline.wire
        value.outcome = switch outcome {
        case .confirmed: .confirmed
        case .unsettled: .unsettled
        case nil: .unspecified
        }
        value.note = note ?? ""
        value.visitedAt = visitedAt?.wireTimestamp ?? ""
        value.visitedBy = visitedBy ?? ""
        value.enteredAt = enteredAt?.wireTimestamp ?? ""
        return value
    }
}

extension Summons {
    var wire: Pingan_Dispute_V1_Summons {
        var value = Pingan_Dispute_V1_Summons()
        value.id = id.wire
        value.departmentID = department.id.wire
        value.departmentName = department.name
        value.summonedByCentre = summonedBy.rawValue
        value.reportDeadline = reportDeadline.wire
        value.feedbackDeadline = feedbackDeadline.wire
        value.reportedAt = reportedAt?.wireTimestamp ?? ""
        value.feedback = feedback ?? ""
        value.fedBackAt = fedBackAt?.wireTimestamp ?? ""
        return value
    }
}

extension Department {
    var wire: Pingan_Dispute_V1_Department {
        var value = Pingan_Dispute_V1_Department()
        value.id = id.wire
        value.centreCode = centre.rawValue
        value.name = name
        value.apiKeyName = apiKeyName
        return value
    }
}

extension CaseReport {
    var wire: Pingan_Dispute_V1_CaseReport {
        var value = Pingan_Dispute_V1_CaseReport()
        value.id = id.wire
        value.caseID = caseID.wire
        value.source = source
        value.incidentID = incidentID?.wire ?? ""
        value.reportedAt = reportedAt.wireTimestamp
        value.description_p = description
        value.threatOfViolence = facts.threatOfViolence
        value.threatOfSelfHarm = facts.threatOfSelfHarm
        value.violenceOccurred = facts.violenceOccurred
        value.minorsInvolved = facts.minorsInvolved
        value.priorPoliceCalls = Int32(facts.priorPoliceCalls)
        value.openedCase = openedCase
        value.backfilled = backfilled
        return value
    }
}

extension FiledReport {
    /// No parties and no description: only what became of the report.
    var wire: Pingan_Dispute_V1_MyReport {
        var value = Pingan_Dispute_V1_MyReport()
        value.id = report.id.wire
        value.incidentID = report.incidentID?.wire ?? ""
        value.reportedAt = report.reportedAt.wireTimestamp
        value.category = category
        value.openedCase = report.openedCase
        value.caseID = report.caseID.wire
        switch status {
        case .open: value.caseStatus = .open
        case .resolved: value.caseStatus = .resolved
        case .settled: value.caseStatus = .settled
        case .closed: value.caseStatus = .closed
        }
        value.currentRung = currentRung.flatMap { Pingan_Dispute_V1_Rung(rawValue: $0.rawValue) } ?? .unspecified
        value.coordinatorCode = coordinator.rawValue
        return value
    }
}

extension TimelineEntry {
    var wire: Pingan_Dispute_V1_TimelineEntry {
        var entry = Pingan_Dispute_V1_TimelineEntry()
        entry.at = at.wireTimestamp
        entry.kind = kind
        entry.note = note
        entry.actor = actor
        return entry
    }
}
