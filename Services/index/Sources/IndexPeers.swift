import Foundation
import PinganAccess
import PinganDomain
import PinganConnect
import PinganContracts

/// The index's view of the other services: divisions from grid, and the month's facts from
/// grid (incidents), dispute (cases) and risk (warnings), fetched as the mesh's own service.
struct IndexPeers: Sendable {
    let grid: ConnectClient
    let dispute: ConnectClient
    let risk: ConnectClient
    let verifier: PrincipalVerifier
    let root: DivisionCode

    struct MonthFacts: Sendable {
        var divisions: [(code: DivisionCode, name: String)]
        var villages: [String: FactSheet]
        /// Each county that runs its own mesh, and up to when dispute-service's copies of its
        /// cases are complete (`nil` until it has said).
        var counties: [(code: DivisionCode, completeAsOf: Date?)] = []
    }

    /// The month's facts per village. `now` bounds the grid-days a running month is held to:
    /// a grid cannot have screened days that have not come yet.
    func facts(for month: Month, now: Date, trace: TraceContext?) async throws -> MonthFacts {
        let options = options(trace)
        var cases = Pingan_Dispute_V1_CaseFactsRequest()
        cases.rootCode = root.rawValue
        cases.month = month.description
        async let counted = counts(for: month, options: options)
        async let caseFacts = dispute.call(DisputeServiceMethods.caseFacts, cases, options: options)
        // The divisions are listed while the peers count: they are a few small pages, the
        // facts the month's heavy statements.
        async let listed = divisions(options)
        let divisions = try await listed

        let days = Double(Self.daysCounted(month, now: now))
        var villages = try await counted.mapValues { $0.sheet(days: days) }
        let cased = try await caseFacts
        for fact in cased.facts {
            var sheet = villages[fact.villageCode] ?? FactSheet()
            sheet["opened"] += Double(fact.opened)
            sheet["resolved"] += Double(fact.resolved)
            sheet["rungs_ended"] += Double(fact.rungsEnded)
            sheet["rungs_settled"] += Double(fact.rungsSettled)
            sheet["rungs_on_time"] += Double(fact.rungsOnTime)
            sheet["summons_answered"] += Double(fact.summonsAnswered)
            sheet["summons_on_time"] += Double(max(0, fact.summonsAnswered - fact.summonsLate))
            sheet["return_visits_done"] += Double(fact.returnVisitsDone)
            sheet["return_visits_confirmed"] += Double(fact.returnVisitsConfirmed)
            sheet["overdue_steps"] += Double(fact.overdueSteps)
            sheet["repeat_incidents"] += Double(fact.repeatIncidents)
            sheet["reopened_after_settlement"] += Double(fact.reopenedAfterSettlement)
            sheet["violent_cases"] += Double(fact.violentCases)
            sheet["resident_ratings"] += Double(fact.residentRatings)
            sheet["resident_satisfied"] += Double(fact.residentSatisfied)
            villages[fact.villageCode] = sheet
        }
        return MonthFacts(
            divisions: divisions, villages: villages,
            counties: cased.counties.compactMap { county in
                (try? DivisionCode(validating: county.countyCode)).map { ($0, Date(wireTimestamp: county.completeAsOf)) }
            }
        )
    }

    /// The month's counts of grid-service (incidents, screening) and risk-service (warnings)
    /// per village of this mesh: the part of the facts a county sends the city.
    func counts(for month: Month, trace: TraceContext?) async throws -> [String: VillageCounts] {
        try await counts(for: month, options: options(trace))
    }

    private func counts(for month: Month, options: CallOptions) async throws -> [String: VillageCounts] {
        var incidents = Pingan_Grid_V1_CountIncidentsRequest()
        incidents.rootCode = root.rawValue
        incidents.month = month.description
        var screening = Pingan_Grid_V1_ScreeningFactsRequest()
        screening.rootCode = root.rawValue
        screening.month = month.description
        var warnings = Pingan_Risk_V1_WarningFactsRequest()
        warnings.rootCode = root.rawValue
        warnings.month = month.description
        async let incidentCounts = grid.call(GridServiceMethods.countIncidents, incidents, options: options)
        async let screeningFacts = grid.call(GridServiceMethods.screeningFacts, screening, options: options)
        async let warningFacts = risk.call(RiskServiceMethods.warningFacts, warnings, options: options)
        var villages: [String: VillageCounts] = [:]
        for count in try await incidentCounts.counts { villages[count.villageCode, default: .init()].incidents += Int(count.incidents) }
        for fact in try await screeningFacts.facts {
            villages[fact.villageCode, default: .init()].grids += Int(fact.grids)
            villages[fact.villageCode, default: .init()].gridDaysScreened += Int(fact.gridDaysScreened)
            villages[fact.villageCode, default: .init()].nothingFoundDays += Int(fact.nothingFoundDays)
            villages[fact.villageCode, default: .init()].householdsVisited += Int(fact.householdsVisited)
        }
        for fact in try await warningFacts.facts {
            villages[fact.villageCode, default: .init()].warningsRaised += Int(fact.raised)
            villages[fact.villageCode, default: .init()].warningsAcknowledged += Int(fact.acknowledged)
            villages[fact.villageCode, default: .init()].warningsAcknowledgedInTime += Int(fact.acknowledgedInTime)
        }
        return villages
    }

    private func options(_ trace: TraceContext?) -> CallOptions {
        CallOptions(timeout: .seconds(30), headers: [verifier.header(for: .system(MeshService.index.executable, root: root))], trace: trace)
    }

    /// The root and every division under it, from grid, a page at a time.
    private func divisions(_ options: CallOptions) async throws -> [(code: DivisionCode, name: String)] {
        var divisions: [(code: DivisionCode, name: String)] = []
        var subtree = Pingan_Grid_V1_ListSubtreeRequest()
        subtree.code = root.rawValue
        subtree.pageSize = 500
        var get = Pingan_Grid_V1_GetDivisionRequest()
        get.code = root.rawValue
        let rootDivision = try await grid.call(DivisionServiceMethods.getDivision, get, options: options).division
        divisions.append((root, rootDivision.name))
        repeat {
            let page = try await grid.call(DivisionServiceMethods.listSubtree, subtree, options: options)
            for division in page.divisions {
                if let code = try? DivisionCode(validating: division.code) { divisions.append((code, division.name)) }
            }
            subtree.pageToken = page.nextPageToken
        } while !subtree.pageToken.isEmpty
        return divisions
    }

    /// The days of `month` a grid could have screened by `now`: all of a past month, today
    /// included for the running one.
    static func daysCounted(_ month: Month, now: Date) -> Int {
        let (start, end) = month.range
        guard now < end else { return month.dayCount }
        guard now >= start else { return 0 }
        return Day(containing: now).ordinal - Day(containing: start).ordinal + 1
    }
}
