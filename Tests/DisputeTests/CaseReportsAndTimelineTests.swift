@testable import DisputeService
import Foundation
import PinganAccess
import PinganConnect
import PinganContracts
import PinganDomain
import PinganPostgres
import PinganTestSupport
import Testing

/// Issue 24: each report of a case keeps its own source, time and facts while the case shows
/// the worst so far, and the parts of a case that grow with every incident (its reports and
/// its timeline) are read a page at a time, newest first.
@Suite("dispute: a case's reports and its paged timeline")
struct CaseReportsAndTimelineTests {
    let community = "430724001201", street = "430724001000"

    func staff(_ centre: String) throws -> (String, String) { try TestMesh.principal(centre: centre, roles: [.staff, .mediator]) }

    func party(_ name: String, minor: Bool = false) -> Pingan_Grid_V1_Party {
        var party = Pingan_Grid_V1_Party()
        party.name = name
        party.minor = minor
        return party
    }

    /// Story 1, step 1: the grid worker's report of the 金 and 李 families' quarrels.
    func gridReport() -> Pingan_Dispute_V1_OpenCaseRequest {
        var report = Pingan_Dispute_V1_OpenCaseRequest()
        report.incidentID = UUID().wire
        report.villageCode = community
        report.category = .neighbour
        report.source = .gridReport
        report.description_p = "金、李两家多次争吵"
        report.parties = [party("金某甲"), party("李某乙")]
        report.repeatIncident = true
        return report
    }

    /// Story 1, step 4: 李 calls the police after the 金 brothers beat him.
    func policeTransfer(parties: [Pingan_Grid_V1_Party]? = nil) -> Pingan_Dispute_V1_IntakeCaseRequest {
        var transfer = Pingan_Dispute_V1_IntakeCaseRequest()
        transfer.requestID = UUID().wire
        transfer.villageCode = community
        transfer.category = .neighbour
        transfer.source = .policeTransfer
        transfer.description_p = "金氏兄弟殴打李某乙，李报警"
        transfer.parties = parties ?? [party("金某甲"), party("金某丙"), party("李某乙")]
        transfer.violenceOccurred = true
        transfer.priorPoliceCalls = 1
        return transfer
    }

    func get(_ caseID: String) -> Pingan_Dispute_V1_GetCaseRequest { .with { $0.caseID = caseID } }

    func reports(_ caseID: String, size: Int32 = 0, token: String = "") -> Pingan_Dispute_V1_ListCaseReportsRequest {
        .with { $0.caseID = caseID; $0.pageSize = size; $0.pageToken = token }
    }

    func timeline(_ caseID: String, size: Int32 = 0, token: String = "") -> Pingan_Dispute_V1_ListCaseTimelineRequest {
        .with { $0.caseID = caseID; $0.pageSize = size; $0.pageToken = token }
    }

    @Test func thePoliceTransferJoinsWithItsOwnFactsAndTheCaseShowsTheWorst() async throws {
        let clock = ManualClock(morningOf: "2026-04-07")
        try await withDispute(now: { clock.now }) { rpc, _ in
            let report = gridReport()
            let caseID = try await rpc.call(DisputeServiceMethods.openCase, report, headers: try TestMesh.eventDelivery()).case.id
            let opened = try await rpc.call(DisputeServiceMethods.getCase, get(caseID), headers: [try staff(street)]).case
            #expect(!opened.violenceOccurred && opened.latestSource == .gridReport && opened.latestReportedAt == opened.openedAt)

            clock.set(morningOf: "2026-07-14")
            let joined = try await rpc.call(DisputeServiceMethods.intakeCase, policeTransfer(), headers: [try staff(street)])
            #expect(joined.joinedExisting && joined.case.id == caseID)

            let shown = try await rpc.call(DisputeServiceMethods.getCase, get(caseID), headers: [try staff(street)]).case
            #expect(shown.violenceOccurred)
            #expect(shown.priorPoliceCalls == 1)
            #expect(shown.source == .gridReport)  // the case was opened from the grid report
            #expect(shown.latestSource == .policeTransfer)
            #expect(shown.latestReportedAt == clock.now.wireTimestamp)
            #expect(!shown.minorsInvolved)

            let listed = try await rpc.call(DisputeServiceMethods.listCaseReports, reports(caseID), headers: [try staff(street)])
            #expect(listed.reports.count == 2 && listed.nextPageToken.isEmpty)
            let newest = try #require(listed.reports.first)
            #expect(newest.source == .policeTransfer && newest.caseID == caseID && newest.incidentID.isEmpty)
            #expect(newest.violenceOccurred && newest.priorPoliceCalls == 1 && !newest.openedCase && !newest.backfilled)
            #expect(newest.description_p == "金氏兄弟殴打李某乙，李报警")
            #expect(newest.reportedAt == clock.now.wireTimestamp)
            let first = try #require(listed.reports.last)
            #expect(first.source == .gridReport && first.incidentID == report.incidentID && first.openedCase)
            #expect(!first.violenceOccurred && first.priorPoliceCalls == 0 && first.description_p == "金、李两家多次争吵")
            #expect(first.reportedAt == opened.openedAt)

            // A milder report later does not undo what happened.
            var calmer = policeTransfer()
            calmer.source = .hotline
            calmer.violenceOccurred = false
            calmer.priorPoliceCalls = 0
            calmer.description_p = "李某乙来电：近来无事"
            clock.advance(by: 3600)
            _ = try await rpc.call(DisputeServiceMethods.intakeCase, calmer, headers: [try staff(street)])
            let after = try await rpc.call(DisputeServiceMethods.getCase, get(caseID), headers: [try staff(street)]).case
            #expect(after.violenceOccurred && after.priorPoliceCalls == 1 && after.latestSource == .hotline)
            let three = try await rpc.call(DisputeServiceMethods.listCaseReports, reports(caseID), headers: [try staff(street)]).reports
            #expect(three.map(\.source) == [.hotline, .policeTransfer, .gridReport])
        }
    }

    @Test func aReportNamingAMinorMarksTheCaseAndOnlyThatReport() async throws {
        try await withDispute { rpc, database in
            let caseID = try await rpc.call(DisputeServiceMethods.openCase, gridReport(), headers: try TestMesh.eventDelivery()).case.id
            #expect(!(try await rpc.call(DisputeServiceMethods.getCase, get(caseID), headers: [try staff(street)]).case.minorsInvolved))
            let transfer = policeTransfer(parties: [party("金某甲"), party("李某乙"), party("李小某", minor: true)])
            _ = try await rpc.call(DisputeServiceMethods.intakeCase, transfer, headers: [try staff(street)])
            #expect(try await rpc.call(DisputeServiceMethods.getCase, get(caseID), headers: [try staff(street)]).case.minorsInvolved)
            let listed = try await rpc.call(DisputeServiceMethods.listCaseReports, reports(caseID), headers: [try staff(street)]).reports
            #expect(listed.map(\.minorsInvolved) == [true, false])
            // Risk is told too: the assessment of the join carries the minor.
            let pool = database.pool(maxConnections: 1)
            defer { Task { await pool.close() } }
            let payloads = try await pool.query("SELECT payload FROM dispute.outbox WHERE topic = 'case.changed' ORDER BY created_at")
            let last = try #require(payloads.last)
            let assessment = try Pingan_Risk_V1_AssessCaseRequest(serializedBytes: try last.decode(Data.self, at: 0))
            #expect(assessment.minorsInvolved && assessment.violenceOccurred)
        }
    }

    @Test func reportsPageNewestFirstWithoutRepeatsWhenTimesTie() async throws {
        try await withDispute { rpc, database in
            let caseID = try await rpc.call(DisputeServiceMethods.openCase, gridReport(), headers: try TestMesh.eventDelivery()).case.id
            let id = try #require(UUID(uuidString: caseID))
            let pool = database.pool(maxConnections: 1)
            defer { Task { await pool.close() } }
            // Seven more reports, five of them at the very same microsecond.
            try await pool.query(
                """
                INSERT INTO dispute.case_reports (id, case_id, source, reported_at, description, threat_of_violence, threat_of_self_harm,
                    violence_occurred, minors_involved, prior_police_calls, opened_case)
                SELECT gen_random_uuid(), $1, 2, CASE WHEN g <= 5 THEN '2030-01-01T00:00:00Z'::timestamptz ELSE '2030-01-02T00:00:00Z'::timestamptz + g * interval '1 second' END,
                       'report ' || g, false, false, false, false, 0, false
                FROM generate_series(1, 7) g
                """,
                [id]
            )
            var seen: [String] = []
            var token = ""
            var pages = 0
            repeat {
                let page = try await rpc.call(DisputeServiceMethods.listCaseReports, reports(caseID, size: 2, token: token), headers: [try staff(street)])
                #expect(page.reports.count <= 2)
                seen += page.reports.map(\.id)
                token = page.nextPageToken
                pages += 1
            } while !token.isEmpty && pages < 10
            #expect(seen.count == 8 && Set(seen).count == 8)
            let all = try await rpc.call(DisputeServiceMethods.listCaseReports, reports(caseID, size: 200), headers: [try staff(street)]).reports
            #expect(all.map(\.id) == seen)
            #expect(all.first?.description_p == "report 7" && all.last?.openedCase == true)
            let times = all.map(\.reportedAt)
            #expect(times == times.sorted(by: >))
        }
    }

    @Test func getCaseCarriesTheNewestFiftyEntriesAndListCaseTimelineContinuesToTheEnd() async throws {
        try await withDispute { rpc, database in
            let caseID = try await rpc.call(DisputeServiceMethods.openCase, gridReport(), headers: try TestMesh.eventDelivery()).case.id
            let id = try #require(UUID(uuidString: caseID))
            let pool = database.pool(maxConnections: 1)
            defer { Task { await pool.close() } }
            // 119 more lines after "opened", all at one time: only their order tells them apart.
            try await pool.query(
                "INSERT INTO dispute.timeline (case_id, at, kind, note, actor) SELECT $1, now(), 'note', 'line ' || g, 'test' FROM generate_series(1, 119) g",
                [id]
            )
            let file = try await rpc.call(DisputeServiceMethods.getCase, get(caseID), headers: [try staff(street)])
            #expect(file.timeline.count == 50)
            #expect(file.timeline.first?.note == "line 119" && file.timeline.last?.note == "line 70")
            #expect(!file.timelineNextPageToken.isEmpty)

            var notes = file.timeline.map(\.note)
            var token = file.timelineNextPageToken
            var pages = 0
            while !token.isEmpty && pages < 10 {
                let page = try await rpc.call(DisputeServiceMethods.listCaseTimeline, timeline(caseID, token: token), headers: [try staff(street)])
                #expect(page.entries.count <= 50)
                notes += page.entries.map(\.note)
                token = page.nextPageToken
                pages += 1
            }
            #expect(pages == 2)
            #expect(notes.count == 120 && Set(notes).count == 120)
            #expect(notes == (1...119).reversed().map { "line \($0)" } + ["opened from incident \(file.case.incidentID)"])

            // The first page of ListCaseTimeline is GetCase's.
            let first = try await rpc.call(DisputeServiceMethods.listCaseTimeline, timeline(caseID), headers: [try staff(street)])
            #expect(first.entries.map(\.note) == file.timeline.map(\.note) && first.nextPageToken == file.timelineNextPageToken)
            // A short case fits: no token.
            let short = try await rpc.call(DisputeServiceMethods.openCase, gridReport().between(["王某", "赵某"]), headers: try TestMesh.eventDelivery())
            #expect(try await rpc.call(DisputeServiceMethods.getCase, get(short.case.id), headers: [try staff(street)]).timelineNextPageToken.isEmpty)
        }
    }

    @Test func pageSizesTokensAndJurisdictionAreCheckedAsForGetCase() async throws {
        try await withDispute { rpc, _ in
            let caseID = try await rpc.call(DisputeServiceMethods.openCase, gridReport(), headers: try TestMesh.eventDelivery()).case.id
            let own = try staff(street)
            for size: Int32 in [-1, 201] {
                await expectCode(.invalidArgument, containing: "page_size") {
                    _ = try await rpc.call(DisputeServiceMethods.listCaseReports, reports(caseID, size: size), headers: [own])
                }
                await expectCode(.invalidArgument, containing: "page_size") {
                    _ = try await rpc.call(DisputeServiceMethods.listCaseTimeline, timeline(caseID, size: size), headers: [own])
                }
            }
            #expect(try await rpc.call(DisputeServiceMethods.listCaseReports, reports(caseID, size: 200), headers: [own]).reports.count == 1)
            #expect(try await rpc.call(DisputeServiceMethods.listCaseTimeline, timeline(caseID, size: 1), headers: [own]).entries.count == 1)

            // A token that is not one, or one of the other listing, is refused, naming the field.
            let reportsToken = PageCursor(time: Date(), id: UUID()).token
            for token in ["not a token", "dGltZWxpbmV8eA==", reportsToken] {
                await expectCode(.invalidArgument, containing: "page_token") {
                    _ = try await rpc.call(DisputeServiceMethods.listCaseTimeline, timeline(caseID, token: token), headers: [own])
                }
            }
            for token in ["not a token", TimelineCursor(entry: 5).token] {
                await expectCode(.invalidArgument, containing: "page_token") {
                    _ = try await rpc.call(DisputeServiceMethods.listCaseReports, reports(caseID, token: token), headers: [own])
                }
            }
            await expectCode(.invalidArgument, containing: "case_id") {
                _ = try await rpc.call(DisputeServiceMethods.listCaseReports, reports("nope"), headers: [own])
            }

            // Another township, a department not summoned and a grid worker get what GetCase gives them.
            let sibling = try staff("430724002000")
            for method in ["reports", "timeline"] {
                await expectCode(.notFound, containing: "case \(caseID) not found") {
                    if method == "reports" { _ = try await rpc.call(DisputeServiceMethods.listCaseReports, reports(caseID), headers: [sibling]) }
                    else { _ = try await rpc.call(DisputeServiceMethods.listCaseTimeline, timeline(caseID), headers: [sibling]) }
                }
            }
            await expectCode(.notFound, containing: "case \(caseID) not found") {
                _ = try await rpc.call(DisputeServiceMethods.getCase, get(caseID), headers: [sibling])
            }
            let department = try TestMesh.principal(centre: street, roles: [.department], subject: "apikey:nobody")
            await expectCode(.notFound, containing: "case \(caseID) not found") {
                _ = try await rpc.call(DisputeServiceMethods.listCaseReports, reports(caseID), headers: [department])
            }
            let gridWorker = try TestMesh.principal(centre: community, roles: [.gridWorker])
            await expectCode(.permissionDenied) {
                _ = try await rpc.call(DisputeServiceMethods.listCaseTimeline, timeline(caseID), headers: [gridWorker])
            }
        }
    }

    @Test func migrationEightBackfillsOneReportPerExistingCaseFromWhatTheCaseHeld() async throws {
        try await TestDatabase.with { database in
            let pool = database.pool(maxConnections: 1)
            defer { Task { await pool.close() } }
            let logger = TestEnvironment.logger
            try await Migrator(schema: DisputeMigrations.schema, migrations: DisputeMigrations.all.filter { $0.version <= 7 }).migrate(pool, logger: logger)
            let id = UUID(), incident = UUID()
            try await pool.query(
                """
                INSERT INTO dispute.cases (id, incident_id, village_code, category, source, description, parties, threat_of_violence,
                    threat_of_self_harm, repeat_incident, prior_police_calls, opened_at, coordinator_code, violence_occurred, incidents)
                VALUES ($1, $2, '430724001201', 2, 1, '旧案', '[{"name":"甲","phone":"","minor":false},{"name":"乙","phone":"","minor":true}]'::jsonb,
                        true, false, true, 2, '2026-01-05T01:00:00Z', '430724001000', true, 2)
                """,
                [id, incident]
            )
            #expect(try await DisputeMigrations.migrator.migrate(pool, logger: logger).contains(8))
            let rows = try await pool.query("SELECT \(CaseRows.reportColumns) FROM dispute.case_reports WHERE case_id = $1", [id])
            #expect(rows.count == 1)
            let report = try CaseRows.decodeReport(try #require(rows.first))
            #expect(report.backfilled && report.openedCase && report.source == .gridReport && report.incidentID == incident)
            #expect(report.facts.violenceOccurred && report.facts.threatOfViolence && report.facts.minorsInvolved && report.facts.priorPoliceCalls == 2)
            #expect(report.reportedAt == Date(wireTimestamp: "2026-01-05T01:00:00.000Z"))
            let record = try CaseRows.decodeCase(try #require(try await pool.query("SELECT \(CaseRows.columns) FROM dispute.cases c WHERE c.id = $1", [id]).first))
            #expect(record.facts.minorsInvolved && record.joinedReport == nil && record.latest.source == .gridReport)
        }
    }
}

extension Pingan_Dispute_V1_OpenCaseRequest {
    /// The same report between other people.
    func between(_ names: [String]) -> Self {
        var copy = self
        copy.incidentID = UUID().wire
        copy.parties = names.map { name in .with { $0.name = name } }
        return copy
    }
}
