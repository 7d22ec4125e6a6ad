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

    func refusal(_ admission: GridAdmission, village: DivisionCode?, hasMember: Bool) -> ConnectError? {
        do {
            _ = try admission.admit(grid: grid, village: village, hasMember: hasMember)
            return nil
        } catch {
            return error as? ConnectError
        }
    }

    @Test func aMemberFilesForAGridInTheCallersSubtree() throws {
        #expect(try caller("430723102000").admit(grid: grid, village: village, hasMember: true) == village)
        #expect(try caller("430723102201").admit(grid: grid, village: village, hasMember: true) == village)
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
}
