@testable import DisputeService
import Foundation
import PinganAccess
import PinganConnect
import PinganContracts
import PinganDomain
import PinganTestSupport
import Testing

/// Issue 25: a grid report keeps who filed it (`OpenCaseRequest.reported_by`), and
/// `ListMyReports` shows the reporter, and no one else, what became of each report.
@Suite("dispute: a grid worker's own reports")
struct MyReportsTests {
    static let wang = "user:wang", li = "user:li", zhao = "user:zhao"

    func worker(_ subject: String) throws -> (String, String) {
        try TestMesh.principal(centre: Place.villageA, roles: [.gridWorker], subject: subject)
    }

    func filed(by subject: String?, party: String) -> Pingan_Dispute_V1_OpenCaseRequest {
        var request = openCase(UUID(), party: party)
        if let subject { request.reportedBy = subject }
        return request
    }

    func mine(size: Int32 = 0, token: String = "") -> Pingan_Dispute_V1_ListMyReportsRequest {
        .with { $0.pageSize = size; $0.pageToken = token }
    }

    @Test func aReporterSeesOnlyTheirOwnReportsNewestFirstPagedAndWithoutParties() async throws {
        let clock = ManualClock(morningOf: "2026-04-07")
        try await withDispute(now: { clock.now }) { rpc, _ in
            // wang opens a case; li reports other people; wang's second report joins the first case;
            // a report that names no reporter is nobody's; wang's third opens another case.
            let first = try await rpc.call(DisputeServiceMethods.openCase, filed(by: Self.wang, party: "金某甲"), headers: try TestMesh.eventDelivery()).case
            clock.advance(by: 3600)
            let other = try await rpc.call(DisputeServiceMethods.openCase, filed(by: Self.li, party: "赵某丁"), headers: try TestMesh.eventDelivery()).case
            clock.advance(by: 3600)
            let joined = try await rpc.call(DisputeServiceMethods.openCase, filed(by: Self.wang, party: "金某甲"), headers: try TestMesh.eventDelivery()).case
            #expect(joined.id == first.id && joined.incidents == 2)
            clock.advance(by: 3600)
            _ = try await rpc.call(DisputeServiceMethods.openCase, filed(by: nil, party: "钱某戊"), headers: try TestMesh.eventDelivery())
            clock.advance(by: 3600)
            let third = try await rpc.call(DisputeServiceMethods.openCase, filed(by: Self.wang, party: "孙某己"), headers: try TestMesh.eventDelivery()).case
            #expect(third.id != first.id && third.id != other.id)

            // wang's, newest first, two a page.
            let page1 = try await rpc.call(DisputeServiceMethods.listMyReports, mine(size: 2), headers: [try worker(Self.wang)])
            #expect(page1.reports.map(\.caseID) == [third.id, first.id])
            #expect(page1.reports.map(\.openedCase) == [true, false])
            #expect(!page1.nextPageToken.isEmpty)
            let page2 = try await rpc.call(DisputeServiceMethods.listMyReports, mine(size: 2, token: page1.nextPageToken), headers: [try worker(Self.wang)])
            #expect(page2.reports.map(\.caseID) == [first.id] && page2.reports[0].openedCase)
            #expect(page2.nextPageToken.isEmpty)
            let all = page1.reports + page2.reports
            #expect(all.map(\.reportedAt) == all.map(\.reportedAt).sorted(by: >))
            // Each with what became of it: the case's category, status, rung and coordinating centre.
            let shown = all[1]
            #expect(shown.category == .neighbour && shown.caseStatus == .open && shown.currentRung == .unspecified)
            #expect(shown.coordinatorCode == first.coordinatorCode && !shown.coordinatorCode.isEmpty)
            #expect(Set(all.map(\.incidentID)).count == 3 && all.allSatisfy { UUID(uuidString: $0.id) != nil })
            // No party's name, phone or the description travels.
            let text = try page1.jsonString() + page2.jsonString()
            #expect(!text.contains("金某甲") && !text.contains("孙某己") && !text.contains("13812345678") && !text.contains("宅基地"))

            // li sees li's one report; another grid worker sees none of them.
            let lis = try await rpc.call(DisputeServiceMethods.listMyReports, mine(), headers: [try worker(Self.li)])
            #expect(lis.reports.map(\.caseID) == [other.id])
            let zhaos = try await rpc.call(DisputeServiceMethods.listMyReports, mine(), headers: [try worker(Self.zhao)])
            #expect(zhaos.reports.isEmpty && zhaos.nextPageToken.isEmpty)

            // Only grid workers and staff may ask; a bad page size is refused by field.
            let mediator = try TestMesh.principal(centre: Place.villageA, roles: [.mediator], subject: Self.wang)
            await expectCode(.permissionDenied) { _ = try await rpc.call(DisputeServiceMethods.listMyReports, mine(), headers: [mediator]) }
            await expectCode(.invalidArgument) { _ = try await rpc.call(DisputeServiceMethods.listMyReports, mine(size: 201), headers: [try worker(Self.wang)]) }
        }
    }

    @Test func theEventCarriesTheReporterIntoTheReportItKeeps() throws {
        var request = openCase(UUID())
        request.reportedBy = Self.wang
        let newCase = try DisputeServiceHandler.newCase(request)
        #expect(newCase.reportedBy == Self.wang)
        #expect(newCase.report(on: UUID(), at: Date(), openedCase: true).reportedBy == Self.wang)
        #expect(try DisputeServiceHandler.newCase(openCase(UUID())).reportedBy == nil)
    }
}
