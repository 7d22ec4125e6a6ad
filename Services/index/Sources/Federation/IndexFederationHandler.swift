import Foundation
import PinganAccess
import PinganConnect
import PinganContracts
import PinganDomain

/// The city's half of the index across meshes: takes the counts a county that runs its own
/// mesh sends (``CountyFactsRelay`` is the county's half), for the city's index to score its
/// villages' screening and warnings.
struct IndexFederationHandler: Sendable {
    let store: CountyCountsStore
    let verifier: PrincipalVerifier
    let now: @Sendable () -> Date

    /// Villages one call may carry: a county has a few hundred.
    static let maxVillages = 2000
    /// The largest count a village may have in a month: far above any real one (31 days of
    /// a few dozen grids), low enough that a garbled figure is refused.
    static let maxCount: Int32 = 1_000_000

    func register(into routes: inout ConnectRoutes) {
        routes.register(IndexFederationServiceMethods.receiveCountyFacts) { try await receiveCountyFacts($0, $1) }
    }

    func receiveCountyFacts(
        _ request: Pingan_Index_V1_ReceiveCountyFactsRequest, _ context: ConnectContext
    ) async throws -> Pingan_Index_V1_ReceiveCountyFactsResponse {
        let principal = try verifier.principal(context, for: IndexFederationServiceMethods.receiveCountyFacts)
        try principal.requireCountyRelay(sending: "its counts")
        let counts = try Self.counts(request, county: principal.centre, now: now())
        var response = Pingan_Index_V1_ReceiveCountyFactsResponse()
        response.taken = try await store.receive(counts, now: now())
        return response
    }

    /// The request checked field by field: a month not after the city's running one, a read
    /// time (never ahead of the city's clock, as a county's clock may run fast), and each
    /// village once, inside `county`, with counts that are not negative.
    static func counts(_ request: Pingan_Index_V1_ReceiveCountyFactsRequest, county: DivisionCode, now: Date) throws -> CountyCounts {
        let month = try Month.field(request.month, "month")
        guard month.index <= Month(containing: now).index else {
            throw ConnectError.invalidArgument(field: "month", "\(month) has not begun at the city")
        }
        guard let readAt = try Date.field(request.readAt, "read_at") else {
            throw ConnectError.invalidArgument(field: "read_at", "is required: when the county read these counts (RFC 3339)")
        }
        guard request.villages.count <= maxVillages else {
            throw ConnectError.invalidArgument(field: "villages", "at most \(maxVillages) in one call, got \(request.villages.count)")
        }
        var villages: [String: VillageCounts] = [:]
        for (index, wire) in request.villages.enumerated() {
            let field = "villages[\(index)]"
            let village = try DivisionCode.field(wire.villageCode, "\(field).village_code")
            guard village.level == .village, county.contains(village) else {
                throw ConnectError.invalidArgument(field: "\(field).village_code", "\(village) is not a village of county \(county)")
            }
            guard villages[village.rawValue] == nil else {
                throw ConnectError.invalidArgument(field: "\(field).village_code", "\(village) is given twice")
            }
            func count(_ value: Int32, _ name: String) throws -> Int {
                try Int32.field(value, "\(field).\(name)", in: 0...maxCount)
            }
            villages[village.rawValue] = VillageCounts(
                incidents: try count(wire.incidents, "incidents"), grids: try count(wire.grids, "grids"),
                gridDaysScreened: try count(wire.gridDaysScreened, "grid_days_screened"),
                nothingFoundDays: try count(wire.nothingFoundDays, "nothing_found_days"),
                householdsVisited: try count(wire.householdsVisited, "households_visited"),
                warningsRaised: try count(wire.warningsRaised, "warnings_raised"),
                warningsAcknowledged: try count(wire.warningsAcknowledged, "warnings_acknowledged"),
                warningsAcknowledgedInTime: try count(wire.warningsAcknowledgedInTime, "warnings_acknowledged_in_time")
            )
        }
        return CountyCounts(county: county, month: month, readAt: min(readAt, now), villages: villages)
    }
}

extension VillageCounts {
    /// As a county sends it.
    func wire(village: String) -> Pingan_Index_V1_CountyVillageFacts {
        .with {
            $0.villageCode = village
            $0.incidents = Int32(clamping: incidents)
            $0.grids = Int32(clamping: grids)
            $0.gridDaysScreened = Int32(clamping: gridDaysScreened)
            $0.nothingFoundDays = Int32(clamping: nothingFoundDays)
            $0.householdsVisited = Int32(clamping: householdsVisited)
            $0.warningsRaised = Int32(clamping: warningsRaised)
            $0.warningsAcknowledged = Int32(clamping: warningsAcknowledged)
            $0.warningsAcknowledgedInTime = Int32(clamping: warningsAcknowledgedInTime)
        }
    }
}
