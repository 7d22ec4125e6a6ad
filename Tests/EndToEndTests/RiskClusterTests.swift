import Foundation
import PinganAccess
import PinganConnect
import PinganContracts
import PinganTestSupport
import Testing

/// Issue 28 through the real executables: dispute-service tells risk-service its parties only
/// as keyed hashes, and risk-service links the same person across townships for a mediator
/// who covers both, however the phone was spelt, and for nobody else.
@Suite("end to end: the social-risk topic database")
struct RiskClusterTests {
    @Test func aPersonInCasesOfTwoTownshipsIsLinkedForTheCountysMediatorOnly() async throws {
        try await withMesh { mesh, _, _ in
            // A mediator of 澧县's centre, which covers both townships.
            var create = Pingan_Gateway_V1_CreateUserRequest()
            create.username = "lixian-mediator"
            create.centreCode = Place.lixian
            create.roles = ["mediator"]
            create.password = Mesh.password
            _ = try await mesh.call(AdminServiceMethods.createUser, create, as: "city-admin")
            mesh.tokens["lixian-mediator"] = try await mesh.login("lixian-mediator")

            func intake(_ village: String, _ user: String, source: Pingan_Dispute_V1_CaseSource, name: String, phone: String) async throws -> String {
                var request = Pingan_Dispute_V1_IntakeCaseRequest()
                request.requestID = UUID().wire
                request.villageCode = village
                request.category = .land
                request.source = source
                request.description_p = "承包地边界纠纷"
                request.parties = [.with { $0.name = name; $0.phone = phone }, .with { $0.name = "赵" + String(UUID().wire.prefix(4)) }]
                return try await mesh.call(DisputeServiceMethods.intakeCase, request, as: user).case.id
            }
            // The same person, the phone written two ways (intake reads a mobile number as
            // MobilePhone does and keeps its 11 digits) and the name with a space.
            let inA = try await intake(Place.villageA1, "town-a", source: .walkIn, name: "王建国", phone: "139-0736-1234")
            let inB = try await intake(Place.villageB1, "town-b", source: .hotline, name: "王 建国", phone: "+86-13907361234")

            var links = Pingan_Risk_V1_ListCaseLinksRequest()
            links.caseID = inA
            var found: [Pingan_Risk_V1_CaseLink] = []
            #expect(await eventually {
                found = try await mesh.call(RiskServiceMethods.listCaseLinks, links, as: "lixian-mediator").links
                return !found.isEmpty
            })
            #expect(found.map(\.caseID) == [inB])
            #expect(found.first?.confidence == 95 && found.first?.matchedOn == ["name_phone", "phone"])
            #expect(found.first?.villageCode == Place.villageB1 && found.first?.source == .hotline)

            // Each township's mediator sees its own case, and no link to the other township's.
            #expect(try await mesh.call(RiskServiceMethods.listCaseLinks, links, as: "town-a").links.isEmpty)
            links.caseID = inB
            #expect(await eventually { try await mesh.call(RiskServiceMethods.listCaseLinks, links, as: "lixian-mediator").links.count == 1 })
            #expect(try await mesh.call(RiskServiceMethods.listCaseLinks, links, as: "town-b").links.isEmpty)
            // And a case in the other township is not found, as one that does not exist.
            await expectCode(.notFound) { _ = try await mesh.call(RiskServiceMethods.listCaseLinks, links, as: "town-a") }

            // risk-service holds no plain personal data: only the kind and 64 hex digits.
            let plain = try await mesh.count("SELECT count(*) FROM risk.party_keys WHERE key !~ '^(name_phone|phone):[0-9a-f]{64}$' OR key LIKE '%1390736%'")
            #expect(plain == 0)
            #expect(try await mesh.count("SELECT count(*) FROM risk.party_keys") >= 3)
        }
    }

    /// Six land disputes in one village within two weeks, from three sources, through the
    /// real services: one cluster warning to the township listing the six, one webhook, no
    /// webhook per case; a seventh joins the warning and is not pushed again, and the twelfth,
    /// twice the six pushed, is pushed as `warning.grew`.
    @Test func sixLandDisputesInOneVillageArriveAsOneWebhook() async throws {
        try await withMesh { mesh, setup, receiver in
            // A short group wait, so the test waits seconds rather than the default 30.
            await mesh.kill("risk")
            try await mesh.start("risk", extra: ["CLUSTER_GROUP_WAIT_SECONDS": "2"])
            /// The `n`th land dispute of 村 A1 taken in at the township's window; its case's id.
            func landDispute(_ n: Int, from source: Pingan_Dispute_V1_CaseSource) async throws -> String {
                var request = Pingan_Dispute_V1_IntakeCaseRequest()
                request.requestID = UUID().wire
                request.villageCode = Place.villageA1
                request.category = .land
                request.source = source
                request.description_p = "村民反映承包地被占用（第\(n)起）"
                request.parties = mesh.nextParties().map { name in .with { $0.name = name } }
                return try await mesh.call(DisputeServiceMethods.intakeCase, request, as: "town-a").case.id
            }
            var cases: [String] = []
            let sources: [Pingan_Dispute_V1_CaseSource] = [.walkIn, .hotline, .citizenApp]
            for n in 0..<6 { cases.append(try await landDispute(n + 1, from: sources[n % 3])) }
            #expect(await eventually(timeout: .seconds(30)) { receiver.received.contains { $0.caseID.isEmpty } })
            let webhooks = receiver.received
            #expect(webhooks.count == 1)
            let webhook = try #require(webhooks.first)
            #expect(webhook.json["centre_code"] as? String == Place.townA)
            let reasons = webhook.json["reasons"] as? [String] ?? []
            #expect(cases.allSatisfy { id in reasons.contains { $0.hasPrefix("member cases:") && $0.contains(id) } })

            var list = Pingan_Risk_V1_ListWarningsRequest()
            list.centreCode = Place.townA
            let warnings = try await mesh.call(RiskServiceMethods.listWarnings, list, as: "town-a").warnings
            #expect(warnings.count == 1 && Set(warnings.first?.memberCaseIds ?? []) == Set(cases) && warnings.first?.rule == "land-village-14d")

            // A seventh, from a grid report, joins the cluster; nothing more is pushed.
            let grid = try #require(setup.grids[Place.villageA1])
            var report = Pingan_Grid_V1_ReportIncidentRequest()
            report.gridID = grid.grid
            report.reporterMemberID = grid.member
            report.category = .land
            report.description_p = "网格员排查发现承包地边界纠纷"
            report.parties = mesh.nextParties().map { name in .with { $0.name = name } }
            _ = try await mesh.call(GridServiceMethods.reportIncident, report, as: "town-a")
            #expect(await eventually(timeout: .seconds(30)) {
                try await mesh.call(RiskServiceMethods.listWarnings, list, as: "town-a").warnings.first?.memberCaseIds.count == 7
            })
            #expect(try await mesh.count("SELECT count(*) FROM risk.outbox WHERE topic = 'warning.raised'") == 1)
            #expect(try await mesh.count("SELECT count(*) FROM risk.incidents WHERE source = \(Pingan_Dispute_V1_CaseSource.gridReport.rawValue)") == 1)

            // Five more at the window: the twelfth doubles the cluster, and the township hears it once.
            var newest = ""
            for n in 8...12 { newest = try await landDispute(n, from: .walkIn) }
            #expect(await eventually(timeout: .seconds(30)) { receiver.received.contains { $0.json["type"] as? String == "warning.grew" } })
            let grew = receiver.received.filter { $0.json["type"] as? String == "warning.grew" }
            #expect(grew.count == 1)
            #expect(grew.first?.json["centre_code"] as? String == Place.townA && grew.first?.caseID == newest)
            #expect((grew.first?.json["text"] as? String)?.contains("关联案件已增至12起（上次推送时6起）") == true)
            #expect(receiver.received.filter { $0.caseID.isEmpty }.count == 1)
            // The growth push names its warning, and the township's deliveries of that warning
            // are its first push and the growth, in that order.
            let clusterID = try #require(warnings.first?.id)
            #expect(grew.first?.json["warning_id"] as? String == clusterID && grew.first?.json["notice_id"] as? String != clusterID)
            let deliveries = try await mesh.call(NotifyServiceMethods.listDeliveries, .with { $0.warningID = clusterID }, as: "town-a").deliveries
            #expect(deliveries.map(\.eventType) == ["warning.raised", "warning.grew"])
        }
    }
}
