import Foundation
import PinganAccess
import PinganConnect
import PinganContracts
import PinganTestSupport
import Testing

/// Mediation through the real gateway: people sign in, department systems present their own
/// API keys, and a summons reaches the township's subscribers as a signed webhook.
@Suite("end to end: mediation and summons")
struct MediationFlowTests {
    @Test func aDepartmentSummonedThroughTheGatewayReportsWithItsOwnKeyAndTheCentreIsNotified() async throws {
        try await withMesh { mesh, _, receiver in
            var intake = Pingan_Dispute_V1_IntakeCaseRequest()
            intake.requestID = UUID().wire
            intake.villageCode = Place.villageA1
            intake.category = .neighbour
            intake.source = .hotline
            intake.description_p = "热线来电：邻里因排水沟争执"
            var first = Pingan_Grid_V1_Party()
            first.name = "赵某"
            var second = Pingan_Grid_V1_Party()
            second.name = "钱某"
            intake.parties = [first, second]
            let caseID = try await mesh.call(DisputeServiceMethods.intakeCase, intake, as: "town-a").case.id
            #expect(try await mesh.call(DisputeServiceMethods.intakeCase, intake, as: "town-a").case.id == caseID)

            var keys: [String: String] = [:]
            for name in ["xdk-police", "xdk-civil"] {
                let (status, output) = try await ChildProcess.run(
                    "\(mesh.bin)/gateway", ["add-api-key", name, Place.townA, "department"],
                    environment: mesh.environment(for: "gateway"), logPath: "\(mesh.logDirectory)/add-api-key-\(name).log"
                )
                #expect(status == 0)
                keys[name] = output.split(separator: "\n").last.map(String.init)
                var register = Pingan_Dispute_V1_RegisterDepartmentRequest()
                register.centreCode = Place.townA
                register.name = name == "xdk-police" ? "小渡口派出所" : "小渡口民政办"
                register.apiKeyName = name
                _ = try await mesh.call(DisputeServiceMethods.registerDepartment, register, as: "city-admin")
            }
            var list = Pingan_Dispute_V1_ListCasesRequest()
            list.divisionCode = Place.townA
            let police = try #require(keys["xdk-police"])
            let civil = try #require(keys["xdk-civil"])
            let gateway = ConnectClient(baseURL: mesh.url("gateway"), transport: mesh.transport)
            func asDepartment(_ key: String) -> CallOptions { CallOptions(timeout: .seconds(20), headers: [("X-Api-Key", key)]) }
            #expect(try await gateway.call(DisputeServiceMethods.listCases, list, options: asDepartment(police)).cases.isEmpty)

            // The county's WeCom group robot wants summons only (WeCom's markdown message).
            var robot = Pingan_Notify_V1_SubscribeRequest()
            robot.centreCode = Place.lixian
            robot.channel = .wecom
            robot.url = "http://127.0.0.1:\(receiver.port)/hook?key=robot"
            robot.secret = WebhookReceiver.secret
            robot.eventTypes = ["case.summoned"]
            _ = try await mesh.call(NotifyServiceMethods.subscribe, robot, as: "city-admin")

            // The township blows the whistle on the police station.
            #expect(try await mesh.call(DisputeServiceMethods.listCases, list, as: "town-a").cases.map(\.id) == [caseID])
            let pool = mesh.database.pool(maxConnections: 1)
            let departmentID = try await pool.query("SELECT id FROM dispute.departments WHERE api_key_name = 'xdk-police'")[0].decode(UUID.self, at: 0).wire
            await pool.close()
            var summon = Pingan_Dispute_V1_SummonDepartmentsRequest()
            summon.caseID = caseID
            summon.departmentIds = [departmentID]
            let summons = try #require(try await mesh.call(DisputeServiceMethods.summonDepartments, summon, as: "town-a").summons.first)

            // The department sees the case it was summoned to, and reports with its own key.
            #expect(try await gateway.call(DisputeServiceMethods.listCases, list, options: asDepartment(police)).cases.map(\.id) == [caseID])
            var get = Pingan_Dispute_V1_GetCaseRequest()
            get.caseID = caseID
            await expectCode(.notFound, containing: "case \(caseID) not found") {
                _ = try await gateway.call(DisputeServiceMethods.getCase, get, options: asDepartment(civil))
            }
            var report = Pingan_Dispute_V1_ReportToSummonsRequest()
            report.summonsID = summons.id
            await expectCode(.notFound) { _ = try await gateway.call(DisputeServiceMethods.reportToSummons, report, options: asDepartment(civil)) }
            #expect(try await gateway.call(DisputeServiceMethods.reportToSummons, report, options: asDepartment(police)).summons.reportedAt != "")

            // The sibling township can neither see nor act on it.
            var start = Pingan_Dispute_V1_StartRungRequest()
            start.caseID = caseID
            start.rung = .finder
            start.lead = "网格员"
            await expectCode(.notFound, containing: "case \(caseID) not found") { _ = try await mesh.call(DisputeServiceMethods.startRung, start, as: "town-b") }

            // The township's subscriber receives the summons notice, signed.
            let notified = await eventually(timeout: .seconds(30)) {
                receiver.received.contains { $0.json["type"] as? String == "case.summoned" && $0.caseID == caseID }
            }
            #expect(notified)
            #expect(receiver.received.filter { $0.json["type"] as? String == "case.summoned" }.allSatisfy(WebhookReceiver.verify))
            let wecom = await eventually(timeout: .seconds(30)) {
                receiver.received.contains {
                    $0.json["msgtype"] as? String == "markdown"
                        && ((($0.json["markdown"] as? [String: Any])?["content"] as? String)?.contains("吹哨报到") ?? false)
                }
            }
            #expect(wecom)
        }
    }
}
