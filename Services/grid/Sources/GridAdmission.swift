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
    /// - Parameters:
    ///   - village: the grid's village, `nil` when there is no such grid.
    ///   - hasMember: whether the reporter is one of the grid's members.
    func admit(grid id: UUID, village: DivisionCode?, hasMember: Bool) throws -> DivisionCode {
        let village = try principal.visible(village, at: { $0 }, "grid \(id.wire)")
        guard hasMember else {
            throw ConnectError.invalidArgument(field: "reporter_member_id", "is not a member of grid \(id.wire)")
        }
        return village
    }
}
