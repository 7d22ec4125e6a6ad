import Foundation
import PinganAccess
import PinganConnect
import PinganDomain

/// Who may file for a grid (a report or a day's screening): the caller's centre must cover
/// the grid's village, and the reporter must be one of the grid's members. A grid outside
/// the caller's jurisdiction reads exactly like one that does not exist, so nothing leaks
/// about other centres' grids.
///
/// Pure: the store reads the grid's village and the membership in the round trip that
/// records the report, and applies this rule before anything commits, so what it refuses
/// leaves nothing behind.
struct GridAdmission: Sendable {
    let principal: Principal

    /// The grid's village when the filing is admitted.
    ///
    /// - Parameter filing: what the store read of the grid, `nil` when there is no such grid.
    func admit(grid id: UUID, _ filing: GridFiling?) throws -> DivisionCode {
        let village = try principal.visible(filing?.village, at: { $0 }, "grid \(id.wire)")
        try Self.refuse(village, countyWithOwnPlatform: filing?.countyWithOwnPlatform)
        guard filing?.hasMember == true else {
            throw ConnectError.invalidArgument(field: "reporter_member_id", "is not a member of grid \(id.wire)")
        }
        return village
    }

    /// Refuses a new record in `village` when its county runs its own platform
    /// (``FederatedCounties``): the county's mesh owns its grids, their reports and their
    /// screening, and one record has one owner. The caller sees the grid or named the village,
    /// so naming its county leaks nothing.
    static func refuse(_ village: DivisionCode, countyWithOwnPlatform county: String?) throws {
        guard let county else { return }
        throw ConnectError(.failedPrecondition, ownPlatform(village, county: county))
    }

    /// Why a record in `village` of `county`, which runs its own platform, is refused: for a
    /// call and for an imported line alike.
    static func ownPlatform(_ village: DivisionCode, county: String) -> String {
        "\(village) lies in county \(county), which runs its own platform and keeps the grids under it: record this there"
    }
}

/// What the store reads of a grid for a filing, in the round trip that records it.
struct GridFiling: Sendable, Equatable {
    let village: DivisionCode
    /// Whether the reporter is one of the grid's members.
    let hasMember: Bool
    /// The name of the grid's county when it runs its own platform.
    var countyWithOwnPlatform: String?
}
