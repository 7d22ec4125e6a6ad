import Foundation
import Logging
import PinganAccess
import PinganConnect
import PinganContracts
import PinganDomain

/// `pingan.index.v1.IndexService`: one method per RPC, named as in the `.proto`. Each
/// checks the caller and the request at the door, leaves decisions to the rules
/// (``GovernanceIndex``, ``MonthVersioning``, ``ThresholdActions``, ``AnnualGrading``) and
/// answers in the wire types (`IndexWire.swift`).
struct IndexServiceHandler: Sendable {
    let months: any MonthStore
    let actions: any ActionStore
    let thresholds: any ThresholdRuleStore
    let surveys: any SurveyStore
    /// The counts of the counties that run their own mesh, as they sent them.
    let counties: CountyCountsStore
    let verifier: PrincipalVerifier
    let peers: IndexPeers
    let catalogue: IndicatorCatalogue
    /// The time of day; tests pass a clock they control.
    let now: @Sendable () -> Date
    /// Where each computation's phases are timed, at debug level (`LOG_LEVEL=debug`).
    var logger: Logger?

    var index: GovernanceIndex { GovernanceIndex(catalogue: catalogue) }

    func register(into routes: inout ConnectRoutes) {
        routes.register(IndexServiceMethods.computeMonthlyIndex) { try await computeMonthlyIndex($0, $1) }
        routes.register(IndexServiceMethods.getRanking) { try await getRanking($0, $1) }
        routes.register(IndexServiceMethods.listActions) { try await listActions($0, $1) }
        routes.register(IndexServiceMethods.completeAction) { try await completeAction($0, $1) }
        routes.register(IndexServiceMethods.getThresholdRule) { try await getThresholdRule($0, $1) }
        routes.register(IndexServiceMethods.setThresholdRule) { try await setThresholdRule($0, $1) }
        routes.register(IndexServiceMethods.loadSurveyResults) { try await loadSurveyResults($0, $1) }
        routes.register(IndexServiceMethods.getAnnualGrades) { try await getAnnualGrades($0, $1) }
        routes.register(IndexServiceMethods.getMonthlyReview) { try await getMonthlyReview($0, $1) }
    }

    /// Recomputes a month for the whole deployment, so only its root centre may ask; a month
    /// that has not begun has nothing to score, and a frozen one needs the root centre's
    /// administrator and a reason.
    func computeMonthlyIndex(_ request: Pingan_Index_V1_ComputeMonthlyIndexRequest, _ context: ConnectContext) async throws -> Pingan_Index_V1_ComputeMonthlyIndexResponse {
        let principal = try verifier.principal(context, for: IndexServiceMethods.computeMonthlyIndex)
        let month = try Month.field(request.month, "month")
        let reason = try String.field(request.reason, "reason", length: 0...500)
        guard principal.covers(peers.root) else {
            throw ConnectError(.permissionDenied, "the index is computed for the whole deployment, by its root centre \(peers.root); centre \(principal.centre) reads its own subtree's rankings")
        }
        guard month.range.start <= now() else {
            throw ConnectError.invalidArgument(field: "month", "\(month) has not begun")
        }
        do {
            let (count, version) = try await compute(month, by: principal.subject, reason: reason, mayRecomputeFrozen: principal.has(.admin), trace: context.trace)
            var response = Pingan_Index_V1_ComputeMonthlyIndexResponse()
            response.divisionsScored = Int32(count)
            response.version = version.wire
            return response
        } catch IndexRefusal.frozenNeedsReason(let version) {
            throw ConnectError.invalidArgument(field: "reason", "\(month) is frozen (version \(version)); say why its published scores change")
        } catch IndexRefusal.frozenNeedsAdministrator(let version) {
            throw ConnectError(.permissionDenied, "\(month) is frozen (version \(version)); only an administrator of the root centre may recompute it")
        }
    }

    /// Fetches the month's facts from grid, dispute and risk, the counts of the counties that
    /// run their own mesh and the loaded survey results, scores every division of the
    /// deployment and publishes them as the month's current version: provisional while the
    /// month runs, frozen once it has ended and every such county's cases and counts are in.
    func compute(_ month: Month, by subject: String, reason: String = "", mayRecomputeFrozen: Bool = false, trace: TraceContext?) async throws -> (Int, MonthVersion) {
        let at = now()
        let started = ContinuousClock.now
        async let surveyed = surveys.survey(month)
        async let counted = counties.counts(of: month)
        var facts = try await peers.facts(for: month, now: at, trace: trace)
        let countyCounts = try await counted
        Self.take(countyCounts.villages, from: Set(countyCounts.readAt.keys), into: &facts.villages, days: Double(IndexPeers.daysCounted(month, now: at)))
        for (code, survey) in try await surveyed {
            facts.villages[code] = (facts.villages[code] ?? FactSheet()) + survey
        }
        // A county's month is complete once both its cases and its counts were read after it.
        let countiesComplete = facts.counties.map { county -> Date? in
            guard let cases = county.completeAsOf, let counts = countyCounts.readAt[county.code] else { return nil }
            return min(cases, counts)
        }
        let fetched = ContinuousClock.now
        let ranked = index.rank(divisions: facts.divisions, villageFacts: facts.villages)
        // The rank intervals are drawn while the month's transaction opens and its scores are
        // written: the families drawn first are loaded while the last are drawn.
        let version = try await months.publish(
            Publication(
                month: month, catalogueVersion: catalogue.version,
                status: MonthVersioning.status(of: month, factsReadAt: at, countiesCompleteAsOf: countiesComplete),
                computedBy: subject, reason: reason,
                mayRecomputeFrozen: mayRecomputeFrozen, now: at
            ),
            scores: index.finishedFamilies(of: ranked, seed: "\(catalogue.version)|\(month)")
        )
        logger?.debug("computed the governance index", metadata: [
            "month": "\(month)", "version": "\(version.version)", "divisions": "\(ranked.scored.count)",
            "facts_ms": "\(Self.milliseconds(fetched - started))",
            "scoring_and_publishing_ms": "\(Self.milliseconds(ContinuousClock.now - fetched))",
        ])
        return (ranked.scored.count, version)
    }

    /// Puts the counts the counties that run their own mesh sent in place of what this
    /// mesh's grid and risk services counted in their villages (nothing, unless grids were
    /// left there): each county's records are its own. `sent` are the counties whose counts
    /// of the month are in; a village of theirs left out of the counts has none.
    static func take(_ counts: [String: VillageCounts], from sent: Set<DivisionCode>, into villages: inout [String: FactSheet], days: Double) {
        guard !sent.isEmpty else { return }
        for (code, sheet) in villages {
            guard let county = (try? DivisionCode(validating: code))?.county, sent.contains(county) else { continue }
            villages[code] = FactSheet(values: sheet.values.filter { !VillageCounts.factNames.contains($0.key) })
        }
        for (code, village) in counts {
            villages[code] = (villages[code] ?? FactSheet()) + village.sheet(days: days)
        }
    }

    static func milliseconds(_ duration: Duration) -> Int {
        Int(duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000)
    }

    /// The scheduler's round: the running month, provisionally, and each ended month not yet
    /// frozen (the month before, once, after it ended; an older one whose counties' copies
    /// were still incomplete), to freeze it.
    func scheduledRound() async throws -> [MonthVersion] {
        let current = Month(containing: now())
        var computed = [try await compute(current, by: "index-service", trace: nil).1]
        for month in try await months.toFreeze(before: current) {
            computed.append(try await compute(month, by: "index-service", trace: nil).1)
        }
        return computed
    }

    func getRanking(_ request: Pingan_Index_V1_GetRankingRequest, _ context: ConnectContext) async throws -> Pingan_Index_V1_GetRankingResponse {
        let principal = try verifier.principal(context, for: IndexServiceMethods.getRanking)
        let parent = try DivisionCode.field(request.parentCode, "parent_code")
        let month = try Month.field(request.month, "month")
        try principal.require(parent, field: "parent_code")
        let ranking = try await months.ranking(of: parent, in: month)
        var response = Pingan_Index_V1_GetRankingResponse()
        response.scores = ranking.scores.map(\.wire)
        if let version = ranking.version { response.version = version.wire }
        return response
    }

    func listActions(_ request: Pingan_Index_V1_ListActionsRequest, _ context: ConnectContext) async throws -> Pingan_Index_V1_ListActionsResponse {
        let principal = try verifier.principal(context, for: IndexServiceMethods.listActions)
        let centre = try DivisionCode.field(request.centreCode, "centre_code")
        try principal.require(centre, field: "centre_code")
        let month = request.month.isEmpty ? nil : try Month.field(request.month, "month")
        let status: IndexAction.Status? = switch request.status {
        case .unspecified: nil
        case .open: .open
        case .done: .done
        case .withdrawn: .withdrawn
        case .UNRECOGNIZED(let value): throw ConnectError.invalidArgument(field: "status", "unknown value \(value)")
        }
        let limit = try PageSize.field(request.pageSize, default: 50, max: 200)
        let rows = try await actions.actions(under: centre, month: month, status: status, after: try PageCursor(token: request.pageToken), limit: limit + 1)
        var response = Pingan_Index_V1_ListActionsResponse()
        let page = Page(rows, limit: limit) { PageCursor(time: $0.createdAt, id: $0.id) }
        response.actions = page.items.map(\.wire)
        response.nextPageToken = page.nextPageToken
        return response
    }

    /// Records what was done about an action, by someone at its centre or above.
    func completeAction(_ request: Pingan_Index_V1_CompleteActionRequest, _ context: ConnectContext) async throws -> Pingan_Index_V1_CompleteActionResponse {
        let principal = try verifier.principal(context, for: IndexServiceMethods.completeAction)
        let id = try UUID.field(request.actionID, "action_id")
        let outcome = try String.field(request.outcome, "outcome", upTo: 500)
        _ = try principal.visible(try await actions.action(id), at: \.centre, "action \(request.actionID)")
        var response = Pingan_Index_V1_CompleteActionResponse()
        do {
            response.action = try await actions.complete(id, outcome: outcome, by: principal.subject, now: now()).wire
        } catch IndexRefusal.actionNotOpen(let status) {
            throw ConnectError(.failedPrecondition, "action \(request.actionID) is \(status.rawValue), not open")
        }
        return response
    }

    func getThresholdRule(_ request: Pingan_Index_V1_GetThresholdRuleRequest, _ context: ConnectContext) async throws -> Pingan_Index_V1_GetThresholdRuleResponse {
        let principal = try verifier.principal(context, for: IndexServiceMethods.getThresholdRule)
        let centre = try DivisionCode.field(request.centreCode, "centre_code")
        try principal.require(centre, field: "centre_code")
        var response = Pingan_Index_V1_GetThresholdRuleResponse()
        let stored = try await thresholds.rule(for: centre)
        response.rule = (stored ?? .seedDefault).wire(centre: centre, isDefault: stored == nil)
        return response
    }

    /// A centre's leader or administrator sets the rule for the units it reviews.
    func setThresholdRule(_ request: Pingan_Index_V1_SetThresholdRuleRequest, _ context: ConnectContext) async throws -> Pingan_Index_V1_SetThresholdRuleResponse {
        let principal = try verifier.principal(context, for: IndexServiceMethods.setThresholdRule)
        let centre = try DivisionCode.field(request.rule.centreCode, "rule.centre_code")
        try principal.require(centre, field: "rule.centre_code")
        let wire = request.rule
        let rule = ThresholdRule(
            shareAt: wire.shareAt, remindBelow: wire.remindBelow, summonBelow: wire.summonBelow,
            shareDays: Int(wire.shareDays), remindDays: Int(wire.remindDays), summonDays: Int(wire.summonDays),
            shareOwner: try String.field(wire.shareOwner, "rule.share_owner", upTo: 50),
            remindOwner: try String.field(wire.remindOwner, "rule.remind_owner", upTo: 50),
            summonOwner: try String.field(wire.summonOwner, "rule.summon_owner", upTo: 50)
        )
        do {
            try rule.validate()
        } catch {
            throw ConnectError.invalidArgument(field: error.field, error.problem)
        }
        try await thresholds.setRule(rule, for: centre, by: principal.subject, now: now())
        var response = Pingan_Index_V1_SetThresholdRuleResponse()
        response.rule = rule.wire(centre: centre, isDefault: false)
        return response
    }

    /// Loads a public-opinion survey's results for divisions of the caller's subtree.
    func loadSurveyResults(_ request: Pingan_Index_V1_LoadSurveyResultsRequest, _ context: ConnectContext) async throws -> Pingan_Index_V1_LoadSurveyResultsResponse {
        let principal = try verifier.principal(context, for: IndexServiceMethods.loadSurveyResults)
        let month = try Month.field(request.month, "month")
        guard month.range.start <= now() else { throw ConnectError.invalidArgument(field: "month", "\(month) has not begun") }
        let results: [SurveyResult]
        do {
            results = try SurveyResult.parse(csv: request.csv)
        } catch {
            throw ConnectError.invalidArgument(field: error.field, error.problem)
        }
        for (offset, result) in results.enumerated() where !principal.covers(result.code) {
            throw ConnectError(.permissionDenied, "csv: line \(offset + 2): \(result.code) is outside the jurisdiction of centre \(principal.centre)")
        }
        try await surveys.loadSurvey(month, results, by: principal.subject, now: now())
        var response = Pingan_Index_V1_LoadSurveyResultsResponse()
        response.rowsLoaded = Int32(results.count)
        return response
    }

    func getAnnualGrades(_ request: Pingan_Index_V1_GetAnnualGradesRequest, _ context: ConnectContext) async throws -> Pingan_Index_V1_GetAnnualGradesResponse {
        let principal = try verifier.principal(context, for: IndexServiceMethods.getAnnualGrades)
        let parent = try DivisionCode.field(request.parentCode, "parent_code")
        try principal.require(parent, field: "parent_code")
        guard (2000...2100).contains(request.year) else { throw ConnectError.invalidArgument(field: "year", "must be between 2000 and 2100") }
        var response = Pingan_Index_V1_GetAnnualGradesResponse()
        response.grades = try await months.frozenScores(of: parent, year: Int(request.year)).map { AnnualGrading.grade($0).wire }
        return response
    }

    /// The review of the units a centre reviews, as a printable page or CSV.
    func getMonthlyReview(_ request: Pingan_Index_V1_GetMonthlyReviewRequest, _ context: ConnectContext) async throws -> Pingan_Index_V1_GetMonthlyReviewResponse {
        let principal = try verifier.principal(context, for: IndexServiceMethods.getMonthlyReview)
        let centre = try DivisionCode.field(request.centreCode, "centre_code")
        let month = try Month.field(request.month, "month")
        try principal.require(centre, field: "centre_code")
        let ranking = try await months.ranking(of: centre, in: month)
        var due: [String: [IndexAction]] = [:]
        var cursor: PageCursor?
        repeat {
            let page = try await actions.actions(under: centre, month: month, status: nil, after: cursor, limit: 500)
            for action in page where action.centre == centre && action.status != .withdrawn { due[action.division, default: []].append(action) }
            cursor = page.count == 500 ? page.last.map { PageCursor(time: $0.createdAt, id: $0.id) } : nil
        } while cursor != nil
        let review = MonthlyReview(
            centreCode: centre.rawValue, centreName: try await months.name(of: centre, in: month) ?? centre.rawValue,
            version: ranking.version, catalogue: catalogue, scores: ranking.scores, actions: due
        )
        var response = Pingan_Index_V1_GetMonthlyReviewResponse()
        switch request.format {
        case .unspecified, .html:
            response.contentType = "text/html; charset=utf-8"
            response.body = Data(review.html().utf8)
        case .csv:
            response.contentType = "text/csv; charset=utf-8"
            response.body = Data(("\u{FEFF}" + review.csv()).utf8)
        case .UNRECOGNIZED(let value):
            throw ConnectError.invalidArgument(field: "format", "unknown value \(value)")
        }
        return response
    }
}
