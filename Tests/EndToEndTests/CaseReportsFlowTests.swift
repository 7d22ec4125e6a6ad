import Foundation
import PinganAccess
import PinganConnect
import PinganContracts
import PinganTestSupport
import Testing

/// Issue 24 through the real gateway: a grid report opens a case, a police transfer between
/// the same parties joins it with its own facts, the case shows the worst of them, and the
/// reports and the timeline read a page at a time.
@Suite("end to end: a case's reports and timeline")
struct CaseReportsFlowTests {
    @Test func aPoliceTransferJoinsTheGridReportsCaseAndBothReportsArePagedNewestFirst() async throws {
        try await withMesh { mesh, setup, _ in
            let names = mesh.nextParties()
            let incident = try await mesh.report(in: Place.villageA1, setup: setup, highRisk: false, as: "town-a", parties: names)
            var list = Pingan_Dispute_V1_ListCasesRequest()
            list.divisionCode = Place.villageA1
            var caseID = ""
            #expect(await eventually {
                caseID = try await mesh.call(DisputeServiceMethods.listCases, list, as: "town-a").cases.first { $0.incidentID == incident.id }?.id ?? ""
                return !caseID.isEmpty
            })

            var transfer = Pingan_Dispute_V1_IntakeCaseRequest()
            transfer.requestID = UUID().wire
            transfer.villageCode = Place.villageA1
            transfer.category = .neighbour
            transfer.source = .policeTransfer
            transfer.description_p = "两家兄弟动手打人，一方报警"
            transfer.parties = names.map { name in .with { $0.name = name } } + [.with { $0.name = "李小某"; $0.minor = true }]
            transfer.violenceOccurred = true
            transfer.priorPoliceCalls = 1
            let joined = try await mesh.call(DisputeServiceMethods.intakeCase, transfer, as: "town-a")
            #expect(joined.joinedExisting && joined.case.id == caseID)

            var get = Pingan_Dispute_V1_GetCaseRequest()
            get.caseID = caseID
            let shown = try await mesh.call(DisputeServiceMethods.getCase, get, as: "town-a")
            #expect(shown.case.violenceOccurred && shown.case.minorsInvolved && shown.case.priorPoliceCalls == 1)
            #expect(shown.case.source == .gridReport && shown.case.latestSource == .policeTransfer)

            var reports = Pingan_Dispute_V1_ListCaseReportsRequest()
            reports.caseID = caseID
            let listed = try await mesh.call(DisputeServiceMethods.listCaseReports, reports, as: "town-a")
            #expect(listed.reports.map(\.source) == [.policeTransfer, .gridReport])
            #expect(listed.reports.map(\.violenceOccurred) == [true, false])
            #expect(listed.reports.map(\.minorsInvolved) == [true, false])
            #expect(listed.reports.last?.incidentID == incident.id && listed.nextPageToken.isEmpty)
            reports.pageSize = 1
            let first = try await mesh.call(DisputeServiceMethods.listCaseReports, reports, as: "town-a")
            reports.pageToken = first.nextPageToken
            let second = try await mesh.call(DisputeServiceMethods.listCaseReports, reports, as: "town-a")
            #expect((first.reports + second.reports).map(\.id) == listed.reports.map(\.id) && second.nextPageToken.isEmpty)

            // A case whose timeline outgrew a page: GetCase carries the newest fifty.
            let pool = mesh.database.pool(maxConnections: 1)
            try await pool.query(
                "INSERT INTO dispute.timeline (case_id, at, kind, note, actor) SELECT $1::uuid, now(), 'note', 'line ' || g, 'test' FROM generate_series(1, 120) g",
                [caseID]
            )
            await pool.close()
            let big = try await mesh.call(DisputeServiceMethods.getCase, get, as: "town-a")
            #expect(big.timeline.count == 50 && big.timeline.first?.note == "line 120" && !big.timelineNextPageToken.isEmpty)
            var notes = big.timeline.map(\.note)
            var page = Pingan_Dispute_V1_ListCaseTimelineRequest()
            page.caseID = caseID
            page.pageToken = big.timelineNextPageToken
            while !page.pageToken.isEmpty && notes.count < 1000 {
                let next = try await mesh.call(DisputeServiceMethods.listCaseTimeline, page, as: "town-a")
                notes += next.entries.map(\.note)
                page.pageToken = next.nextPageToken
            }
            let total = try await mesh.count("SELECT count(*) FROM dispute.timeline WHERE case_id = '\(caseID)'")
            #expect(notes.count == total && Set(notes).count == total)
            #expect(notes.last?.hasPrefix("opened") == true)

            // Refusals as the gateway passes them on.
            page.pageToken = ""
            page.pageSize = 201
            await expectCode(.invalidArgument, containing: "page_size") {
                _ = try await mesh.call(DisputeServiceMethods.listCaseTimeline, page, as: "town-a")
            }
            page.pageSize = 0
            page.pageToken = "bogus"
            await expectCode(.invalidArgument, containing: "page_token") {
                _ = try await mesh.call(DisputeServiceMethods.listCaseTimeline, page, as: "town-a")
            }
            reports.pageToken = "bogus"
            await expectCode(.invalidArgument, containing: "page_token") {
                _ = try await mesh.call(DisputeServiceMethods.listCaseReports, reports, as: "town-a")
            }
            reports.pageToken = ""
            await expectCode(.notFound, containing: "case \(caseID) not found") {
                _ = try await mesh.call(DisputeServiceMethods.listCaseReports, reports, as: "town-b")
            }
            page.pageToken = ""
            await expectCode(.notFound, containing: "case \(caseID) not found") {
                _ = try await mesh.call(DisputeServiceMethods.listCaseTimeline, page, as: "town-b")
            }
        }
    }
}
