import Foundation
import PinganAccess
import PinganConnect
import PinganContracts
import PinganDomain

/// A grid's daily screening (每日信息排查), checked and ready to store. "Nothing found" is a
/// screening too: it is what the index's screening coverage counts.
struct Screening: Sendable {
    /// How far back a day may be recorded: a grid worker whose phone was offline catches up
    /// within a week; older days belong to a month that may already have been reviewed.
    static let catchUpDays = 7

    let gridID: UUID
    let reporterID: UUID
    let day: Day
    let householdsVisited: Int
    let disputesFound: Int
    let recordedAt: Date

    /// Validates `request` against today in China time; the first bad field is named.
    init(validating request: Pingan_Grid_V1_RecordScreeningRequest, now: Date) throws {
        gridID = try UUID.field(request.gridID, "grid_id")
        reporterID = try UUID.field(request.reporterMemberID, "reporter_member_id")
        day = try Day.field(request.day, "day")
        let today = Day(containing: now)
        guard day <= today else { throw ConnectError.invalidArgument(field: "day", "\(day) is after today (\(today), China time)") }
        guard day >= today.adding(days: -Self.catchUpDays) else {
            throw ConnectError.invalidArgument(field: "day", "\(day) is more than \(Self.catchUpDays) days before today (\(today)); it can no longer be recorded")
        }
        householdsVisited = try Int32.field(request.householdsVisited, "households_visited", in: 0...10_000)
        disputesFound = try Int32.field(request.disputesFound, "disputes_found", in: 0...1000)
        recordedAt = now
    }

    func wire(village: DivisionCode) -> Pingan_Grid_V1_Screening {
        var screening = Pingan_Grid_V1_Screening()
        screening.gridID = gridID.wire
        screening.villageCode = village.rawValue
        screening.day = day.description
        screening.reporterMemberID = reporterID.wire
        screening.householdsVisited = Int32(householdsVisited)
        screening.disputesFound = Int32(disputesFound)
        screening.recordedAt = recordedAt.wireTimestamp
        return screening
    }
}

/// A village's screening in a month, as the index reads it.
struct ScreeningFacts: Sendable, Equatable {
    let village: String
    let grids: Int
    let gridDaysScreened: Int
    let nothingFoundDays: Int
    let householdsVisited: Int
    let disputesFound: Int
}
