import Foundation
@testable import GridService
import PinganAccess
import PinganConnect
import PinganDomain
import Testing

/// Who may file for a grid, without a database: a grid outside the caller's jurisdiction
/// reads exactly like a grid that does not exist, and the reporter must be a member.
@Suite("grid admission")
struct GridAdmissionTests {
    let grid = UUID()
    let village = try! DivisionCode(validating: "430723102201")

    func caller(_ centre: String) throws -> GridAdmission {
        GridAdmission(principal: Principal(subject: "user:w", centre: try DivisionCode(validating: centre), roles: [.gridWorker], expiresAt: Date().addingTimeInterval(60)))
    }

    func refusal(_ admission: GridAdmission, village: DivisionCode?, hasMember: Bool, county: String? = nil) -> ConnectError? {
        do {
            _ = try admission.admit(grid: grid, village.map { GridFiling(village: $0, hasMember: hasMember, countyWithOwnPlatform: county) })
            return nil
        } catch {
            return error as? ConnectError
        }
    }

    @Test func aMemberFilesForAGridInTheCallersSubtree() throws {
        let filing = GridFiling(village: village, hasMember: true)
        #expect(try caller("430723102000").admit(grid: grid, filing) == village)
        #expect(try caller("430723102201").admit(grid: grid, filing) == village)
    }

    @Test func aGridElsewhereReadsLikeNoGridAtAll() throws {
        let sibling = refusal(try caller("430723103000"), village: village, hasMember: true)
        let missing = refusal(try caller("430723102000"), village: nil, hasMember: false)
        #expect(sibling?.code == .notFound)
        #expect(sibling?.message == missing?.message)
        #expect(sibling?.message == "grid \(grid.wire) not found")
    }

    @Test func aReporterWhoIsNotAMemberIsNamedAsTheFieldAtFault() throws {
        let refused = refusal(try caller("430723102000"), village: village, hasMember: false)
        #expect(refused?.code == .invalidArgument)
        #expect(refused?.message.contains("reporter_member_id") == true)
    }

    /// A county that runs its own platform holds its grids' filings; the grid worker learns
    /// which county, and a caller who may not see the grid still learns nothing.
    @Test func aGridInACountyThatRunsItsOwnPlatformFilesThere() throws {
        let refused = refusal(try caller("430723102000"), village: village, hasMember: true, county: "澧县")
        #expect(refused?.code == .failedPrecondition)
        #expect(refused?.message == "430723102201 lies in county 澧县, which runs its own platform and keeps the grids under it: record this there")
        #expect(refusal(try caller("430723103000"), village: village, hasMember: true, county: "澧县")?.code == .notFound)
    }
}
