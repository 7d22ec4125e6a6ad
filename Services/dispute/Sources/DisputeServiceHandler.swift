import Foundation
import PinganAccess
import PinganConnect
import PinganContracts
import PinganDomain
import PinganOutbox

/// `pingan.dispute.v1.DisputeService`: one method per RPC, named as in the `.proto`. The
/// mediation steps are in `DisputeServiceHandler+Mediation.swift`.
struct DisputeServiceHandler: Sendable {
    static let maxPageSize = 200
    /// How many timeline entries GetCase carries, newest first; ListCaseTimeline has the rest.
    static let caseTimelineEntries = 50

    let cases: any CaseStore
    let departments: any DepartmentStore
    let reports: any CaseReports
    let verifier: PrincipalVerifier
    let calendar: CalendarCache
    let deadlines: StepDeadlines
    /// How far back a step may be recorded (补录).
    let backdating: Backdating
    /// The time of day, injected so deadline tests control it.
    let now: @Sendable () -> Date
    /// The city's orders to counties that run their own mesh (handing back their cases).
    let orders: FederationOrders
    let peers: FederationPeers

    func register(into routes: inout ConnectRoutes, events: inout EventConsumers) {
        events.on(DisputeServiceMethods.openCase) { request, event, _ in try await openCase(request, event) }
        events.readAhead { try await readAhead($0, in: $1) }
        routes.register(DisputeServiceMethods.intakeCase) { try await intakeCase($0, $1) }
        routes.register(DisputeServiceMethods.getCase) { try await getCase($0, $1) }
        routes.register(DisputeServiceMethods.listCaseReports) { try await listCaseReports($0, $1) }
        routes.register(DisputeServiceMethods.listMyReports) { try await listMyReports($0, $1) }
        routes.register(DisputeServiceMethods.listMySummons) { try await listMySummons($0, $1) }
        routes.register(DisputeServiceMethods.listCaseTimeline) { try await listCaseTimeline($0, $1) }
        routes.register(DisputeServiceMethods.listCases) { try await listCases($0, $1) }
        routes.register(DisputeServiceMethods.listDueSteps) { try await listDueSteps($0, $1) }
        routes.register(DisputeServiceMethods.exportCases) { try await exportCases($0, $1) }
        routes.register(DisputeServiceMethods.resolveCase) { try await resolveCase($0, $1) }
        routes.register(DisputeServiceMethods.caseFacts) { try await caseFacts($0, $1) }
        routes.register(DisputeServiceMethods.startRung) { try await startRung($0, $1) }
        routes.register(DisputeServiceMethods.endRung) { try await endRung($0, $1) }
        routes.register(DisputeServiceMethods.recordReturnVisit) { try await recordReturnVisit($0, $1) }
        routes.register(DisputeServiceMethods.registerDepartment) { try await registerDepartment($0, $1) }
        routes.register(DisputeServiceMethods.listDepartments) { try await listDepartments($0, $1) }
        routes.register(DisputeServiceMethods.summonDepartments) { try await summonDepartments($0, $1) }
        routes.register(DisputeServiceMethods.reportToSummons) { try await reportToSummons($0, $1) }
        routes.register(DisputeServiceMethods.feedBackOnSummons) { try await feedBackOnSummons($0, $1) }
        routes.register(DisputeServiceMethods.escalateCase) { try await escalateCase($0, $1) }
        routes.register(DisputeServiceMethods.requestEscalation) { try await requestEscalation($0, $1) }
        routes.register(DisputeServiceMethods.handBackCase) { try await handBackCase($0, $1) }
        routes.register(DisputeServiceMethods.markMajorDispute) { try await markMajorDispute($0, $1) }
        routes.register(DisputeServiceMethods.reclassifyCase) { try await reclassifyCase($0, $1) }
        routes.register(DisputeServiceMethods.loadCalendar) { try await loadCalendar($0, $1) }
    }

    // MARK: Intake

    /// Delivered by grid-service's outbox relay, never by people.
    func openCase(_ request: Pingan_Dispute_V1_OpenCaseRequest, _ event: EventDelivery) async throws -> Pingan_Dispute_V1_OpenCaseResponse {
        var response = Pingan_Dispute_V1_OpenCaseResponse()
        response.case = try await cases.open(try Self.newCase(request), applying: event, now: now()).wire(revealingParties: false)
        return response
    }

    /// What a batch of incidents will look for, read in one round trip before they open: a
    /// relay's batch then costs dispute-service one round trip, not one per incident.
    /// Events that are not incidents, or not valid ones, end the read-ahead; they and the
    /// rest run as they come.
    func readAhead(_ events: [Pingan_Events_V1_Event], in batch: EventBatch) async throws {
        var incidents: [(event: UUID, newCase: NewCase)] = []
        for event in events {
            guard event.method == DisputeServiceMethods.openCase.path, let id = UUID(uuidString: event.id),
                  let request = try? Pingan_Dispute_V1_OpenCaseRequest(serializedBytes: event.message),
                  let newCase = try? Self.newCase(request)
            else { break }
            incidents.append((id, newCase))
        }
        // One incident gains nothing: it reads in the round trip that records it.
        guard incidents.count > 1 else { return }
        try await cases.readAhead(incidents, in: batch, now: now())
    }

    static func newCase(_ request: Pingan_Dispute_V1_OpenCaseRequest) throws -> NewCase {
        NewCase(
            incidentID: try UUID.field(request.incidentID, "incident_id"),
            village: try DivisionCode.field(request.villageCode, "village_code"),
            category: request.category, source: request.source, description: request.description_p,
            parties: request.parties.map { Party(name: $0.name, phone: $0.phone, minor: $0.minor) },
            facts: CaseFacts(
                threatOfViolence: request.threatOfViolence, threatOfSelfHarm: request.threatOfSelfHarm,
                repeatIncident: request.repeatIncident, priorPoliceCalls: Int(request.priorPoliceCalls)
            ),
            reportedBy: request.reportedBy.isEmpty ? nil : String(request.reportedBy.prefix(200))
        )
    }

    /// People and department systems report a dispute from any source but a grid; a retried
    /// request (the same `request_id`) opens one case.
    func intakeCase(_ request: Pingan_Dispute_V1_IntakeCaseRequest, _ context: ConnectContext) async throws -> Pingan_Dispute_V1_IntakeCaseResponse {
        let principal = try verifier.principal(context, for: DisputeServiceMethods.intakeCase)
        let requestID = try UUID.field(request.requestID, "request_id")
        let village = try DivisionCode.field(request.villageCode, "village_code")
        guard village.level == .village else { throw ConnectError.invalidArgument(field: "village_code", "\(village) is a \(village.level.rawValue), not a village") }
        try principal.require(village, field: "village_code")
        switch request.source {
        case .unspecified: throw ConnectError.invalidArgument(field: "source", "is required")
        case .gridReport: throw ConnectError.invalidArgument(field: "source", "grid reports arrive from grid-service; use GridService/ReportIncident")
        case .UNRECOGNIZED(let value): throw ConnectError.invalidArgument(field: "source", "unknown value \(value)")
        default: break
        }
        try ReportFields.priorPoliceCalls(request.priorPoliceCalls)
        let newCase = NewCase(
            incidentID: nil, village: village, category: try ReportFields.category(request.category), source: request.source,
            description: try ReportFields.description(request.description_p),
            // Phones as people write them (138 0013 8000, +86-138…), kept as their 11 digits.
            parties: try ReportFields.parties(request.parties).map { Party(name: $0.name, phone: $0.phone, minor: $0.minor) },
            facts: CaseFacts(
                threatOfViolence: request.threatOfViolence, threatOfSelfHarm: request.threatOfSelfHarm,
                repeatIncident: request.repeatIncident, priorPoliceCalls: Int(request.priorPoliceCalls),
                violenceOccurred: request.violenceOccurred
            )
        )
        let opened = try await cases.intake(newCase, requestID: requestID, subject: principal.subject, now: now())
        var response = Pingan_Dispute_V1_IntakeCaseResponse()
        response.case = opened.case.wire(revealingParties: false)
        response.joinedExisting = opened.joined
        return response
    }

    // MARK: Reading

    func getCase(_ request: Pingan_Dispute_V1_GetCaseRequest, _ context: ConnectContext) async throws -> Pingan_Dispute_V1_GetCaseResponse {
        let principal = try verifier.principal(context, for: DisputeServiceMethods.getCase)
        let id = try UUID.field(request.caseID, "case_id")
        let limit = Self.caseTimelineEntries
        let found = try await cases.fileWithTimeline(id, before: nil, limit: limit + 1)
        let file = try visible(found?.file, named: request.caseID, to: principal)
        let timeline = Page(found?.timeline ?? [], limit: limit, cursor: \.cursor)
        if request.revealParties {
            guard principal.has(.mediator) else {
                throw ConnectError(.permissionDenied, "reveal_parties: only mediators may see parties' names and phones")
            }
            try await cases.auditPersonalDataRead(case: id, by: principal, rule: "mediator in the case's jurisdiction (\(principal.centre))")
        }
        var response = Pingan_Dispute_V1_GetCaseResponse()
        response.case = file.record.wire(revealingParties: request.revealParties)
        response.timeline = timeline.items.map(\.entry.wire)
        response.timelineNextPageToken = timeline.nextPageToken
        // Rungs and summons are sent whole: the ladder bounds the attempts and a whistle names
        // a few departments, unlike reports and the timeline, which grow with every incident.
        response.rungs = file.attempts.map(\.wire)
        if let agreement = file.agreement { response.agreement = agreement.wire }
        if let visit = file.returnVisit { response.returnVisit = visit.wire }
        response.summons = file.summons.map(\.wire)
        return response
    }

    /// The reports that opened or joined a case, newest first; seen by whoever may see the case.
    func listCaseReports(_ request: Pingan_Dispute_V1_ListCaseReportsRequest, _ context: ConnectContext) async throws -> Pingan_Dispute_V1_ListCaseReportsResponse {
        let principal = try verifier.principal(context, for: DisputeServiceMethods.listCaseReports)
        let id = try UUID.field(request.caseID, "case_id")
        let limit = try PageSize.field(request.pageSize, default: 50, max: Self.maxPageSize)
        let cursor = try PageCursor(token: request.pageToken)
        let found = try await cases.fileWithReports(id, after: cursor, limit: limit + 1)
        _ = try visible(found?.file, named: request.caseID, to: principal)
        let page = Page(found?.reports ?? [], limit: limit, cursor: \.cursor)
        var response = Pingan_Dispute_V1_ListCaseReportsResponse()
        response.reports = page.items.map(\.report.wire)
        response.nextPageToken = page.nextPageToken
        return response
    }

    /// The reports the caller filed, newest first, each with where its case stands; only the
    /// caller's own, whatever its jurisdiction, and never the parties.
    func listMyReports(_ request: Pingan_Dispute_V1_ListMyReportsRequest, _ context: ConnectContext) async throws -> Pingan_Dispute_V1_ListMyReportsResponse {
        let principal = try verifier.principal(context, for: DisputeServiceMethods.listMyReports)
        let limit = try PageSize.field(request.pageSize, default: 50, max: Self.maxPageSize)
        let cursor = try PageCursor(token: request.pageToken)
        let rows = try await cases.reports(filedBy: principal.subject, after: cursor, limit: limit + 1)
        let page = Page(rows, limit: limit, cursor: \.cursor)
        var response = Pingan_Dispute_V1_ListMyReportsResponse()
        response.reports = page.items.map(\.filed.wire)
        response.nextPageToken = page.nextPageToken
        return response
    }

    /// The summons addressed to the caller's department, newest first, each with its case
    /// (never the parties); none for a key with no registered department.
    func listMySummons(_ request: Pingan_Dispute_V1_ListMySummonsRequest, _ context: ConnectContext) async throws -> Pingan_Dispute_V1_ListMySummonsResponse {
        let principal = try verifier.principal(context, for: DisputeServiceMethods.listMySummons)
        let limit = try PageSize.field(request.pageSize, default: 50, max: Self.maxPageSize)
        let cursor = try PageCursor(token: request.pageToken)
        var response = Pingan_Dispute_V1_ListMySummonsResponse()
        guard let own = try await departments.department(subject: principal.subject) else { return response }
        let rows = try await cases.summons(of: own.id, after: cursor, limit: limit + 1)
        let page = Page(rows, limit: limit, cursor: \.cursor)
        response.summons = page.items.map { row in
            let found = row.case.wire(revealingParties: false)
            return .with {
                $0.summons = row.summons.wire
                $0.caseID = found.id
                $0.villageCode = found.villageCode
                $0.category = found.category
                $0.status = found.status
                $0.description_p = found.description_p
            }
        }
        response.nextPageToken = page.nextPageToken
        return response
    }

    /// A case's timeline, newest first, from where GetCase's (or a previous page) stopped.
    func listCaseTimeline(_ request: Pingan_Dispute_V1_ListCaseTimelineRequest, _ context: ConnectContext) async throws -> Pingan_Dispute_V1_ListCaseTimelineResponse {
        let principal = try verifier.principal(context, for: DisputeServiceMethods.listCaseTimeline)
        let id = try UUID.field(request.caseID, "case_id")
        let limit = try PageSize.field(request.pageSize, default: 50, max: Self.maxPageSize)
        let cursor = try TimelineCursor(token: request.pageToken)
        let found = try await cases.fileWithTimeline(id, before: cursor, limit: limit + 1)
        _ = try visible(found?.file, named: request.caseID, to: principal)
        let page = Page(found?.timeline ?? [], limit: limit, cursor: \.cursor)
        var response = Pingan_Dispute_V1_ListCaseTimelineResponse()
        response.entries = page.items.map(\.entry.wire)
        response.nextPageToken = page.nextPageToken
        return response
    }

    func listCases(_ request: Pingan_Dispute_V1_ListCasesRequest, _ context: ConnectContext) async throws -> Pingan_Dispute_V1_ListCasesResponse {
        let principal = try verifier.principal(context, for: DisputeServiceMethods.listCases)
        let root = try DivisionCode.field(request.divisionCode, "division_code")
        try principal.require(root, field: "division_code")
        let limit = try PageSize.field(request.pageSize, default: 50, max: Self.maxPageSize)
        var filter = CaseFilter(overdueOnly: request.overdueOnly)
        if request.rung != .unspecified {
            guard let rung = LadderRung(rawValue: request.rung.rawValue) else { throw ConnectError.invalidArgument(field: "rung", "unknown value \(request.rung.rawValue)") }
            filter.rung = rung
        }
        if !request.departmentID.isEmpty { filter.department = try UUID.field(request.departmentID, "department_id") }
        if principal.roles == [.department] {
            // A department sees the cases it was summoned to, and no others.
            guard let own = try await departments.department(subject: principal.subject) else { throw ConnectError(.permissionDenied, "this API key is not a registered department") }
            guard filter.department == nil || filter.department == own.id else {
                throw ConnectError(.permissionDenied, "department_id: a department lists only the cases it was summoned to")
            }
            filter.department = own.id
        }
        let cursor = try PageCursor(token: request.pageToken)
        let rows = try await cases.list(under: root, filter: filter, now: now(), after: cursor, limit: limit + 1)
        let page = Page(rows, limit: limit, cursor: \.cursor)
        var response = Pingan_Dispute_V1_ListCasesResponse()
        response.cases = page.items.map { $0.case.wire(revealingParties: false) }
        response.nextPageToken = page.nextPageToken
        return response
    }

    /// What a centre's cases wait for, soonest deadline first: the today page's list of what
    /// falls due, read in one statement however many cases the centre has.
    func listDueSteps(_ request: Pingan_Dispute_V1_ListDueStepsRequest, _ context: ConnectContext) async throws -> Pingan_Dispute_V1_ListDueStepsResponse {
        let principal = try verifier.principal(context, for: DisputeServiceMethods.listDueSteps)
        let root = try DivisionCode.field(request.divisionCode, "division_code")
        try principal.require(root, field: "division_code")
        let limit = try PageSize.field(request.pageSize, default: 100, max: 500)
        let rows = try await reports.dueSteps(under: root, after: try PageCursor(token: request.pageToken), limit: limit + 1)
        let page = Page(rows, limit: limit) { PageCursor(time: $0.deadline.dueAt, id: $0.id) }
        var response = Pingan_Dispute_V1_ListDueStepsResponse()
        response.steps = page.items.map(\.wire)
        response.nextPageToken = page.nextPageToken
        return response
    }

    /// A centre's cases opened in a month, as CSV (no personal data), for its own records.
    func exportCases(_ request: Pingan_Dispute_V1_ExportCasesRequest, _ context: ConnectContext) async throws -> Pingan_Dispute_V1_ExportCasesResponse {
        let principal = try verifier.principal(context, for: DisputeServiceMethods.exportCases)
        let root = try DivisionCode.field(request.divisionCode, "division_code")
        let month = try Month.field(request.month, "month")
        try principal.require(root, field: "division_code")
        var lines = ["case_id,village_code,category,source,status,current_rung,coordinator_code,incidents,major,opened_at,overdue"]
        for row in try await reports.export(under: root, in: month, now: now()) {
            let record = row.case
            lines.append([
                record.id.wire, record.village.rawValue, "\(record.category)", "\(record.source)", record.status.rawValue,
                record.currentRung.map { String($0.rawValue) } ?? "", record.coordinator.rawValue, String(record.incidents),
                record.major == nil ? "false" : "true", record.openedAt.wireTimestamp, row.overdue ? "true" : "false",
            ].joined(separator: ","))
        }
        var response = Pingan_Dispute_V1_ExportCasesResponse()
        response.csv = lines.joined(separator: "\n") + "\n"
        return response
    }

    func resolveCase(_ request: Pingan_Dispute_V1_ResolveCaseRequest, _ context: ConnectContext) async throws -> Pingan_Dispute_V1_ResolveCaseResponse {
        let principal = try verifier.principal(context, for: DisputeServiceMethods.resolveCase)
        let id = try UUID.field(request.caseID, "case_id")
        let outcome = try String.field(request.outcome, "outcome", upTo: 2000)
        _ = try await visibleFile(id, named: request.caseID, to: principal)
        let resolved = try principal.visible(try await cases.resolve(id, outcome: outcome, actor: principal.subject, now: now()), at: \.village, "case \(request.caseID)")
        var response = Pingan_Dispute_V1_ResolveCaseResponse()
        response.case = resolved.wire(revealingParties: false)
        return response
    }

    func caseFacts(_ request: Pingan_Dispute_V1_CaseFactsRequest, _ context: ConnectContext) async throws -> Pingan_Dispute_V1_CaseFactsResponse {
        let (root, month) = try verifier.factsScope(context, for: DisputeServiceMethods.caseFacts, rootCode: request.rootCode, month: request.month)
        var response = Pingan_Dispute_V1_CaseFactsResponse()
        response.facts = try await reports.facts(under: root, in: month).sorted { $0.key < $1.key }.map { village, counted in
            var facts = Pingan_Dispute_V1_VillageCaseFacts()
            facts.villageCode = village
            facts.opened = Int32(counted.opened)
            facts.resolved = Int32(counted.resolved)
            facts.rungsEnded = Int32(counted.rungsEnded)
            facts.rungsSettled = Int32(counted.rungsSettled)
            facts.rungsOnTime = Int32(counted.rungsOnTime)
            facts.summonsAnswered = Int32(counted.summonsAnswered)
            facts.summonsLate = Int32(counted.summonsLate)
            facts.returnVisitsDone = Int32(counted.returnVisitsDone)
            facts.returnVisitsConfirmed = Int32(counted.returnVisitsConfirmed)
            facts.overdueSteps = Int32(counted.overdueSteps)
            facts.repeatIncidents = Int32(counted.repeatIncidents)
            facts.reopenedAfterSettlement = Int32(counted.reopenedAfterSettlement)
            facts.violentCases = Int32(counted.violentCases)
            facts.residentRatings = Int32(counted.residentRatings)
            facts.residentSatisfied = Int32(counted.residentSatisfied)
            return facts
        }
        response.counties = try await peers.counties(around: root).map(\.wire)
        return response
    }

    /// The case file if the caller may see it: a case in its subtree, or for a department one
    /// it was summoned to. `name` is the id as the caller sent it.
    func visibleFile(_ id: UUID, named name: String, to principal: Principal) async throws -> CaseFile {
        try visible(try await cases.file(id), named: name, to: principal)
    }

    /// The file as found, if the caller may see it.
    func visible(_ found: CaseFile?, named name: String, to principal: Principal) throws -> CaseFile {
        let file = try principal.visible(found, at: { $0.record.village }, "case \(name)")
        try requireSight(of: file, by: principal, named: name)
        return file
    }

    /// A department's system sees only the cases it was summoned to; every other case reads
    /// as missing to it.
    func requireSight(of file: CaseFile, by principal: Principal, named name: String) throws {
        let departmentOnly = principal.roles == [.department]
        guard !departmentOnly || file.summons.contains(where: { $0.department.subject == principal.subject })
        else { throw ConnectError(.notFound, "case \(name) not found") }
    }
}
