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

/// The social-risk topic database (issue 28): clusters of incidents warn where no single case
/// does, through the same closed loop; their pushes are grouped and hold back their members'.
@Suite("risk-service: cluster warnings")
struct ClusterWarningTests {
    /// 白衣镇 (津市市) and two of its villages.
    static let baiyi = "430781103000"
    static let village = "430781103201"
    static let otherVillage = "430781103202"

    /// A party key as dispute-service sends them, for a person numbered `n`.
    static func key(_ kind: String, _ n: Int) -> String {
        kind + ":" + String(repeating: String(format: "%02x", n % 256), count: 32)
    }

    func land(_ id: UUID = UUID(), village: String = Self.village, source: Pingan_Dispute_V1_CaseSource, openedAt: Date, keys: [String] = []) -> Pingan_Risk_V1_AssessCaseRequest {
        var request = Pingan_Risk_V1_AssessCaseRequest()
        request.caseID = id.wire
        request.villageCode = village
        request.category = .land
        request.partyCount = 2
        request.incidents = 1
        request.source = source
        request.openedAt = openedAt.wireTimestamp
        request.partyKeys = keys
        return request
    }

    /// Delivers `request` as dispute-service's `AssessCase` event does; the assessment made.
    func assess(_ rpc: InProcessClient, _ request: Pingan_Risk_V1_AssessCaseRequest) async throws -> Pingan_Risk_V1_Assessment {
        try await rpc.call(RiskServiceMethods.assessCase, request, headers: try TestMesh.eventDelivery()).assessment
    }

    func withRisk(
        _ clock: ManualClock, rulesFile: String? = nil,
        _ body: @escaping @Sendable (InProcessClient, TestDatabase, RiskChores) async throws -> Void
    ) async throws {
        try await TestDatabase.with { database in
            var settings = RiskSettings(service: try TestMesh.settings(databaseURL: database.url), acknowledgeWithin: .seconds(30 * 60), scanInterval: .seconds(3600))
            settings.clusterRulesFile = rulesFile
            settings.groupWait = .seconds(30)
            let app = try RiskApp.build(settings: settings, now: { clock.now })
            try await app.test(.router) { client in
                let pool = database.pool()
                defer { Task { await pool.close() } }
                let models = try RiskApp.bundledModels()
                let chores = RiskChores(
                    store: PostgresRiskStore(pool: pool, outbox: Outbox(schema: RiskMigrations.schema)), models: models,
                    rules: WarningRules(threshold: models.threshold, acknowledgeWithin: .seconds(1800)),
                    clusterRules: try RiskApp.clusterRules(rulesFile)
                )
                try await body(InProcessClient(client), database, chores)
            }
        }
    }

    /// The `DeliverWarning` pushes risk-service has queued for notify-service, in the order queued.
    func pushes(_ database: TestDatabase) async throws -> [Pingan_Notify_V1_DeliverWarningRequest] {
        let pool = database.pool()
        defer { Task { await pool.close() } }
        return try await pool.query("SELECT payload FROM risk.outbox WHERE topic = 'warning.raised' ORDER BY created_at, id").map {
            try Pingan_Notify_V1_DeliverWarningRequest(serializedBytes: [UInt8](try $0.decode(Data.self, at: 0)))
        }
    }

    func warnings(_ rpc: InProcessClient, under centre: String) async throws -> [Pingan_Risk_V1_Warning] {
        var list = Pingan_Risk_V1_ListWarningsRequest()
        list.centreCode = centre
        return try await rpc.call(RiskServiceMethods.listWarnings, list, headers: [try person(centre, [.staff])]).warnings
    }

    /// Six land disputes in one village of 白衣镇 within two weeks, from three sources: one
    /// cluster warning to the township listing the six, pushed once when its group wait is
    /// over and no push per case; a seventh joins it and is not pushed again; an eighth that
    /// is high-risk but not decisive is held back, one with violence is pushed on its own.
    @Test func sixLandDisputesInOneVillageRaiseOneClusterWarningPushedOnce() async throws {
        let clock = ManualClock(morningOf: "2026-12-01")
        try await withRisk(clock) { rpc, database, chores in
            let sources: [Pingan_Dispute_V1_CaseSource] = [.gridReport, .screening, .hotline]
            var ids: [UUID] = []
            for n in 0..<6 {
                if n > 0 { clock.advance(by: 2 * 86_400 + 3600) }
                let id = UUID()
                ids.append(id)
                let event = land(id, source: sources[n % 3], openedAt: clock.now, keys: [Self.key("name_phone", n + 10)])
                let assessed = try await assess(rpc, event)
                #expect(assessed.warningID.isEmpty)
                if n == 4 { #expect(try await warnings(rpc, under: Self.baiyi).isEmpty) }
            }
            // The sixth made it: one cluster warning owned by the township, with the six.
            let listed = try await warnings(rpc, under: Self.baiyi)
            #expect(listed.count == 1)
            let cluster = try #require(listed.first)
            #expect(cluster.caseID.isEmpty && cluster.centreCode == Self.baiyi && cluster.villageCode == Self.village)
            #expect(cluster.memberCaseIds == ids.map(\.wire))
            #expect(cluster.rule == "land-village-14d" && cluster.rulesVersion == "2026.12-1" && cluster.status == .raised)
            // Not yet pushed: the group wait gathers what else arrives.
            // (The service's own round pushes too, by the same clock, once a test has run 30 s:
            // what was pushed is checked, not which round pushed it.)
            #expect(try await pushes(database).isEmpty)
            _ = try await chores.pushDueClusters(now: clock.now)
            #expect(try await pushes(database).isEmpty)

            clock.advance(by: 31)
            _ = try await chores.pushDueClusters(now: clock.now)
            _ = try await chores.pushDueClusters(now: clock.now)
            let pushed = try await pushes(database)
            #expect(pushed.count == 1)
            #expect(pushed.first?.warningID == cluster.id && pushed.first?.centreCode == Self.baiyi && pushed.first?.caseID == "")
            #expect(pushed.first?.reasons.last == "member cases: " + ids.map(\.wire).joined(separator: ", "))
            #expect(pushed.first?.factors.first?.label.contains("关联案件6起") == true)

            // A seventh joins the open cluster, and pushes nothing of its own.
            clock.advance(by: 3600)
            let seventh = UUID()
            _ = try await assess(rpc, land(seventh, source: .walkIn, openedAt: clock.now))
            var get = Pingan_Risk_V1_GetWarningRequest()
            get.warningID = cluster.id
            let grown = try await rpc.call(RiskServiceMethods.getWarning, get, headers: [try person(Self.baiyi, [.staff])]).warning
            #expect(grown.memberCaseIds == (ids + [seventh]).map(\.wire) && grown.count == 7)
            #expect(grown.steps.map(\.kind) == ["raised", "pushed", "member_joined"])
            #expect(try await warnings(rpc, under: Self.baiyi).count == 1)

            // An eighth, high-risk (land 20 + threat 40 + repeat 30), warns as a case but its
            // push is held back by the open cluster; a ninth with violence is decisive and pushed.
            var high = land(source: .policeTransfer, openedAt: clock.now)
            high.threatOfViolence = true
            high.repeatIncident = true
            let held = try await assess(rpc, high)
            #expect(!held.warningID.isEmpty)
            get.warningID = held.warningID
            let heldWarning = try await rpc.call(RiskServiceMethods.getWarning, get, headers: [try person(Self.baiyi, [.staff])]).warning
            #expect(heldWarning.heldBy == cluster.id && heldWarning.escalatesAt.isEmpty && heldWarning.rulesVersion == "2026.11-1/land")
            var violent = land(source: .policeTransfer, openedAt: clock.now)
            violent.violenceOccurred = true
            let decisive = try await assess(rpc, violent)
            clock.advance(by: 3600)
            _ = try await chores.pushDueClusters(now: clock.now)
            let after = try await pushes(database)
            #expect(after.count == 2 && Set(after.map(\.warningID)) == [cluster.id, decisive.warningID])
            #expect(after.first { $0.warningID == decisive.warningID }?.caseID == violent.caseID)

            // The cluster runs the case warning's loop, to a closed outcome.
            let township = try person(Self.baiyi, [.staff, .mediator, .leader])
            var acknowledge = Pingan_Risk_V1_AcknowledgeWarningRequest()
            acknowledge.warningID = cluster.id
            #expect(try await rpc.call(RiskServiceMethods.acknowledgeWarning, acknowledge, headers: [township]).warning.status == .acknowledged)
            var assign = Pingan_Risk_V1_AssignWarningRequest()
            assign.warningID = cluster.id
            assign.assignee = "政法委员"
            #expect(try await rpc.call(RiskServiceMethods.assignWarning, assign, headers: [township]).warning.status == .handling)
            // Another township's staff does not see it.
            await expectCode(.notFound) {
                _ = try await rpc.call(RiskServiceMethods.getWarning, get, headers: [try person(Place.townA, [.staff])])
            }
        }
    }

    /// Inhibition wants the same centre, as Alertmanager's `equal` labels do: thirty incidents
    /// in 白衣镇 within a week (any-township-7d) warn the county and hold back none of the
    /// township's own warnings of their cases, whether raised by the thirtieth itself, by one
    /// joining later or by the rescoring chore months on; a village's land cluster, which warns
    /// the township, does hold back its members' township warnings, here too.
    @Test func aClusterWarningTheCountyDoesNotHoldBackItsMembersTownshipWarnings() async throws {
        let clock = ManualClock(morningOf: "2026-12-01")
        try await withRisk(clock) { rpc, database, chores in
            let county = "430781000000"
            let villages = [Self.village, Self.otherVillage, "430781103203"]
            func neighbour(_ n: Int) -> Pingan_Risk_V1_AssessCaseRequest {
                clock.advance(by: 600)
                var request = land(village: villages[n % 3], source: .hotline, openedAt: clock.now)
                request.category = .neighbour
                return request
            }
            /// The case's warning as stored: who it warns, the cluster holding it, whether it escalates.
            func stored(_ caseID: String) async throws -> (centre: String, heldBy: UUID?, escalates: Bool)? {
                let pool = database.pool()
                defer { Task { await pool.close() } }
                return try await pool.query("SELECT centre_code, held_by, escalates_at IS NOT NULL FROM risk.warnings WHERE case_id = $1::uuid", [caseID]).first.map {
                    (try $0.decode(String.self, at: 0), try $0.decode(UUID?.self, at: 1), try $0.decode(Bool.self, at: 2))
                }
            }
            func pushed(_ caseID: String) async throws -> [Pingan_Notify_V1_DeliverWarningRequest] {
                try await pushes(database).filter { $0.caseID == caseID }
            }

            // Twenty-nine quiet ones; the twenty-ninth at 50 (20 + police calls 20 + minors 10),
            // which two months open will raise to the threshold.
            for n in 0..<28 { #expect(try await assess(rpc, neighbour(n)).warningID.isEmpty) }
            var slow = neighbour(28)
            slow.priorPoliceCalls = 4
            slow.minorsInvolved = true
            #expect(try await assess(rpc, slow).warningID.isEmpty)
            // The thirtieth, high-risk but not decisive (20 + repeat 40 + threat 40), makes the
            // count: a cluster warning to the county, and the case's own to the township, pushed.
            var high = neighbour(29)
            high.threatOfViolence = true
            high.repeatIncident = true
            #expect(!(try await assess(rpc, high).warningID.isEmpty))
            let countyClusters = try await warnings(rpc, under: county).filter { $0.rule == "any-township-7d" }
            let countyCluster = try #require(countyClusters.first)
            #expect(countyClusters.count == 1 && countyCluster.centreCode == county && countyCluster.villageCode == Self.baiyi)
            #expect(countyCluster.memberCaseIds.count == 30 && countyCluster.level == .major)
            #expect(try await stored(high.caseID).map { $0.centre == Self.baiyi && $0.heldBy == nil && $0.escalates } == true)
            #expect(try await pushed(high.caseID).map(\.centreCode) == [Self.baiyi])

            // A thirty-first joins the county's cluster, and its own warning goes to the township.
            var joining = neighbour(30)
            joining.threatOfViolence = true
            joining.repeatIncident = true
            #expect(!(try await assess(rpc, joining).warningID.isEmpty))
            #expect(try await stored(joining.caseID).map { $0.heldBy == nil && $0.escalates } == true)
            #expect(try await pushed(joining.caseID).map(\.centreCode) == [Self.baiyi])

            // Six land disputes in one village: a cluster to the township, and its members in the
            // county's too. The sixth, high-risk, is held back by the township's cluster, the one
            // warning the centre its own warning warns; the fifth, at 50, waits for the months.
            var slowLand = land(source: .gridReport, openedAt: clock.now)
            for n in 0..<5 {
                clock.advance(by: 600)
                var quiet = land(source: .gridReport, openedAt: clock.now)
                if n == 4 {
                    quiet.priorPoliceCalls = 4
                    quiet.minorsInvolved = true
                    slowLand = quiet
                }
                #expect(try await assess(rpc, quiet).warningID.isEmpty)
            }
            clock.advance(by: 600)
            var sixth = land(source: .policeTransfer, openedAt: clock.now)
            sixth.threatOfViolence = true
            sixth.repeatIncident = true
            #expect(!(try await assess(rpc, sixth).warningID.isEmpty))
            let landCluster = try #require(try await warnings(rpc, under: Self.baiyi).first { $0.rule == "land-village-14d" })
            #expect(landCluster.centreCode == Self.baiyi && landCluster.memberCaseIds.contains(sixth.caseID))
            var get = Pingan_Risk_V1_GetWarningRequest()
            get.warningID = countyCluster.id
            #expect(try await rpc.call(RiskServiceMethods.getWarning, get, headers: [try person(county, [.staff])]).warning.memberCaseIds.contains(sixth.caseID))
            #expect(try await stored(sixth.caseID).map { $0.heldBy?.wire == landCluster.id && !$0.escalates } == true)
            #expect(try await pushed(sixth.caseID).isEmpty)

            // Two months on, time raises the two slow cases to the threshold: the neighbour dispute,
            // in the county's cluster only, warns the township; the land dispute is held back.
            clock.advance(by: 61 * 86_400)
            #expect(try await chores.rescoreDue(now: clock.now) == 37)
            #expect(try await stored(slow.caseID).map { $0.centre == Self.baiyi && $0.heldBy == nil && $0.escalates } == true)
            #expect(try await pushed(slow.caseID).map(\.centreCode) == [Self.baiyi])
            #expect(try await stored(slowLand.caseID).map { $0.heldBy?.wire == landCluster.id && !$0.escalates } == true)
            #expect(try await pushed(slowLand.caseID).isEmpty)
        }
    }

    /// Unacknowledged, a cluster warning escalates like a case's: township to county, with a
    /// notice naming its first member case.
    @Test func anUnacknowledgedClusterEscalatesToTheCounty() async throws {
        let clock = ManualClock(morningOf: "2026-12-01")
        try await withRisk(clock) { rpc, database, chores in
            for n in 0..<6 {
                _ = try await assess(rpc, land(source: .gridReport, openedAt: clock.now, keys: [Self.key("phone", n)]))
            }
            let cluster = try #require(try await warnings(rpc, under: Self.baiyi).first)
            clock.advance(by: 31 * 60)
            #expect(try await chores.escalateDue(now: clock.now) == 1)
            var get = Pingan_Risk_V1_GetWarningRequest()
            get.warningID = cluster.id
            let county = try person("430781000000", [.staff])
            #expect(try await rpc.call(RiskServiceMethods.getWarning, get, headers: [county]).warning.centreCode == "430781000000")
            let pool = database.pool()
            defer { Task { await pool.close() } }
            let notices = try await pool.query("SELECT payload FROM risk.outbox WHERE topic = 'warning.notice'").map {
                try Pingan_Notify_V1_DeliverNoticeRequest(serializedBytes: [UInt8](try $0.decode(Data.self, at: 0)))
            }
            #expect(notices.map(\.caseID) == [cluster.memberCaseIds[0]])
        }
    }

    /// A village's land cluster pushed with six cases is not pushed for the seventh to the
    /// eleventh; the twelfth doubles it, and once the group wait is over (the thirteenth
    /// arriving meanwhile) the township is pushed `warning.grew` with thirteen, naming the
    /// newest case. The next push waits for twenty-six. (From the tenth, the township's land
    /// disputes also rise over past years' and warn the county: a cluster with pushes of its own.)
    @Test func aClusterIsPushedAgainWhenItHasDoubledNotForEachCase() async throws {
        let clock = ManualClock(morningOf: "2026-12-01")
        try await withRisk(clock) { rpc, database, chores in
            let pool = database.pool()
            defer { Task { await pool.close() } }
            var ids: [UUID] = []
            func dispute() async throws {
                let id = UUID()
                ids.append(id)
                _ = try await assess(rpc, land(id, source: .gridReport, openedAt: clock.now, keys: [Self.key("phone", ids.count)]))
                clock.advance(by: 10)
            }
            for _ in 0..<6 { try await dispute() }
            clock.advance(by: 31)
            _ = try await chores.pushDueClusters(now: clock.now)
            #expect(try await pushes(database).count == 1)
            let cluster = try #require(try await warnings(rpc, under: Self.baiyi).first)
            // The township has it in hand.
            var acknowledge = Pingan_Risk_V1_AcknowledgeWarningRequest()
            acknowledge.warningID = cluster.id
            _ = try await rpc.call(RiskServiceMethods.acknowledgeWarning, acknowledge, headers: [try person(Self.baiyi, [.staff, .mediator, .leader])])
            /// The cluster's `warning.grew` notices queued for notify-service.
            func grew() async throws -> [Pingan_Notify_V1_DeliverNoticeRequest] {
                try await pool.query("SELECT payload FROM risk.outbox WHERE topic = 'warning.notice' ORDER BY created_at").map {
                    try Pingan_Notify_V1_DeliverNoticeRequest(serializedBytes: [UInt8](try $0.decode(Data.self, at: 0)))
                }.filter { $0.type == "warning.grew" && $0.summary.contains(cluster.id) }
            }

            for _ in 6..<11 { try await dispute() }
            _ = try await chores.pushDueClusters(now: clock.now)
            #expect(try await grew().isEmpty)

            try await dispute()
            // Due after the group wait, not before; the thirteenth goes in the same push.
            _ = try await chores.pushDueClusters(now: clock.now)
            #expect(try await grew().isEmpty)
            try await dispute()
            clock.advance(by: 31)
            _ = try await chores.pushDueClusters(now: clock.now)
            _ = try await chores.pushDueClusters(now: clock.now)
            let notices = try await grew()
            #expect(notices.count == 1)
            let notice = try #require(notices.first)
            #expect(notice.centreCode == Self.baiyi && notice.villageCode == Self.village && notice.caseID == ids[12].wire)
            #expect(notice.text == "同一村14天内土地纠纷达6起（群体性事件苗头）：关联案件已增至13起（上次推送时6起），请研判是否提级处置")
            #expect(notice.summary.contains("13 cases") && notice.summary.contains("6 when last pushed"))
            #expect(notice.level == .serious && notice.dueAt.isEmpty)
            // Its own push, `warning.raised`, went once.
            #expect(try await pushes(database).filter { $0.warningID == cluster.id }.count == 1)
            var get = Pingan_Risk_V1_GetWarningRequest()
            get.warningID = cluster.id
            let steps = try await rpc.call(RiskServiceMethods.getWarning, get, headers: [try person(Self.baiyi, [.staff])]).warning.steps
            #expect(steps.filter { $0.kind == "pushed" }.count == 2)

            // Twenty-five is not twice thirteen; twenty-six is.
            while ids.count < 25 { try await dispute() }
            clock.advance(by: 31)
            _ = try await chores.pushDueClusters(now: clock.now)
            #expect(try await grew().count == 1)
            try await dispute()
            clock.advance(by: 31)
            _ = try await chores.pushDueClusters(now: clock.now)
            #expect(try await grew().count == 2)
            #expect(try await grew().last?.text.contains("关联案件已增至26起（上次推送时13起）") == true)
        }
    }

    /// A cluster closed while a doubling push waits out its group wait is not pushed: the
    /// township has dealt with it.
    @Test func aClusterClosedDuringItsGroupWaitIsNotPushedAgain() async throws {
        let clock = ManualClock(morningOf: "2026-12-01")
        try await withRisk(clock) { rpc, database, chores in
            let pool = database.pool()
            defer { Task { await pool.close() } }
            var count = 0
            func dispute() async throws {
                count += 1
                _ = try await assess(rpc, land(UUID(), source: .gridReport, openedAt: clock.now, keys: [Self.key("phone", count)]))
                clock.advance(by: 10)
            }
            for _ in 0..<6 { try await dispute() }
            clock.advance(by: 31)
            _ = try await chores.pushDueClusters(now: clock.now)
            #expect(try await pushes(database).count == 1)
            let cluster = try #require(try await warnings(rpc, under: Self.baiyi).first)
            for _ in 6..<12 { try await dispute() }
            // The twelfth made it due; the township closes the loop before the wait is over.
            let due = try await pool.query("SELECT push_due_at IS NOT NULL FROM risk.warnings WHERE id = $1::uuid", [cluster.id])
            #expect(try due.first?.decode(Bool.self, at: 0) == true)
            let township = [try person(Self.baiyi, [.staff, .mediator, .leader])]
            _ = try await rpc.call(RiskServiceMethods.acknowledgeWarning, .with { $0.warningID = cluster.id }, headers: township)
            _ = try await rpc.call(RiskServiceMethods.assignWarning, .with { $0.warningID = cluster.id; $0.assignee = "司法所" }, headers: township)
            _ = try await rpc.call(RiskServiceMethods.feedBackOnWarning, .with { $0.warningID = cluster.id; $0.feedback = "逐户调解完毕" }, headers: township)
            _ = try await rpc.call(RiskServiceMethods.evaluateWarning, .with { $0.warningID = cluster.id; $0.evaluation = "已化解" }, headers: township)
            _ = try await rpc.call(RiskServiceMethods.closeWarning, .with { $0.warningID = cluster.id; $0.outcome = "土地纠纷已全部化解" }, headers: township)
            clock.advance(by: 31)
            _ = try await chores.pushDueClusters(now: clock.now)
            // (The shipped seasonal rule's county cluster may push meanwhile; this one may not.)
            let grew = try await pool.query("SELECT payload FROM risk.outbox WHERE topic = 'warning.notice'").map {
                try Pingan_Notify_V1_DeliverNoticeRequest(serializedBytes: [UInt8](try $0.decode(Data.self, at: 0)))
            }.filter { $0.type == "warning.grew" && $0.summary.contains(cluster.id) }
            #expect(grew.isEmpty)
        }
    }

    /// The rules' version is recorded on each warning, and a changed rule applies from its
    /// version on: under a book whose second version (from 2027-03-01) warns at four land
    /// disputes, four in February warn nothing and four in March warn, recorded as the second.
    @Test func aChangedRuleAppliesFromItsVersionOn() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("cluster-rules-\(UUID().wire).json")
        let rule = { (count: Int) in
            """
            {"id": "land-village-14d", "kind": "incidents_in_place", "label": "同一村14天内土地纠纷", "category": "land", "scope": "village", "count": \(count), "windowDays": 14, "warns": "township"}
            """
        }
        try Data("""
            {"versions": [
              {"version": "2026.12-1", "from": "2026-01-01", "rules": [\(rule(6))]},
              {"version": "2027.03-1", "from": "2027-03-01", "rules": [\(rule(4))]}
            ]}
            """.utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let clock = ManualClock(morningOf: "2027-02-20")
        try await withRisk(clock, rulesFile: file.path) { rpc, database, _ in
            for _ in 0..<4 {
                _ = try await assess(rpc, land(source: .hotline, openedAt: clock.now))
            }
            #expect(try await warnings(rpc, under: Self.baiyi).isEmpty)
            clock.set(morningOf: "2027-03-20")
            for _ in 0..<4 {
                _ = try await assess(rpc, land(village: Self.otherVillage, source: .citizenApp, openedAt: clock.now))
            }
            let raised = try await warnings(rpc, under: Self.baiyi)
            #expect(raised.map(\.rulesVersion) == ["2027.03-1"])
            #expect(raised.first?.villageCode == Self.otherVillage && raised.first?.memberCaseIds.count == 4)
        }
        // A book that cannot be applied is refused at start, naming its problem.
        try Data(#"{"versions": [{"version": "x", "from": "2026-01-01", "rules": [{"id": "r", "kind": "incidents_in_place", "label": "l", "count": 3, "warns": "township"}]}]}"#.utf8).write(to: file)
        #expect(throws: ConfigurationError.self) { _ = try RiskApp.clusterRules(file.path) }
    }

    /// One person (the same keyed name and phone) in three open cases in villages of two
    /// townships warns the county that covers them; the link between the cases is listed for
    /// a mediator covering both and for nobody else, and a case elsewhere is not found.
    @Test func onePersonInThreeOpenCasesWarnsTheCoveringCentreAndLinksOnlyWithinJurisdiction() async throws {
        let clock = ManualClock(morningOf: "2026-12-01")
        try await withRisk(clock) { rpc, _, _ in
            let person1 = Self.key("name_phone", 1), phone1 = Self.key("phone", 1)
            let a = UUID(), b = UUID(), c = UUID()
            var neighbour = land(a, village: Place.villageA, source: .gridReport, openedAt: clock.now, keys: [person1, phone1])
            neighbour.category = .neighbour
            _ = try await assess(rpc, neighbour)
            clock.advance(by: 60)
            _ = try await assess(rpc, land(b, village: Place.villageB, source: .hotline, openedAt: clock.now, keys: [phone1]))
            var links = Pingan_Risk_V1_ListCaseLinksRequest()
            links.caseID = a.wire
            let countyMediator = try person(Place.lixian, [.mediator])
            let linked = try await rpc.call(RiskServiceMethods.listCaseLinks, links, headers: [countyMediator]).links
            #expect(linked.map(\.caseID) == [b.wire] && linked.first?.confidence == 60 && linked.first?.matchedOn == ["phone"])
            // Each township's mediator sees its own case, and no link to the other's.
            #expect(try await rpc.call(RiskServiceMethods.listCaseLinks, links, headers: [try person(Place.townA, [.mediator])]).links.isEmpty)
            await expectCode(.notFound) {
                _ = try await rpc.call(RiskServiceMethods.listCaseLinks, links, headers: [try person(Place.townB, [.mediator])])
            }
            await expectCode(.permissionDenied) {
                _ = try await rpc.call(RiskServiceMethods.listCaseLinks, links, headers: [try person(Place.lixian, [.staff])])
            }

            // The same name and phone in a third open case: three open cases, one person.
            clock.advance(by: 60)
            _ = try await assess(rpc, land(c, village: Place.villageB, source: .walkIn, openedAt: clock.now, keys: [person1, phone1]))
            #expect(try await rpc.call(RiskServiceMethods.listCaseLinks, links, headers: [countyMediator]).links.map(\.confidence) == [60, 95])
            #expect(try await warnings(rpc, under: Place.lixian).filter { !$0.rule.isEmpty }.isEmpty)
            let d = UUID()
            _ = try await assess(rpc, land(d, village: Place.villageA, source: .citizenApp, openedAt: clock.now, keys: [person1]))
            let personal = try await warnings(rpc, under: Place.lixian).filter { $0.rule == "person-3-open" }
            #expect(personal.count == 1 && personal.first?.centreCode == Place.lixian && personal.first?.villageCode == Place.lixian)
            #expect(Set(personal.first?.memberCaseIds ?? []) == Set([a, c, d].map(\.wire)))
            #expect(try await warnings(rpc, under: Place.townA).filter { $0.rule == "person-3-open" }.isEmpty)
        }
    }

    /// Three years after a case ended dispute-service erases its parties and says so: the keys
    /// held for it go, and the same person in a new case is no longer linked to it.
    @Test func anErasedCasesPartyKeysAreDroppedAndLinkNothingAgain() async throws {
        let clock = ManualClock(morningOf: "2026-12-01")
        try await withRisk(clock) { rpc, database, _ in
            let person1 = Self.key("name_phone", 1), phone1 = Self.key("phone", 1)
            let old = UUID(), kept = UUID(), new = UUID()
            var violent = land(old, village: Place.villageA, source: .walkIn, openedAt: clock.now, keys: [person1, phone1])
            violent.violenceOccurred = true
            let warning = try await assess(rpc, violent).warningID
            // The township runs the warning's loop, and writes down what it found.
            let township = try person(Place.townA, [.staff, .mediator, .leader])
            _ = try await rpc.call(RiskServiceMethods.acknowledgeWarning, .with { $0.warningID = warning }, headers: [township])
            _ = try await rpc.call(RiskServiceMethods.assignWarning, .with { $0.warningID = warning; $0.assignee = "政法委员" }, headers: [township])
            _ = try await rpc.call(RiskServiceMethods.feedBackOnWarning, .with { $0.warningID = warning; $0.feedback = "约谈周某，收缴刀具" }, headers: [township])
            _ = try await rpc.call(RiskServiceMethods.evaluateWarning, .with { $0.warningID = warning; $0.evaluation = "周某已搬离，双方未再接触" }, headers: [township])
            _ = try await assess(rpc, land(kept, village: Place.villageA, source: .hotline, openedAt: clock.now, keys: [Self.key("phone", 2)]))
            var erased = land(old, village: Place.villageA, source: .walkIn, openedAt: clock.now)
            erased.closed = true
            erased.personalDataErased = true
            _ = try await assess(rpc, erased)
            let pool = database.pool()
            defer { Task { await pool.close() } }
            let held = try await pool.query("SELECT case_id FROM risk.party_keys ORDER BY key").map { try $0.decode(UUID.self, at: 0) }
            #expect(held == [kept])
            let steps = try await pool.query("SELECT kind, note FROM risk.warning_steps ORDER BY id").map { (try $0.decode(String.self, at: 0), try $0.decode(String.self, at: 1)) }
            #expect(steps.count >= 4 && steps.allSatisfy { $0.1.isEmpty })

            clock.advance(by: 60)
            _ = try await assess(rpc, land(new, village: Place.villageA, source: .gridReport, openedAt: clock.now, keys: [person1, phone1]))
            var links = Pingan_Risk_V1_ListCaseLinksRequest()
            links.caseID = new.wire
            #expect(try await rpc.call(RiskServiceMethods.listCaseLinks, links, headers: [try person(Place.lixian, [.mediator])]).links.isEmpty)
        }
    }

    /// A village's incidents by category over weeks, for the centres that cover it.
    @Test func incidentTrendCountsByWeekVillageAndCategory() async throws {
        let clock = ManualClock(morningOf: "2026-12-01")  // a Tuesday
        try await withRisk(clock) { rpc, _, _ in
            for _ in 0..<2 { _ = try await assess(rpc, land(source: .gridReport, openedAt: clock.now)) }
            clock.advance(by: 7 * 86_400)
            _ = try await assess(rpc, land(source: .screening, openedAt: clock.now))
            var trend = Pingan_Risk_V1_IncidentTrendRequest()
            trend.divisionCode = Self.baiyi
            trend.since = "2026-11-30"
            trend.until = "2026-12-31"
            let counts = try await rpc.call(RiskServiceMethods.incidentTrend, trend, headers: [try person(Self.baiyi, [.staff])]).counts
            #expect(counts.map(\.week) == ["2026-11-30", "2026-12-07"] && counts.map(\.count) == [2, 1])
            #expect(counts.allSatisfy { $0.villageCode == Self.village && $0.category == .land })
            await expectCode(.permissionDenied) {
                _ = try await rpc.call(RiskServiceMethods.incidentTrend, trend, headers: [try person(Place.townA, [.staff])])
            }
            trend.until = "2028-02-01"
            await expectCode(.invalidArgument) {
                _ = try await rpc.call(RiskServiceMethods.incidentTrend, trend, headers: [try person(Self.baiyi, [.staff])])
            }
        }
    }

    /// Staff open a topic (白衣镇土地征收), attach cases under it, and close it with an outcome;
    /// a case elsewhere is refused, a township outside does not see the topic.
    @Test func staffAttachCasesToAnOpenTopicUntilItCloses() async throws {
        let clock = ManualClock(morningOf: "2026-12-01")
        try await withRisk(clock) { rpc, _, _ in
            let staff = try person(Self.baiyi, [.staff])
            let first = UUID(), second = UUID(), elsewhere = UUID()
            _ = try await assess(rpc, land(first, source: .gridReport, openedAt: clock.now))
            _ = try await assess(rpc, land(second, village: Self.otherVillage, source: .screening, openedAt: clock.now))
            _ = try await assess(rpc, land(elsewhere, village: Place.villageA, source: .hotline, openedAt: clock.now))
            var open = Pingan_Risk_V1_OpenTopicRequest()
            open.centreCode = Self.baiyi
            open.title = "白衣镇土地征收"
            open.category = .land
            let topic = try await rpc.call(RiskServiceMethods.openTopic, open, headers: [staff]).topic
            #expect(topic.centreCode == Self.baiyi && topic.caseIds.isEmpty && topic.closedAt.isEmpty)

            var attach = Pingan_Risk_V1_AttachCaseToTopicRequest()
            attach.topicID = topic.id
            for id in [first, second, first] {
                clock.advance(by: 60)
                attach.caseID = id.wire
                _ = try await rpc.call(RiskServiceMethods.attachCaseToTopic, attach, headers: [staff])
            }
            var list = Pingan_Risk_V1_ListTopicsRequest()
            list.centreCode = "430781000000"
            let listed = try await rpc.call(RiskServiceMethods.listTopics, list, headers: [try person("430781000000", [.leader])]).topics
            #expect(listed.map(\.id) == [topic.id] && listed.first?.caseIds == [first.wire, second.wire])
            // A case the caller cannot see is not found; one it sees outside the topic is refused.
            attach.caseID = elsewhere.wire
            await expectCode(.notFound) { _ = try await rpc.call(RiskServiceMethods.attachCaseToTopic, attach, headers: [staff]) }
            await expectCode(.failedPrecondition) {
                _ = try await rpc.call(RiskServiceMethods.attachCaseToTopic, attach, headers: [try person("430700000000", [.staff])])
            }
            list.centreCode = Place.townA
            #expect(try await rpc.call(RiskServiceMethods.listTopics, list, headers: [try person(Place.townA, [.staff])]).topics.isEmpty)
            await expectCode(.notFound) {
                attach.caseID = first.wire
                _ = try await rpc.call(RiskServiceMethods.attachCaseToTopic, attach, headers: [try person(Place.townA, [.staff])])
            }

            var close = Pingan_Risk_V1_CloseTopicRequest()
            close.topicID = topic.id
            close.outcome = "征收补偿方案公示，群众签约"
            let closed = try await rpc.call(RiskServiceMethods.closeTopic, close, headers: [staff]).topic
            #expect(!closed.closedAt.isEmpty && closed.outcome == close.outcome)
            await expectCode(.failedPrecondition) { _ = try await rpc.call(RiskServiceMethods.closeTopic, close, headers: [staff]) }
            attach.caseID = UUID().wire
            await expectCode(.notFound) { _ = try await rpc.call(RiskServiceMethods.attachCaseToTopic, attach, headers: [staff]) }
            open.title = ""
            await expectCode(.invalidArgument, containing: "title") { _ = try await rpc.call(RiskServiceMethods.openTopic, open, headers: [staff]) }
        }
    }

    /// A rise over the same weeks of past years: ten land disputes in 白衣镇 within four weeks
    /// warn the county when the same weeks of the three years before held two each, and not
    /// when they held six each (ten is not more than twice six).
    @Test func aSeasonalRiseOverPastYearsWarnsTheCounty() async throws {
        for (past, warns) in [(2, true), (6, false)] {
            let clock = ManualClock(morningOf: "2026-12-01")
            try await withRisk(clock) { rpc, _, _ in
                for years in 1...3 {
                    for n in 0..<past {
                        let then = clock.now.addingTimeInterval(-Double(years) * 365.25 * 86_400 + Double(n) * 3600)
                        _ = try await assess(rpc, land(source: .gridReport, openedAt: then))
                    }
                }
                // Spread over three villages, so no village reaches its own six.
                let villages = [Self.village, Self.otherVillage, "430781103203"]
                for n in 0..<10 {
                    clock.advance(by: 2 * 86_400)
                    _ = try await assess(rpc, land(village: villages[n % 3], source: .hotline, openedAt: clock.now))
                }
                let county = "430781000000"
                let seasonal = try await warnings(rpc, under: county).filter { $0.rule == "land-township-seasonal" }
                if warns {
                    #expect(seasonal.count == 1 && seasonal.first?.centreCode == county && seasonal.first?.villageCode == Self.baiyi)
                    #expect(seasonal.first?.memberCaseIds.count == 10 && seasonal.first?.level == .major)
                } else {
                    #expect(seasonal.isEmpty)
                }
                #expect(try await warnings(rpc, under: county).filter { $0.rule == "land-village-14d" }.isEmpty)
            }
        }
    }
}
