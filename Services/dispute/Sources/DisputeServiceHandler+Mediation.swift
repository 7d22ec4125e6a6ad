import Foundation
import PinganAccess
import PinganConnect
import PinganContracts
import PinganDomain

/// The mediation steps of `pingan.dispute.v1.DisputeService`: the ladder, agreements,
/// return visits, summons, escalation and the calendar. Each loads the case, lets
/// ``MediationRules`` decide, and has the store apply the decision in one transaction.
extension DisputeServiceHandler {
    func startRung(_ request: Pingan_Dispute_V1_StartRungRequest, _ context: ConnectContext) async throws -> Pingan_Dispute_V1_StartRungResponse {
        let principal = try verifier.principal(context, for: DisputeServiceMethods.startRung)
        let id = try UUID.field(request.caseID, "case_id")
        guard let rung = LadderRung(rawValue: request.rung.rawValue) else { throw ConnectError.invalidArgument(field: "rung", "must be one of the five rungs") }
        let kind = try Self.kind(request.kind)
        let lead = try String.field(request.lead, "lead", upTo: 100)
        let participants = try Self.names(request.participants, "participants")
        let bodies = try Self.names(request.bodies, "bodies")
        let reason = try String.field(request.skipReason, "skip_reason", length: 0...2000)
        let startedAt = try Date.field(request.startedAt, "started_at")
        let rules = try await rules()
        let file = try await change(id, named: request.caseID, by: principal) { file, now in
            try rules.startRung(file, rung: rung, kind: kind, lead: lead, participants: participants, bodies: bodies,
                                skipReason: reason.isEmpty ? nil : reason, startedAt: startedAt, by: principal, now: now)
        }
        var response = Pingan_Dispute_V1_StartRungResponse()
        if let attempt = file.openAttempt {
            calendar.observe([attempt.deadline])
            response.attempt = attempt.wire
        }
        return response
    }

    func endRung(_ request: Pingan_Dispute_V1_EndRungRequest, _ context: ConnectContext) async throws -> Pingan_Dispute_V1_EndRungResponse {
        let principal = try verifier.principal(context, for: DisputeServiceMethods.endRung)
        let id = try UUID.field(request.caseID, "case_id")
        let attempt = try UUID.field(request.attemptID, "attempt_id")
        let outcome: RungOutcome
        switch request.outcome {
        case .settled: outcome = .settled
        case .eased: outcome = .eased
        case .failed: outcome = .failed
        default: throw ConnectError.invalidArgument(field: "outcome", "must be SETTLED, EASED or FAILED")
        }
        let note = try String.field(request.note, "note", upTo: 2000)
        var agreement: Agreement?
        if request.hasAgreement {
            let signedOn = Day(parsing: request.agreement.signedOn)
            guard let signedOn else { throw ConnectError.invalidArgument(field: "agreement.signed_on", "must be a date as YYYY-MM-DD") }
            let signatories = try Self.names(request.agreement.signatories, "agreement.signatories")
            guard !signatories.isEmpty else { throw ConnectError.invalidArgument(field: "agreement.signatories", "at least one signatory is required") }
            agreement = Agreement(id: UUID.random(), terms: try String.field(request.agreement.terms, "agreement.terms", upTo: 4000), signedOn: signedOn, signatories: signatories)
        }
        let endedAt = try Date.field(request.endedAt, "ended_at")
        let rules = try await rules()
        let file = try await change(id, named: request.caseID, by: principal) { file, now in
            try rules.endRung(file, attempt: attempt, outcome: outcome, note: note, agreement: agreement, endedAt: endedAt, by: principal, now: now)
        }
        var response = Pingan_Dispute_V1_EndRungResponse()
        if let ended = file.attempts.first(where: { $0.id == attempt }) { response.attempt = ended.wire }
        response.case = file.record.wire(revealingParties: false)
        if outcome == .settled, let visit = file.returnVisit {
            calendar.observe([visit.deadline])
            response.returnVisit = visit.wire
        }
        return response
    }

    func recordReturnVisit(_ request: Pingan_Dispute_V1_RecordReturnVisitRequest, _ context: ConnectContext) async throws -> Pingan_Dispute_V1_RecordReturnVisitResponse {
        let principal = try verifier.principal(context, for: DisputeServiceMethods.recordReturnVisit)
        let id = try UUID.field(request.caseID, "case_id")
        let outcome: ReturnVisitOutcome
        switch request.outcome {
        case .confirmed: outcome = .confirmed
        case .unsettled: outcome = .unsettled
        default: throw ConnectError.invalidArgument(field: "outcome", "must be CONFIRMED or UNSETTLED")
        }
        let note = try String.field(request.note, "note", upTo: 2000)
        let visitedAt = try Date.field(request.visitedAt, "visited_at")
        let rules = try await rules()
        let file = try await change(id, named: request.caseID, by: principal) { file, now in
            try rules.recordReturnVisit(file, outcome: outcome, note: note, visitedAt: visitedAt, by: principal, now: now)
        }
        var response = Pingan_Dispute_V1_RecordReturnVisitResponse()
        response.case = file.record.wire(revealingParties: false)
        return response
    }

    // MARK: Departments and summons

    func registerDepartment(_ request: Pingan_Dispute_V1_RegisterDepartmentRequest, _ context: ConnectContext) async throws -> Pingan_Dispute_V1_RegisterDepartmentResponse {
        let principal = try verifier.principal(context, for: DisputeServiceMethods.registerDepartment)
        let centre = try DivisionCode.field(request.centreCode, "centre_code")
        try principal.require(centre, field: "centre_code")
        let name = try String.field(request.name, "name", upTo: 100)
        let key = request.apiKeyName.trimmingCharacters(in: .whitespaces)
        guard (1...100).contains(key.count), key.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }) else {
            throw ConnectError.invalidArgument(field: "api_key_name", "must be the gateway API key's name: 1 to 100 letters, digits, - _ .")
        }
        var response = Pingan_Dispute_V1_RegisterDepartmentResponse()
        do {
            response.department = try await departments.registerDepartment(centre: centre, name: name, apiKeyName: key).wire
        } catch CaseStoreError.duplicateDepartment(let holder) {
            let which = holder.map { ": department \($0.wire)" } ?? ""
            throw ConnectError(.alreadyExists, "a department named \(name) or with API key \(key) is registered already\(which)")
        }
        return response
    }

    func listDepartments(_ request: Pingan_Dispute_V1_ListDepartmentsRequest, _ context: ConnectContext) async throws -> Pingan_Dispute_V1_ListDepartmentsResponse {
        let principal = try verifier.principal(context, for: DisputeServiceMethods.listDepartments)
        let centre = try DivisionCode.field(request.centreCode, "centre_code")
        try principal.require(centre, field: "centre_code")
        let limit = try PageSize.field(request.pageSize, default: 50, max: Self.maxPageSize)
        let rows = try await departments.departments(under: centre, after: try PageCursor(token: request.pageToken), limit: limit + 1)
        var response = Pingan_Dispute_V1_ListDepartmentsResponse()
        let page = Page(rows, limit: limit, cursor: \.cursor)
        response.departments = page.items.map(\.department.wire)
        response.nextPageToken = page.nextPageToken
        return response
    }

    func summonDepartments(_ request: Pingan_Dispute_V1_SummonDepartmentsRequest, _ context: ConnectContext) async throws -> Pingan_Dispute_V1_SummonDepartmentsResponse {
        let principal = try verifier.principal(context, for: DisputeServiceMethods.summonDepartments)
        let id = try UUID.field(request.caseID, "case_id")
        guard !request.departmentIds.isEmpty, request.departmentIds.count <= 20 else {
            throw ConnectError.invalidArgument(field: "department_ids", "name 1 to 20 departments")
        }
        let ids = try request.departmentIds.enumerated().map { try UUID.field($1, "department_ids[\($0)]") }
        // The case first: a caller who may not see it, or may not summon for it, learns nothing
        // about the departments.
        try CaseAction.summon.require(by: principal.centre, on: try await visibleFile(id, named: request.caseID, to: principal).record)
        let found = try await departments.departments(ids)
        var departments: [Department] = []
        for (index, wanted) in ids.enumerated() where !departments.contains(where: { $0.id == wanted }) {
            // A department answers summons from the centre it belongs to or a centre above it;
            // any other is unknown here.
            guard let department = found.first(where: { $0.id == wanted }), principal.covers(department.centre)
            else { throw ConnectError.invalidArgument(field: "department_ids[\(index)]", "no registered department \(request.departmentIds[index]) serves this centre") }
            departments.append(department)
        }
        let rules = try await rules()
        let file = try await change(id, named: request.caseID, by: principal) { file, now in
            for department in departments where !department.centre.contains(file.record.village) {
                throw ConnectError.invalidArgument(field: "department_ids", "\(department.name) does not serve village \(file.record.village)")
            }
            return try rules.summon(file, departments: departments, by: principal, now: now)
        }
        let issued = file.summons.filter { summons in departments.contains { $0.id == summons.department.id } && summons.fedBackAt == nil }
        calendar.observe(issued.flatMap { [$0.reportDeadline, $0.feedbackDeadline] })
        var response = Pingan_Dispute_V1_SummonDepartmentsResponse()
        response.summons = issued.map(\.wire)
        return response
    }

    func reportToSummons(_ request: Pingan_Dispute_V1_ReportToSummonsRequest, _ context: ConnectContext) async throws -> Pingan_Dispute_V1_ReportToSummonsResponse {
        let principal = try verifier.principal(context, for: DisputeServiceMethods.reportToSummons)
        let summons = try UUID.field(request.summonsID, "summons_id")
        let file = try await changeSummons(summons, named: request.summonsID, by: principal) { file, now, rules in
            try rules.report(file, summons: summons, by: principal, now: now)
        }
        var response = Pingan_Dispute_V1_ReportToSummonsResponse()
        if let updated = file.summons.first(where: { $0.id == summons }) { response.summons = updated.wire }
        return response
    }

    func feedBackOnSummons(_ request: Pingan_Dispute_V1_FeedBackOnSummonsRequest, _ context: ConnectContext) async throws -> Pingan_Dispute_V1_FeedBackOnSummonsResponse {
        let principal = try verifier.principal(context, for: DisputeServiceMethods.feedBackOnSummons)
        let summons = try UUID.field(request.summonsID, "summons_id")
        let feedback = try String.field(request.feedback, "feedback", upTo: 4000)
        let file = try await changeSummons(summons, named: request.summonsID, by: principal) { file, now, rules in
            try rules.feedBack(file, summons: summons, feedback: feedback, by: principal, now: now)
        }
        var response = Pingan_Dispute_V1_FeedBackOnSummonsResponse()
        if let updated = file.summons.first(where: { $0.id == summons }) { response.summons = updated.wire }
        return response
    }

    // MARK: Levels, major disputes, categories

    func escalateCase(_ request: Pingan_Dispute_V1_EscalateCaseRequest, _ context: ConnectContext) async throws -> Pingan_Dispute_V1_EscalateCaseResponse {
        let principal = try verifier.principal(context, for: DisputeServiceMethods.escalateCase)
        let id = try UUID.field(request.caseID, "case_id")
        let reason = try String.field(request.reason, "reason", upTo: 2000)
        let rules = try await rules()
        let file = try await change(id, named: request.caseID, by: principal) { file, _ in try rules.escalate(file, reason: reason, by: principal) }
        var response = Pingan_Dispute_V1_EscalateCaseResponse()
        response.case = file.record.wire(revealingParties: false)
        return response
    }

    func requestEscalation(_ request: Pingan_Dispute_V1_RequestEscalationRequest, _ context: ConnectContext) async throws -> Pingan_Dispute_V1_RequestEscalationResponse {
        let principal = try verifier.principal(context, for: DisputeServiceMethods.requestEscalation)
        let id = try UUID.field(request.caseID, "case_id")
        let reason = try String.field(request.reason, "reason", upTo: 2000)
        let rules = try await rules()
        let file = try await change(id, named: request.caseID, by: principal) { file, _ in try rules.requestEscalation(file, reason: reason, by: principal) }
        var response = Pingan_Dispute_V1_RequestEscalationResponse()
        response.case = file.record.wire(revealingParties: false)
        return response
    }

    func handBackCase(_ request: Pingan_Dispute_V1_HandBackCaseRequest, _ context: ConnectContext) async throws -> Pingan_Dispute_V1_HandBackCaseResponse {
        let principal = try verifier.principal(context, for: DisputeServiceMethods.handBackCase)
        let id = try UUID.field(request.caseID, "case_id")
        let note = try String.field(request.note, "note", upTo: 2000)
        let rules = try await rules()
        var response = Pingan_Dispute_V1_HandBackCaseResponse()
        let found = try visible(try await cases.file(id), named: request.caseID, to: principal)
        if found.record.federatedFrom != nil {
            // The city hands back a county's case it coordinates: the same rule decides, and
            // the county's mesh, which alone changes the case, applies it.
            response.case = try await handBack(copy: found, note: note, by: principal, rules: rules).wire(revealingParties: false)
            response.sentToOwner = true
            return response
        }
        let file = try await change(id, named: request.caseID, by: principal) { file, _ in try rules.handBack(file, note: note, by: principal) }
        response.case = file.record.wire(revealingParties: false)
        return response
    }

    func markMajorDispute(_ request: Pingan_Dispute_V1_MarkMajorDisputeRequest, _ context: ConnectContext) async throws -> Pingan_Dispute_V1_MarkMajorDisputeResponse {
        let principal = try verifier.principal(context, for: DisputeServiceMethods.markMajorDispute)
        let id = try UUID.field(request.caseID, "case_id")
        let departments = try Self.names(request.departments, "departments")
        guard (0...100_000).contains(request.residentRepresentatives) else {
            throw ConnectError.invalidArgument(field: "resident_representatives", "must be between 0 and 100000")
        }
        let major = MajorDispute(departments: departments, residentRepresentatives: Int(request.residentRepresentatives))
        let rules = try await rules()
        let file = try await change(id, named: request.caseID, by: principal) { file, _ in try rules.markMajor(file, major, by: principal) }
        var response = Pingan_Dispute_V1_MarkMajorDisputeResponse()
        response.case = file.record.wire(revealingParties: false)
        return response
    }

    func reclassifyCase(_ request: Pingan_Dispute_V1_ReclassifyCaseRequest, _ context: ConnectContext) async throws -> Pingan_Dispute_V1_ReclassifyCaseResponse {
        let principal = try verifier.principal(context, for: DisputeServiceMethods.reclassifyCase)
        let id = try UUID.field(request.caseID, "case_id")
        let category = try ReportFields.category(request.category)
        let reason = try String.field(request.reason, "reason", upTo: 2000)
        let rules = try await rules()
        let file = try await change(id, named: request.caseID, by: principal) { file, _ in try rules.reclassify(file, to: category, reason: reason, by: principal) }
        var response = Pingan_Dispute_V1_ReclassifyCaseResponse()
        response.case = file.record.wire(revealingParties: false)
        return response
    }

    /// Loads a year's official calendar: administrators of the deployment's root (the city).
    func loadCalendar(_ request: Pingan_Dispute_V1_LoadCalendarRequest, _ context: ConnectContext) async throws -> Pingan_Dispute_V1_LoadCalendarResponse {
        let principal = try verifier.principal(context, for: DisputeServiceMethods.loadCalendar)
        guard principal.centre.level == .city else { throw ConnectError(.permissionDenied, "only the city centre's administrators load the official calendar") }
        let rows: [WorkdayCalendar.Exception]
        do {
            rows = try WorkdayCalendar.parse(csv: request.csv)
        } catch {
            throw ConnectError.invalidArgument(field: "csv", error.description)
        }
        let years = try await calendar.store.loadCalendar(rows)
        await calendar.reset()
        var response = Pingan_Dispute_V1_LoadCalendarResponse()
        response.years = years.sorted().map(Int32.init)
        response.days = Int32(rows.count)
        return response
    }

    // MARK: Helpers

    func rules() async throws -> MediationRules {
        MediationRules(calendar: try await calendar.current(), deadlines: deadlines, backdating: backdating)
    }

    /// Loads the case the caller may see, lets `decide` rule on it at the current time, and
    /// has the store apply the decision; a case elsewhere is `not_found` exactly as a missing
    /// one. A case changed by someone else in between is decided again on its new file.
    func change(
        _ id: UUID, named name: String, by principal: Principal,
        _ decide: (CaseFile, Date) throws -> [CaseChange]
    ) async throws -> CaseFile {
        for _ in 1...Self.decisionAttempts {
            let now = now()
            let file = try visible(try await cases.file(id), named: name, to: principal)
            let changes = try decide(file, now)
            do {
                return try await cases.apply(changes, to: file, now: now)
            } catch CaseStoreError.stale {
                continue
            }
        }
        throw ConnectError(.aborted, "case \(name) kept changing while this step was decided; try again")
    }

    /// How often a step is decided again when the case changed under it.
    static let decisionAttempts = 5

    /// The same for a department acting on its summons: the summons must be its own.
    func changeSummons(
        _ summons: UUID, named name: String, by principal: Principal,
        _ decide: (CaseFile, Date, MediationRules) throws -> [CaseChange]
    ) async throws -> CaseFile {
        guard let caseID = try await cases.caseOfSummons(summons) else { throw ConnectError(.notFound, "summons \(name) not found") }
        let rules = try await rules()
        do {
            return try await change(caseID, named: caseID.wire, by: principal) { file, now in try decide(file, now, rules) }
        } catch let error as ConnectError where error.code == .notFound {
            throw ConnectError(.notFound, "summons \(name) not found")
        } catch MediationRefusal.notSummoned {
            throw ConnectError(.notFound, "summons \(name) not found")
        }
    }


    static func names(_ names: [String], _ field: String) throws -> [String] {
        guard names.count <= 100 else { throw ConnectError.invalidArgument(field: field, "at most 100 entries") }
        return try names.enumerated().map { try String.field($1, "\(field)[\($0)]", upTo: 100) }
    }

    static func kind(_ kind: Pingan_Dispute_V1_MediationKind) throws -> MediationKind {
        switch kind {
        case .unspecified, .peoples: .peoples
        case .administrative: .administrative
        case .arbitration: .arbitration
        case .judicial: .judicial
        case .other: .other
        case .UNRECOGNIZED(let value): throw ConnectError.invalidArgument(field: "kind", "unknown value \(value)")
        }
    }
}

extension MediationRefusal: ConnectErrorConvertible {
    var connectError: ConnectError? {
        switch self {
        case .notActive(let status):
            ConnectError(.failedPrecondition, "the case is \(status.rawValue); only an open case is mediated")
        case .rungStillOpen(let rung):
            ConnectError(.failedPrecondition, "rung \(rung.rawValue) is still open; end it with its outcome first")
        case let .outOfOrder(requested, next):
            ConnectError(.failedPrecondition, "rung: rung \(requested.rawValue) cannot start now; the next is rung \(next.rawValue) (a rung opens only when the one below failed)")
        case .ladderExhausted:
            ConnectError(.failedPrecondition, "rung: every rung of the ladder failed; escalate the case to the level above")
        case let .skipNeedsReason(requested, next, eased) where eased > 0:
            ConnectError.invalidArgument(
                field: "skip_reason",
                "rung \(next.rawValue) has not failed: it eased tension \(eased) time(s) without a settlement, and opens rung \(next.rawValue + 1) once an attempt at it fails or \(LadderRung.easedAttemptsToFail) ease it; starting rung \(requested.rawValue) now skips it, so record why"
            )
        case let .skipNeedsReason(requested, next, _):
            ConnectError.invalidArgument(field: "skip_reason", "starting rung \(requested.rawValue) skips rung \(next.rawValue), which has not been tried; record why")
        case .levelTooLow(let rung):
            ConnectError(.permissionDenied, "rung: rung \(rung.rawValue) is run by the \(rung.owningLevel.rawValue) centre or above")
        case .notCoordinator(let centre):
            ConnectError(.permissionDenied, "the case is coordinated by centre \(centre)")
        case let .onlyTheCoordinator(action, centre) where action == .escalate:
            ConnectError(.permissionDenied, "only the coordinating centre \(centre) may escalate this case; ask it with RequestEscalation")
        case let .onlyTheCoordinator(action, centre):
            ConnectError(.permissionDenied, "only the coordinating centre \(centre) may \(action.rawValue) on this case")
        case .coordinatorEscalates:
            ConnectError(.failedPrecondition, "this centre coordinates the case: it escalates with EscalateCase")
        case .noOpenAttempt:
            ConnectError(.failedPrecondition, "attempt_id: it is not the case's open rung")
        case .settlementNeedsAgreement:
            ConnectError.invalidArgument(field: "agreement", "a settlement needs the signed agreement")
        case .agreementOnlyForSettlement:
            ConnectError.invalidArgument(field: "agreement", "only a settlement has an agreement")
        case .noReturnVisitDue:
            ConnectError(.failedPrecondition, "no return visit is due: the case is not settled")
        case .notSummoned:
            ConnectError(.notFound, "summons not found")
        case .feedbackBeforeReport:
            ConnectError(.failedPrecondition, "report to the summons before feeding back")
        case .noLevelAbove:
            ConnectError(.failedPrecondition, "the case is coordinated by the city; there is no level above")
        case .notEscalated:
            ConnectError(.failedPrecondition, "the case was not escalated; there is nothing to hand back")
        case .alreadySummoned(let name):
            ConnectError(.alreadyExists, "department_ids: \(name) is already summoned to this case")
        case let .majorTooSmall(field, minimum):
            ConnectError.invalidArgument(field: field, "a major dispute (1350) needs at least \(minimum)")
        case .backdated(let refusal):
            ConnectError.invalidArgument(field: refusal.field, refusal.description)
        }
    }
}
