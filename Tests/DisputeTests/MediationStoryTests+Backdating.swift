@testable import DisputeService
import Foundation
import PinganAccess
import PinganConnect
import PinganContracts
import PinganDomain
import PinganOutbox
import PinganPostgres
import PinganTestSupport
import Testing

/// 补录 played through the service: a mediation across National Day written up after the
/// break, with the shipped calendar (2026-10-01 to 07 off, Saturday 10 October worked).
extension MediationStoryTests {
    func started(_ request: Pingan_Dispute_V1_StartRungRequest, at time: String) -> Pingan_Dispute_V1_StartRungRequest {
        var request = request
        request.startedAt = time
        return request
    }

    func ended(_ request: Pingan_Dispute_V1_EndRungRequest, at time: String) -> Pingan_Dispute_V1_EndRungRequest {
        var request = request
        request.endedAt = time
        return request
    }

    @Test func aMediationAcrossNationalDayWrittenUpAfterwardsCountsFromWhenItHappened() async throws {
        let clock = ManualClock(morningOf: "2026-09-28")  // Monday before the break
        let village = "430781103201", township = "430781103000"
        try await withDispute(clock) { rpc, database in
            let finder = try Self.caller(village, [.gridWorker], "user:wang")
            let townStaff = try Self.caller(township, [.staff, .mediator], "user:li")
            var intake = Pingan_Dispute_V1_IntakeCaseRequest()
            intake.requestID = UUID().wire
            intake.villageCode = village
            intake.category = .neighbour
            intake.source = .walkIn
            intake.description_p = "两户因排水沟堵塞争吵"
            intake.parties = [party("赵某"), party("钱某")]
            let caseID = try await rpc.call(DisputeServiceMethods.intakeCase, intake, headers: [finder]).case.id

            // The grid worker mediated on Tuesday 29 September and writes it up on Friday 9 October.
            clock.set(morningOf: "2026-10-09")
            let now = clock.now
            let first = rung(caseID, .finder, lead: "网格员王某")
            await expectCode(.invalidArgument, containing: "started_at: is in the future") {
                _ = try await rpc.call(DisputeServiceMethods.startRung, started(first, at: now.addingTimeInterval(1).wireTimestamp), headers: [finder])
            }
            await expectCode(.invalidArgument, containing: "started_at: is 31 days ago; steps may be recorded at most 30 days after they happened") {
                _ = try await rpc.call(DisputeServiceMethods.startRung, started(first, at: now.addingTimeInterval(-31 * 86_400).wireTimestamp), headers: [finder])
            }
            await expectCode(.invalidArgument, containing: "started_at: is before the case was opened") {
                _ = try await rpc.call(DisputeServiceMethods.startRung, started(first, at: "2026-09-27T10:00:00+08:00"), headers: [finder])
            }
            await expectCode(.invalidArgument, containing: "started_at: must be an RFC 3339 time") {
                _ = try await rpc.call(DisputeServiceMethods.startRung, started(first, at: "上周二"), headers: [finder])
            }
            #expect(try await count(database, "SELECT count(*) FROM dispute.rung_attempts") == 0)

            let attempt = try await rpc.call(DisputeServiceMethods.startRung, started(first, at: "2026-09-29T10:00:00+08:00"), headers: [finder]).attempt
            #expect(attempt.startedAt == "2026-09-29T02:00:00.000Z")
            #expect(attempt.startEnteredAt == "2026-10-09T01:00:00.000Z" && attempt.startedBy == "user:wang")
            // Three working days from Tuesday 29 September: Wednesday 30, then Thursday 8 and
            // Friday 9 October after the break. Counted from the entry it would be Tuesday 13;
            // Monday to Friday alone would make it Friday 2 October, in the middle of the break.
            #expect(attempt.deadline.dueAt == "2026-10-09T16:00:00.000Z")

            let eased = end(caseID, attempt.id, .eased)
            await expectCode(.invalidArgument, containing: "ended_at: is before the attempt's start (2026-09-29 10:00 China time)") {
                _ = try await rpc.call(DisputeServiceMethods.endRung, ended(eased, at: "2026-09-29T09:59:00+08:00"), headers: [finder])
            }
            await expectCode(.invalidArgument, containing: "ended_at: is in the future") {
                _ = try await rpc.call(DisputeServiceMethods.endRung, ended(eased, at: "2026-10-09T09:00:01+08:00"), headers: [finder])
            }
            let endedFirst = try await rpc.call(DisputeServiceMethods.endRung, ended(eased, at: "2026-09-30T16:00:00+08:00"), headers: [finder]).attempt
            #expect(endedFirst.endedAt == "2026-09-30T08:00:00.000Z")
            #expect(endedFirst.endedBy == "user:wang" && endedFirst.endEnteredAt == "2026-10-09T01:00:00.000Z")

            // Eased once: the rung again, not before the attempt before it ended.
            clock.advance(by: 3600)
            let again = rung(caseID, .finder, lead: "网格员王某")
            await expectCode(.invalidArgument, containing: "started_at: is before the previous attempt's end (2026-09-30 16:00 China time)") {
                _ = try await rpc.call(DisputeServiceMethods.startRung, started(again, at: "2026-09-30T15:00:00+08:00"), headers: [townStaff])
            }
            let second = try await rpc.call(DisputeServiceMethods.startRung, started(again, at: "2026-10-08T09:00:00+08:00"), headers: [townStaff]).attempt
            // Thursday 8 October: Friday 9, the make-up Saturday 10 and Monday 12.
            #expect(second.deadline.dueAt == "2026-10-12T16:00:00.000Z")
            let settled = try await rpc.call(
                DisputeServiceMethods.endRung,
                ended(end(caseID, second.id, .settled, agreement: ["赵某", "钱某"], on: "2026-10-08"), at: "2026-10-08T11:30:00+08:00"),
                headers: [townStaff]
            )
            #expect(settled.case.status == .settled)
            // Ten working days from the settlement on the 8th, not from its entry on the 9th.
            #expect(settled.returnVisit.deadline.dueAt == "2026-10-21T16:00:00.000Z")

            var visit = Pingan_Dispute_V1_RecordReturnVisitRequest()
            visit.caseID = caseID
            visit.outcome = .confirmed
            visit.note = "排水沟已疏通，双方无争执"
            visit.visitedAt = "2026-10-08T11:00:00+08:00"
            await expectCode(.invalidArgument, containing: "visited_at: is before the settlement") {
                _ = try await rpc.call(DisputeServiceMethods.recordReturnVisit, visit, headers: [townStaff])
            }
            visit.visitedAt = "2026-10-08T16:00:00+08:00"
            #expect(try await rpc.call(DisputeServiceMethods.recordReturnVisit, visit, headers: [townStaff]).case.status == .closed)
            #expect(try await count(database, """
                SELECT count(*) FROM dispute.cases
                WHERE settled_at = '2026-10-08T03:30:00Z' AND closed_at = '2026-10-08T08:00:00Z'
                """) == 1)

            // The record: the real times, and who entered each step and when.
            var get = Pingan_Dispute_V1_GetCaseRequest()
            get.caseID = caseID
            let file = try await rpc.call(DisputeServiceMethods.getCase, get, headers: [townStaff])
            #expect(file.rungs.map(\.startedAt) == ["2026-09-29T02:00:00.000Z", "2026-10-08T01:00:00.000Z"])
            #expect(file.rungs.map(\.startEnteredAt) == ["2026-10-09T01:00:00.000Z", "2026-10-09T02:00:00.000Z"])
            #expect(file.rungs.map(\.endedBy) == ["user:wang", "user:li"])
            #expect(file.returnVisit.visitedAt == "2026-10-08T08:00:00.000Z")
            #expect(file.returnVisit.enteredAt == "2026-10-09T02:00:00.000Z" && file.returnVisit.visitedBy == "user:li")
            let startLine = try #require(file.timeline.last { $0.kind == "rung_started" })
            #expect(startLine.at == "2026-10-09T01:00:00.000Z" && startLine.actor == "user:wang")
            #expect(startLine.note.hasSuffix("补录: happened 2026-09-29 10:00 China time"))
            #expect(file.timeline.contains { $0.kind == "rung_ended" && $0.note.contains("补录: happened 2026-09-30 16:00") })
            #expect(file.timeline.contains { $0.kind == "return_visit" && $0.actor == "user:li" && $0.note.contains("补录: happened 2026-10-08 16:00") })

            // The index counts each step in the month it happened, not the month it was entered.
            var facts = Pingan_Dispute_V1_CaseFactsRequest()
            facts.rootCode = township
            facts.month = "2026-09"
            let september = try #require(try await rpc.call(DisputeServiceMethods.caseFacts, facts, headers: [townStaff]).facts.first)
            #expect(september.opened == 1 && september.rungsEnded == 1 && september.rungsOnTime == 1 && september.rungsSettled == 0)
            facts.month = "2026-10"
            let october = try #require(try await rpc.call(DisputeServiceMethods.caseFacts, facts, headers: [townStaff]).facts.first)
            #expect(october.opened == 0 && october.rungsEnded == 1 && october.rungsSettled == 1 && october.rungsOnTime == 1)
            #expect(october.returnVisitsDone == 1 && october.returnVisitsConfirmed == 1 && october.overdueSteps == 0)
        }
    }

    /// A rung written up after its deadline passed, still open, is overdue at once: the scan
    /// marks it from its real deadline, not from the entry.
    @Test func anOpenRungRecordedAfterItsDeadlineIsOverdueAtOnce() async throws {
        let clock = ManualClock(morningOf: "2026-09-28")
        let village = "430781103201", township = "430781103000"
        try await withDispute(clock) { rpc, database in
            let finder = try Self.caller(village, [.gridWorker], "user:wang")
            var intake = Pingan_Dispute_V1_IntakeCaseRequest()
            intake.requestID = UUID().wire
            intake.villageCode = village
            intake.category = .land
            intake.source = .walkIn
            intake.description_p = "承包地界桩被移动"
            intake.parties = [party("孙某"), party("李某")]
            let caseID = try await rpc.call(DisputeServiceMethods.intakeCase, intake, headers: [finder]).case.id
            clock.set(morningOf: "2026-10-12")
            let attempt = try await rpc.call(
                DisputeServiceMethods.startRung, started(rung(caseID, .finder, lead: "网格员王某"), at: "2026-09-29T10:00:00+08:00"), headers: [finder]
            ).attempt
            #expect(attempt.deadline.dueAt == "2026-10-09T16:00:00.000Z")
            var list = Pingan_Dispute_V1_ListCasesRequest()
            list.divisionCode = township
            list.overdueOnly = true
            #expect(try await rpc.call(DisputeServiceMethods.listCases, list, headers: [try Self.caller(township, [.staff])]).cases.map(\.id) == [caseID])
            let pool = database.pool()
            defer { Task { await pool.close() } }
            #expect(try await OverdueScan(pool: pool, outbox: Outbox(schema: DisputeMigrations.schema)).run(now: clock.now, limit: 10) == 1)
        }
    }

    @Test func migrationNineTakesOldStepsAsEnteredWhenTheyHappened() async throws {
        try await TestDatabase.with { database in
            let pool = database.pool(maxConnections: 1)
            defer { Task { await pool.close() } }
            let logger = TestEnvironment.logger
            try await Migrator(schema: DisputeMigrations.schema, migrations: DisputeMigrations.all.filter { $0.version <= 8 }).migrate(pool, logger: logger)
            let caseID = UUID(), ended = UUID(), open = UUID(), agreement = UUID(), visit = UUID()
            let startedAt = "2026-03-02T01:00:00Z", endedAt = "2026-03-03T02:00:00Z", visitedAt = "2026-03-10T03:00:00Z"
            try await pool.query(
                """
                INSERT INTO dispute.cases (id, village_code, category, source, description, parties, threat_of_violence,
                    threat_of_self_harm, repeat_incident, prior_police_calls, opened_at, coordinator_code)
                VALUES ($1, '430781103201', 2, 4, '旧案', '[]'::jsonb, false, false, false, 0, '2026-03-01T01:00:00Z', '430781103000')
                """,
                [caseID]
            )
            for (id, end) in [(ended, endedAt as String?), (open, nil)] {
                try await pool.query(
                    """
                    INSERT INTO dispute.rung_attempts (id, case_id, rung, kind, lead, participants, bodies, centre_code, started_by,
                        started_at, due_at, beyond_calendar, outcome, ended_at)
                    VALUES ($1, $2, 1, 'peoples', '甲', '{}', '{}', '430781103201', 'user:a', $3::timestamptz, $3::timestamptz + interval '3 days',
                            false, CASE WHEN $4::timestamptz IS NULL THEN NULL ELSE 'settled' END, $4::timestamptz)
                    """,
                    [id, caseID, startedAt, end]
                )
            }
            try await pool.query(
                "INSERT INTO dispute.timeline (case_id, at, kind, note, actor) VALUES ($1, $2::timestamptz, 'rung_ended', 'rung 1 settled', 'user:b')",
                [caseID, endedAt]
            )
            try await pool.query(
                "INSERT INTO dispute.agreements (id, case_id, attempt_id, terms, signed_on, signatories, created_at) VALUES ($1, $2, $3, 'x', '2026-03-03', '{甲}', now())",
                [agreement, caseID, ended]
            )
            try await pool.query(
                """
                INSERT INTO dispute.return_visits (id, case_id, agreement_id, due_at, beyond_calendar, outcome, visited_at, visited_by, created_at)
                VALUES ($1, $2, $3, now(), false, 'confirmed', $4::timestamptz, 'user:c', now())
                """,
                [visit, caseID, agreement, visitedAt]
            )
            #expect(try await DisputeMigrations.migrator.migrate(pool, logger: logger).contains(9))
            let file = try #require(try await pool.withConnection { try await CaseRows.loadFile($0, caseID) })
            let old = try #require(file.attempts.first { $0.id == ended }), pending = try #require(file.attempts.first { $0.id == open })
            #expect(old.startEnteredAt == Date(wireTimestamp: startedAt) && old.endEnteredAt == Date(wireTimestamp: endedAt) && old.endedBy == "user:b")
            #expect(pending.startEnteredAt == Date(wireTimestamp: startedAt) && pending.endEnteredAt == nil && pending.endedBy == nil)
            #expect(file.returnVisit?.enteredAt == Date(wireTimestamp: visitedAt))
        }
    }
}
