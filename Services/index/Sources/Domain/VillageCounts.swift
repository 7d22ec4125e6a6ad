/// What a village's grids and warnings came to in a month: the facts grid-service and
/// risk-service count for the index. A county that runs its own mesh sends the city its
/// villages' counts (``CountyFactsRelay``), since the city's services hold none of its grids or
/// warnings; the city scores them as it scores its own.
struct VillageCounts: Sendable, Equatable {
    var incidents = 0
    var grids = 0
    var gridDaysScreened = 0
    var nothingFoundDays = 0
    var householdsVisited = 0
    var warningsRaised = 0
    var warningsAcknowledged = 0
    var warningsAcknowledgedInTime = 0

    /// The index's facts of these counts; `days` is the days of the month a grid could have
    /// screened (``IndexPeers/daysCounted(_:now:)``).
    func sheet(days: Double) -> FactSheet {
        var sheet = FactSheet()
        sheet["incidents"] = Double(incidents)
        sheet["grids"] = Double(grids)
        sheet["grid_days"] = Double(grids) * days
        sheet["grid_days_screened"] = Double(gridDaysScreened)
        sheet["nothing_found_days"] = Double(nothingFoundDays)
        sheet["households_visited"] = Double(householdsVisited)
        sheet["warnings_raised"] = Double(warningsRaised)
        sheet["warnings_acknowledged"] = Double(warningsAcknowledged)
        sheet["warnings_acknowledged_in_time"] = Double(warningsAcknowledgedInTime)
        return sheet
    }

    /// The facts these counts give (``sheet(days:)``), which the city takes from a county's
    /// counts in place of its own.
    static let factNames = Set(VillageCounts().sheet(days: 1).values.keys)
}
