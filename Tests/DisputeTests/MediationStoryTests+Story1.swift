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

extension MediationStoryTests {
    // MARK: Story 1: neighbours who keep quarrelling (临澧县 安福街道)

    @Test func story1TheSamePartiesAgainJoinTheCaseTheWhistleBringsInDepartmentsAndTheCountyHelps() async throws {
        let clock = ManualClock(morningOf: "2026-04-07")  // Tuesday
        let community = "430724001201", street = "430724001000", county = "430724000000"
        try await withDispute(clock) { rpc, database in
            let gridWorker = try Self.caller(community, [.gridWorker], "user:grid")
            let communityStaff = try Self.caller(community, [.staff, .mediator])
            let streetStaff = try Self.caller(street, [.staff, .mediator])
            let countyStaff = try Self.caller(county, [.staff, .mediator, .leader])

            var report = Pingan_Dispute_V1_OpenCaseRequest()
            report.incidentID = UUID().wire
            report.villageCode = community
            report.category = .neighbour
            report.source = .gridReport
            report.description_p = "金、李两家多次争吵"
            report.parties = [party("金某甲"), party("李某乙")]
            report.repeatIncident = true
            let caseID = try await rpc.call(DisputeServiceMethods.openCase, report, headers: try TestMesh.eventDelivery()).case.id

            // The community tries and fails; the street mediates twice and tension eases.
            let one = try await rpc.call(DisputeServiceMethods.startRung, rung(caseID, .finder, lead: "网格员"), headers: [gridWorker]).attempt
            _ = try await rpc.call(DisputeServiceMethods.endRung, end(caseID, one.id, .failed), headers: [gridWorker])
            let two = try await rpc.call(DisputeServiceMethods.startRung, rung(caseID, .villageSecretary, lead: "社区书记"), headers: [communityStaff]).attempt
            _ = try await rpc.call(DisputeServiceMethods.endRung, end(caseID, two.id, .failed), headers: [communityStaff])
            for _ in 0..<2 {
                let three = try await rpc.call(DisputeServiceMethods.startRung, rung(caseID, .townshipCadre, lead: "街道包片干部", bodies: ["综治中心"]), headers: [streetStaff]).attempt
                _ = try await rpc.call(DisputeServiceMethods.endRung, end(caseID, three.id, .eased), headers: [streetStaff])
            }
            // Eased twice without a settlement, rung 3 has failed (issue 24): rung 4 is next, and
            // nothing below it.
            await expectCode(.failedPrecondition, containing: "the next is rung 4") {
                _ = try await rpc.call(DisputeServiceMethods.startRung, rung(caseID, .villageSecretary, lead: "社区书记"), headers: [communityStaff])
            }

            // Each failed rung was news for risk; so is the next incident.
            let changedBefore = try await count(database, "SELECT count(*) FROM dispute.outbox WHERE topic = 'case.changed'")
            #expect(changedBefore == 2)

            // Months later the brothers beat 李; the police transfer joins the same case and risk is told.
            clock.set(morningOf: "2026-07-14")
            var transfer = Pingan_Dispute_V1_IntakeCaseRequest()
            transfer.requestID = UUID().wire
            transfer.villageCode = community
            transfer.category = .neighbour
            transfer.source = .policeTransfer
            transfer.description_p = "金氏兄弟殴打李某乙，李报警"
            transfer.parties = [party("金某甲"), party("金某丙"), party("李某乙")]
            transfer.violenceOccurred = true
            let joined = try await rpc.call(DisputeServiceMethods.intakeCase, transfer, headers: [streetStaff])
            #expect(joined.joinedExisting)
            #expect(joined.case.id == caseID)
            #expect(joined.case.incidents == 2)
            #expect(joined.case.repeatIncident)
            // The case shows what the transfer added (issue 24): violence, and the transfer as its latest report.
            #expect(joined.case.violenceOccurred && joined.case.source == .gridReport && joined.case.latestSource == .policeTransfer)
            #expect(try await count(database, "SELECT count(*) FROM dispute.cases") == 1)
            #expect(try await count(database, "SELECT count(*) FROM dispute.outbox WHERE topic = 'case.changed'") == changedBefore + 1)

            // The street blows the whistle: police station, judicial office, counselling.
            let admin = try Self.caller(street, [.admin])
            var departments: [String: String] = [:]
            for (name, key) in [("安福派出所", "anfu-police"), ("安福司法所", "anfu-justice"), ("心理咨询服务站", "anfu-counselling"), ("民政办", "anfu-civil")] {
                var register = Pingan_Dispute_V1_RegisterDepartmentRequest()
                register.centreCode = street
                register.name = name
                register.apiKeyName = key
                departments[key] = try await rpc.call(DisputeServiceMethods.registerDepartment, register, headers: [admin]).department.id
            }
            func department(_ key: String) throws -> (String, String) { try Self.caller(street, [.department], "apikey:\(key)") }

            var summon = Pingan_Dispute_V1_SummonDepartmentsRequest()
            summon.caseID = caseID
            summon.departmentIds = [UUID().wire]
            await expectCode(.invalidArgument, containing: "department_ids[0]:") {
                _ = try await rpc.call(DisputeServiceMethods.summonDepartments, summon, headers: [streetStaff])
            }
            summon.departmentIds = ["anfu-police", "anfu-justice", "anfu-counselling"].compactMap { departments[$0] }
            await expectCode(.permissionDenied, containing: "coordinated by centre \(street)") {
                _ = try await rpc.call(DisputeServiceMethods.summonDepartments, summon, headers: [countyStaff])
            }
            let summons = try await rpc.call(DisputeServiceMethods.summonDepartments, summon, headers: [streetStaff]).summons
            #expect(summons.count == 3)
            #expect(summons.allSatisfy { $0.reportDeadline.dueAt == "2026-07-15T16:00:00.000Z" && $0.feedbackDeadline.dueAt == "2026-07-21T16:00:00.000Z" })
            let police = try #require(summons.first { $0.departmentName == "安福派出所" })
            let justice = try #require(summons.first { $0.departmentName == "安福司法所" })

            var feedback = Pingan_Dispute_V1_FeedBackOnSummonsRequest()
            feedback.summonsID = police.id
            feedback.feedback = "已对金氏兄弟训诫"
            await expectCode(.failedPrecondition, containing: "report to the summons before feeding back") {
                _ = try await rpc.call(DisputeServiceMethods.feedBackOnSummons, feedback, headers: [try department("anfu-police")])
            }
            var reporting = Pingan_Dispute_V1_ReportToSummonsRequest()
            reporting.summonsID = police.id
            await expectCode(.notFound, containing: "summons \(police.id) not found") {
                _ = try await rpc.call(DisputeServiceMethods.reportToSummons, reporting, headers: [try department("anfu-justice")])
            }
            #expect(try await rpc.call(DisputeServiceMethods.reportToSummons, reporting, headers: [try department("anfu-police")]).summons.reportedAt != "")
            #expect(try await rpc.call(DisputeServiceMethods.feedBackOnSummons, feedback, headers: [try department("anfu-police")]).summons.feedback == "已对金氏兄弟训诫")
            reporting.summonsID = justice.id
            _ = try await rpc.call(DisputeServiceMethods.reportToSummons, reporting, headers: [try department("anfu-justice")])

            // A summoned department sees the case; one that was not sees nothing.
            var get = Pingan_Dispute_V1_GetCaseRequest()
            get.caseID = caseID
            #expect(try await rpc.call(DisputeServiceMethods.getCase, get, headers: [try department("anfu-police")]).case.id == caseID)
            await expectCode(.notFound, containing: "case \(caseID) not found") {
                _ = try await rpc.call(DisputeServiceMethods.getCase, get, headers: [try department("anfu-civil")])
            }

            // Two days on, counselling has not reported: the scan marks it once and notifies.
            clock.advance(by: 2 * 24 * 3600)
            let scan = OverdueScan(pool: database.pool(), outbox: Outbox(schema: "dispute"))
            #expect(try await scan.run(now: clock.now, limit: 100) == 1)
            #expect(try await scan.run(now: clock.now, limit: 100) == 0)
            #expect(try await count(database, "SELECT count(*) FROM dispute.outbox WHERE topic = 'case.notice'") == 2)  // the summons and the overdue report
            // What the people reading the pushes get is Chinese, naming the department and the
            // deadline, and none of the parties.
            let notices = try await database.pool().query("SELECT payload FROM dispute.outbox WHERE topic = 'case.notice' ORDER BY created_at").map {
                try Pingan_Notify_V1_DeliverNoticeRequest(serializedBytes: [UInt8](try $0.decode(Data.self, at: 0)))
            }
            #expect(notices.map(\.type) == ["case.summoned", "case.overdue"])
            #expect(notices.first?.text.hasPrefix("中心吹哨：召集") == true && notices.first?.text.contains("前报到") == true)
            #expect(notices.last?.text == "心理咨询服务站 未在期限（2026-07-16 00:00）前报到")
            for notice in notices {
                #expect(!notice.text.isEmpty && !notice.text.contains(where: { $0.isASCII && $0.isLetter }), "\(notice.text)")
            }
            var overdue = Pingan_Dispute_V1_ListCasesRequest()
            overdue.divisionCode = street
            overdue.overdueOnly = true
            #expect(try await rpc.call(DisputeServiceMethods.listCases, overdue, headers: [streetStaff]).cases.map(\.id) == [caseID])
            overdue.departmentID = departments["anfu-counselling"] ?? ""
            #expect(try await rpc.call(DisputeServiceMethods.listCases, overdue, headers: [streetStaff]).cases.map(\.id) == [caseID])

            // The street asks the county for support; the county coordinates, then hands it back.
            var escalate = Pingan_Dispute_V1_EscalateCaseRequest()
            escalate.caseID = caseID
            escalate.reason = "多部门协调需县级统筹"
            #expect(try await rpc.call(DisputeServiceMethods.escalateCase, escalate, headers: [streetStaff]).case.coordinatorCode == county)
            var countyDepartment = Pingan_Dispute_V1_RegisterDepartmentRequest()
            countyDepartment.centreCode = county
            countyDepartment.name = "临澧县信访局"
            countyDepartment.apiKeyName = "linli-petitions"
            summon.departmentIds = [try await rpc.call(DisputeServiceMethods.registerDepartment, countyDepartment, headers: [try Self.caller(county, [.admin])]).department.id]
            #expect(try await rpc.call(DisputeServiceMethods.summonDepartments, summon, headers: [countyStaff]).summons.map(\.summonedByCentre) == [county])
            var handBack = Pingan_Dispute_V1_HandBackCaseRequest()
            handBack.caseID = caseID
            handBack.note = "县级协调完成，交回街道跟进"
            await expectCode(.permissionDenied) { _ = try await rpc.call(DisputeServiceMethods.handBackCase, handBack, headers: [streetStaff]) }
            #expect(try await rpc.call(DisputeServiceMethods.handBackCase, handBack, headers: [countyStaff]).case.coordinatorCode == street)

            // Months of coordination later: rung 4, as rung 3 eased twice in April without
            // settling (tried, not skipped: no reason asked), reconciliation, a visit that finds
            // it unsettled, again.
            let four = try await rpc.call(DisputeServiceMethods.startRung, rung(caseID, .politicalLegal, lead: "政法委员", bodies: ["派出所", "司法所", "心理咨询服务站"]), headers: [streetStaff]).attempt
            _ = try await rpc.call(DisputeServiceMethods.endRung, end(caseID, four.id, .settled, agreement: ["金某甲", "金某丙", "李某乙"], on: "2026-07-20"), headers: [streetStaff])
            var visit = Pingan_Dispute_V1_RecordReturnVisitRequest()
            visit.caseID = caseID
            visit.outcome = .unsettled
            visit.note = "双方仍有口角"
            #expect(try await rpc.call(DisputeServiceMethods.recordReturnVisit, visit, headers: [communityStaff]).case.status == .open)
            let again = try await rpc.call(DisputeServiceMethods.startRung, rung(caseID, .politicalLegal, lead: "政法委员"), headers: [streetStaff]).attempt
            _ = try await rpc.call(DisputeServiceMethods.endRung, end(caseID, again.id, .settled, agreement: ["金某甲", "李某乙"], on: "2026-08-03"), headers: [streetStaff])
            visit.outcome = .confirmed
            visit.note = "和睦相处"
            #expect(try await rpc.call(DisputeServiceMethods.recordReturnVisit, visit, headers: [communityStaff]).case.status == .closed)

            // What the month's index will count: April's four rungs, July's work.
            var facts = Pingan_Dispute_V1_CaseFactsRequest()
            facts.rootCode = street
            facts.month = "2026-04"
            let april = try #require(try await rpc.call(DisputeServiceMethods.caseFacts, facts, headers: [streetStaff]).facts.first)
            #expect(april.villageCode == community && april.opened == 1 && april.rungsEnded == 4 && april.rungsOnTime == 4 && april.rungsSettled == 0)
            facts.month = "2026-07"
            let july = try #require(try await rpc.call(DisputeServiceMethods.caseFacts, facts, headers: [streetStaff]).facts.first)
            #expect(july.opened == 0 && july.repeatIncidents == 1 && july.overdueSteps == 1)
            #expect(july.rungsEnded == 2 && july.rungsSettled == 2)
            #expect(july.summonsAnswered == 1 && july.summonsLate == 0)
            #expect(july.returnVisitsDone == 2 && july.returnVisitsConfirmed == 1)

            var export = Pingan_Dispute_V1_ExportCasesRequest()
            export.divisionCode = street
            export.month = "2026-04"
            let csv = try await rpc.call(DisputeServiceMethods.exportCases, export, headers: [streetStaff]).csv
            let rows = csv.split(separator: "\n")
            #expect(rows.count == 2)
            #expect(rows[1].hasPrefix("\(caseID),\(community),"))
            #expect(rows[1].contains(",closed,4,\(street),2,"))
            #expect(!csv.contains("金某"))
        }
    }
}
