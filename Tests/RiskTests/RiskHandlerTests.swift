import Foundation
import PinganAccess
import PinganConnect
import PinganContracts
import PinganOutbox
import PinganPostgres
import PinganRuntime
import PinganTestSupport
@testable import RiskService
import Testing

@Suite("risk-service in process")
struct RiskHandlerTests {
    func facts(case id: UUID = UUID(), village: String = Place.villageA, violence: Bool = false, repeated: Bool = false, selfHarm: Bool = false) -> Pingan_Risk_V1_AssessCaseRequest {
        var request = Pingan_Risk_V1_AssessCaseRequest()
        request.caseID = id.wire
        request.villageCode = village
        request.category = .neighbour
        request.partyCount = 2
        request.incidents = 1
        request.threatOfViolence = violence
        request.repeatIncident = repeated
        request.threatOfSelfHarm = selfHarm
        return request
    }

    func withRisk(_ clock: ManualClock = ManualClock(morningOf: "2026-05-04"), _ body: @escaping @Sendable (InProcessClient, TestDatabase) async throws -> Void) async throws {
        try await TestDatabase.with { database in
            let settings = RiskSettings(service: try TestMesh.settings(databaseURL: database.url), acknowledgeWithin: .seconds(30 * 60), scanInterval: .seconds(3600))
            let app = try RiskApp.build(settings: settings, now: { clock.now })
            try await app.test(.router) { client in try await body(InProcessClient(client), database) }
        }
    }

    /// The chores the app runs on a timer, to run by hand at the test's time.
    func choresByHand(_ pool: PostgresPool) throws -> RiskChores {
        let models = try RiskApp.bundledModels()
        return RiskChores(
            store: PostgresRiskStore(pool: pool, outbox: Outbox(schema: RiskMigrations.schema)), models: models,
            rules: WarningRules(threshold: models.threshold, acknowledgeWithin: .seconds(1800))
        )
    }

    func count(_ database: TestDatabase, _ sql: String) async throws -> Int {
        let pool = database.pool()
        defer { Task { await pool.close() } }
        return try await pool.query(sql).first?.decode(Int.self, at: 0) ?? -1
    }

    /// A case left open grows riskier with each month, with no event to say so: it is scored
    /// again as time passes, crosses the threshold on its own, and a further rise escalates
    /// the same warning. A settled case stops growing.
    @Test func anOpenCaseIsRescoredAsTimePassesUntilItCloses() async throws {
        let clock = ManualClock(morningOf: "2026-05-04")
        try await withRisk(clock) { rpc, database in
            let id = UUID()
            var request = facts(case: id)
            request.priorPoliceCalls = 4
            request.failedRungs = 1
            request.openedAt = clock.now.wireTimestamp
            #expect(try await rpc.call(RiskServiceMethods.assessCase, request, headers: try TestMesh.eventDelivery()).assessment.score == 50)
            let pool = database.pool()
            defer { Task { await pool.close() } }
            let chores = try choresByHand(pool)
            let staff = try person(Place.townA, [.staff])
            var get = Pingan_Risk_V1_GetAssessmentRequest()
            get.caseID = id.wire
            func assessment() async throws -> Pingan_Risk_V1_Assessment {
                try await rpc.call(RiskServiceMethods.getAssessment, get, headers: [staff]).assessment
            }

            #expect(try await chores.rescoreDue(now: clock.now) == 0)
            clock.advance(by: 31 * 86_400)
            #expect(try await chores.rescoreDue(now: clock.now) == 1)
            let quiet = try await assessment()
            #expect(quiet.score == 55 && quiet.warningID.isEmpty)
            #expect(try await chores.rescoreDue(now: clock.now) == 0)
            clock.advance(by: 30 * 86_400)
            #expect(try await chores.rescoreDue(now: clock.now) == 1)
            let warned = try await assessment()
            #expect(warned.score == 60 && !warned.warningID.isEmpty)
            clock.advance(by: 30 * 86_400)
            #expect(try await chores.rescoreDue(now: clock.now) == 1)
            #expect(try await assessment().score == 65)
            #expect(try await count(database, "SELECT count(*) FROM risk.warnings WHERE case_id = '\(id.wire)'") == 1)
            #expect(try await count(database, "SELECT count(*) FROM risk.warning_steps WHERE kind = 'score_rose'") == 1)

            // Settled: dispute-service says so, and time no longer raises the score.
            request.closed = true
            _ = try await rpc.call(RiskServiceMethods.assessCase, request, headers: try TestMesh.eventDelivery())
            clock.advance(by: 60 * 86_400)
            #expect(try await chores.rescoreDue(now: clock.now) == 0)
            #expect(try await count(database, "SELECT count(*) FROM risk.assessment_history WHERE case_id = '\(id.wire)'") == 5)
            #expect(try await count(database, "SELECT count(*) FROM risk.warnings WHERE case_id = '\(id.wire)'") == 1)
        }
    }

    @Test func aScoreAtTheThresholdRaisesOneWarningToTheTownshipAndItsEvent() async throws {
        try await withRisk { rpc, database in
            let high = facts(violence: true, repeated: true)
            let event = try TestMesh.eventDelivery()
            let assessed = try await rpc.call(RiskServiceMethods.assessCase, high, headers: event)
            let again = try await rpc.call(RiskServiceMethods.assessCase, high, headers: event)
            #expect(assessed.assessment.score == 100)
            #expect(assessed.assessment.threshold == 60)
            #expect(!assessed.assessment.warningID.isEmpty)
            #expect(again.assessment.warningID == assessed.assessment.warningID)
            #expect(again.assessment.history.count == 1)
            let low = try await rpc.call(RiskServiceMethods.assessCase, facts(), headers: try TestMesh.eventDelivery())
            #expect(low.assessment.score == 20)
            #expect(low.assessment.warningID.isEmpty)

            var list = Pingan_Risk_V1_ListWarningsRequest()
            list.centreCode = Place.townA
            let warnings = try await rpc.call(RiskServiceMethods.listWarnings, list, headers: [try person(Place.townA, [.staff])]).warnings
            #expect(warnings.map(\.id) == [assessed.assessment.warningID])
            #expect(warnings.first?.centreCode == Place.townA)
            #expect(try await count(database, "SELECT count(*) FROM risk.outbox WHERE topic = 'warning.raised'") == 1)
        }
    }

    /// The level is recorded as the scoring model version's bands gave it: a later version
    /// with other bands gives later scores its own level, while the case's earlier scores keep
    /// theirs; the warning says the gravest, and the push to notify-service carries it.
    @Test func eachScoreKeepsTheLevelOfTheModelVersionThatGaveIt() async throws {
        let clock = ManualClock(morningOf: "2026-05-04")
        try await withRisk(clock) { rpc, database in
            let id = UUID()
            var request = facts(case: id, repeated: true)
            request.priorPoliceCalls = 3
            request.openedAt = clock.now.wireTimestamp
            // 邻里 20 + repeat 40 + police calls 15 = 75: 较大 under 2026.11-1 (重大 from 80).
            let first = try await rpc.call(RiskServiceMethods.assessCase, request, headers: try TestMesh.eventDelivery()).assessment
            #expect(first.score == 75 && first.level == .serious && first.history.map(\.level) == [.serious])
            let pool = database.pool()
            defer { Task { await pool.close() } }
            let raised = try await pool.query("SELECT payload FROM risk.outbox WHERE topic = 'warning.raised'").map {
                try Pingan_Notify_V1_DeliverWarningRequest(serializedBytes: [UInt8](try $0.decode(Data.self, at: 0)))
            }
            #expect(raised.map(\.level) == [.serious])

            // A later version whose bands make 70 重大 scores the case again a month on: 80.
            let bundled = try RiskApp.bundledModels()
            let next = RiskModelCatalogue(version: "2027.01-1", threshold: 60, levels: RiskBands(serious: 50, major: 70, decisive: .major), models: bundled.models)
            let chores = RiskChores(
                store: PostgresRiskStore(pool: pool, outbox: Outbox(schema: RiskMigrations.schema)), models: next,
                rules: WarningRules(threshold: 60, acknowledgeWithin: .seconds(1800))
            )
            clock.advance(by: 31 * 86_400)
            #expect(try await chores.rescoreDue(now: clock.now) == 1)
            var get = Pingan_Risk_V1_GetAssessmentRequest()
            get.caseID = id.wire
            let staff = try person(Place.townA, [.staff])
            let later = try await rpc.call(RiskServiceMethods.getAssessment, get, headers: [staff]).assessment
            #expect(later.score == 80 && later.level == .major && later.modelVersion == "2027.01-1/neighbour")
            // The first score stays 较大, though the new bands would call 75 重大.
            #expect(later.history.map(\.score) == [75, 80])
            #expect(later.history.map(\.level) == [.serious, .major])
            #expect(later.history.map(\.modelVersion) == ["2026.11-1/neighbour", "2027.01-1/neighbour"])
            var warning = Pingan_Risk_V1_GetWarningRequest()
            warning.warningID = first.warningID
            #expect(try await rpc.call(RiskServiceMethods.getWarning, warning, headers: [staff]).warning.level == .major)
            var list = Pingan_Risk_V1_ListWarningsRequest()
            list.centreCode = Place.townA
            #expect(try await rpc.call(RiskServiceMethods.listWarnings, list, headers: [staff]).warnings.map(\.level) == [.major])
            // The risen score's push says the warning's level too.
            let notices = try await pool.query("SELECT payload FROM risk.outbox WHERE topic = 'warning.notice'").map {
                try Pingan_Notify_V1_DeliverNoticeRequest(serializedBytes: [UInt8](try $0.decode(Data.self, at: 0)))
            }
            #expect(notices.map(\.type) == ["warning.escalated"] && notices.map(\.level) == [.major])
            #expect(notices.map(\.warningID) == [first.warningID])
            _ = database
        }
    }

    /// A decisive fact makes the warning 重大 whatever its score, and its push says so.
    @Test func aDecisiveWarningIsMajorOnTheAssessmentTheWarningAndItsPush() async throws {
        try await withRisk { rpc, database in
            let assessed = try await rpc.call(RiskServiceMethods.assessCase, facts(selfHarm: true), headers: try TestMesh.eventDelivery()).assessment
            // 邻里 20 + a threat of self-harm 40 = 60: 较大 by points alone.
            #expect(assessed.score == 60 && assessed.level == .major)
            var get = Pingan_Risk_V1_GetWarningRequest()
            get.warningID = assessed.warningID
            #expect(try await rpc.call(RiskServiceMethods.getWarning, get, headers: [try person(Place.townA, [.staff])]).warning.level == .major)
            let pool = database.pool()
            defer { Task { await pool.close() } }
            let raised = try await pool.query("SELECT payload FROM risk.outbox WHERE topic = 'warning.raised'").map {
                try Pingan_Notify_V1_DeliverWarningRequest(serializedBytes: [UInt8](try $0.decode(Data.self, at: 0)))
            }
            #expect(raised.map(\.level) == [.major] && raised.map(\.decisive) == [true])
        }
    }

    @Test func reScoringKeepsTheHistoryAndARisingScoreRegroupsTheOpenWarning() async throws {
        try await withRisk { rpc, database in
            let id = UUID()
            let first = try await rpc.call(RiskServiceMethods.assessCase, facts(case: id, repeated: true), headers: try TestMesh.eventDelivery())
            #expect(first.assessment.score == 60)
            var worse = facts(case: id, repeated: true)
            worse.violenceOccurred = true
            worse.incidents = 2
            let second = try await rpc.call(RiskServiceMethods.assessCase, worse, headers: try TestMesh.eventDelivery())
            #expect(second.assessment.score == 100)
            #expect(second.assessment.history.map(\.score) == [60, 100])
            #expect(second.assessment.warningID == first.assessment.warningID)
            #expect(second.assessment.reasons.contains { $0.rule == "violence_occurred" && $0.decisive })
            // The answer is built from what was written, without reading it back: it is
            // exactly what a later read finds.
            var read = Pingan_Risk_V1_GetAssessmentRequest()
            read.caseID = id.wire
            let stored = try await rpc.call(RiskServiceMethods.getAssessment, read, headers: [try person(Place.townA, [.staff])]).assessment
            #expect(stored == second.assessment)
            var get = Pingan_Risk_V1_GetWarningRequest()
            get.warningID = first.assessment.warningID
            let warning = try await rpc.call(RiskServiceMethods.getWarning, get, headers: [try person(Place.townA, [.staff])]).warning
            #expect(warning.count == 2)
            #expect(warning.score == 100)
            #expect(warning.steps.map(\.kind) == ["raised", "score_rose"])
            #expect(try await count(database, "SELECT count(*) FROM risk.warnings") == 1)
            #expect(try await count(database, "SELECT count(*) FROM risk.outbox WHERE topic = 'warning.notice'") == 1)
        }
    }

    @Test func theVillageSeesAndAcknowledgesAndTheLoopRunsInOrderToAClosedOutcome() async throws {
        try await withRisk { rpc, _ in
            let assessed = try await rpc.call(RiskServiceMethods.assessCase, facts(village: Place.villageA, repeated: true), headers: try TestMesh.eventDelivery())
            let id = assessed.assessment.warningID
            let village = try person(Place.villageA, [.staff, .mediator])
            let township = try person(Place.townA, [.staff, .mediator, .leader])

            var list = Pingan_Risk_V1_ListWarningsRequest()
            list.centreCode = Place.villageA
            #expect(try await rpc.call(RiskServiceMethods.listWarnings, list, headers: [village]).warnings.map(\.id) == [id])

            var feedback = Pingan_Risk_V1_FeedBackOnWarningRequest()
            feedback.warningID = id
            feedback.feedback = "已上门化解"
            await expectCode(.failedPrecondition, containing: "feed_back follows handling") {
                _ = try await rpc.call(RiskServiceMethods.feedBackOnWarning, feedback, headers: [village])
            }
            var acknowledge = Pingan_Risk_V1_AcknowledgeWarningRequest()
            acknowledge.warningID = id
            await expectCode(.notFound, containing: "warning \(id) not found") {
                _ = try await rpc.call(RiskServiceMethods.acknowledgeWarning, acknowledge, headers: [try person(Place.townB, [.staff])])
            }
            let acknowledged = try await rpc.call(RiskServiceMethods.acknowledgeWarning, acknowledge, headers: [village]).warning
            #expect(acknowledged.status == .acknowledged && acknowledged.escalatesAt.isEmpty)
            var assign = Pingan_Risk_V1_AssignWarningRequest()
            assign.warningID = id
            assign.assignee = "社区治调主任"
            #expect(try await rpc.call(RiskServiceMethods.assignWarning, assign, headers: [village]).warning.status == .handling)
            #expect(try await rpc.call(RiskServiceMethods.feedBackOnWarning, feedback, headers: [village]).warning.status == .fedBack)
            var evaluate = Pingan_Risk_V1_EvaluateWarningRequest()
            evaluate.warningID = id
            evaluate.evaluation = "双方情绪平稳，持续跟踪"
            await expectCode(.permissionDenied, containing: "only centre \(Place.townA)") {
                _ = try await rpc.call(RiskServiceMethods.evaluateWarning, evaluate, headers: [try person(Place.villageA, [.staff, .leader])])
            }
            #expect(try await rpc.call(RiskServiceMethods.evaluateWarning, evaluate, headers: [township]).warning.status == .evaluated)
            var close = Pingan_Risk_V1_CloseWarningRequest()
            close.warningID = id
            await expectCode(.invalidArgument, containing: "outcome: is required") {
                _ = try await rpc.call(RiskServiceMethods.closeWarning, close, headers: [township])
            }
            close.outcome = "矛盾已化解，风险解除"
            let closed = try await rpc.call(RiskServiceMethods.closeWarning, close, headers: [township]).warning
            #expect(closed.status == .closed && closed.outcome == "矛盾已化解，风险解除" && closed.assignee == "社区治调主任")
            var get = Pingan_Risk_V1_GetWarningRequest()
            get.warningID = id
            #expect(try await rpc.call(RiskServiceMethods.getWarning, get, headers: [township]).warning.steps.map(\.kind)
                    == ["raised", "acknowledge", "assign", "feed_back", "evaluate", "close"])
        }
    }

    @Test func anUnacknowledgedWarningEscalatesTownshipCountyCityOnTheWallClock() async throws {
        let clock = ManualClock(morningOf: "2026-05-04")
        try await withRisk(clock) { rpc, database in
            let assessed = try await rpc.call(RiskServiceMethods.assessCase, facts(selfHarm: true), headers: try TestMesh.eventDelivery())
            let pool = database.pool()
            defer { Task { await pool.close() } }
            let chores = try choresByHand(pool)
            var get = Pingan_Risk_V1_GetWarningRequest()
            get.warningID = assessed.assessment.warningID
            let city = try person("430700000000", [.staff])
            func centre() async throws -> String { try await rpc.call(RiskServiceMethods.getWarning, get, headers: [city]).warning.centreCode }

            clock.advance(by: 29 * 60)
            #expect(try await chores.escalateDue(now: clock.now) == 0)
            #expect(try await centre() == Place.townA)
            clock.advance(by: 2 * 60)
            #expect(try await chores.escalateDue(now: clock.now) == 1)
            #expect(try await centre() == Place.lixian)
            clock.advance(by: 31 * 60)
            #expect(try await chores.escalateDue(now: clock.now) == 1)
            #expect(try await centre() == "430700000000")
            #expect(try await count(database, "SELECT count(*) FROM risk.outbox WHERE topic = 'warning.notice'") == 2)

            // Acknowledged at the city, it escalates no further.
            var acknowledge = Pingan_Risk_V1_AcknowledgeWarningRequest()
            acknowledge.warningID = assessed.assessment.warningID
            _ = try await rpc.call(RiskServiceMethods.acknowledgeWarning, acknowledge, headers: [city])
            clock.advance(by: 3 * 3600)
            #expect(try await chores.escalateDue(now: clock.now) == 0)
            let steps = try await rpc.call(RiskServiceMethods.getWarning, get, headers: [city]).warning.steps.map(\.kind)
            #expect(steps == ["raised", "escalated", "escalated", "acknowledge"])
        }
    }

    @Test func onlyTheOwningTownshipOrAboveAcknowledges() async throws {
        try await withRisk { rpc, _ in
            let assessed = try await rpc.call(RiskServiceMethods.assessCase, facts(violence: true, repeated: true), headers: try TestMesh.eventDelivery())
            var acknowledge = Pingan_Risk_V1_AcknowledgeWarningRequest()
            acknowledge.warningID = assessed.assessment.warningID
            await expectCode(.notFound, containing: "warning \(acknowledge.warningID) not found") {
                _ = try await rpc.call(RiskServiceMethods.acknowledgeWarning, acknowledge, headers: [try person(Place.townB, [.staff])])
            }
            let acknowledged = try await rpc.call(RiskServiceMethods.acknowledgeWarning, acknowledge, headers: [try person(Place.lixian, [.staff])])
            #expect(acknowledged.warning.status == .acknowledged)

            var get = Pingan_Risk_V1_GetAssessmentRequest()
            get.caseID = assessed.assessment.caseID
            await expectCode(.notFound) {
                _ = try await rpc.call(RiskServiceMethods.getAssessment, get, headers: [try person(Place.townB, [.staff])])
            }
            let seen = try await rpc.call(RiskServiceMethods.getAssessment, get, headers: [try person(Place.townA, [.leader])])
            #expect(seen.assessment.reasons.map(\.rule) == ["category", "repeat_incident", "threat_of_violence"])
        }
    }
}
