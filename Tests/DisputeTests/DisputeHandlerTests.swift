@testable import DisputeService
import Foundation
import PinganConnect
import PinganContracts
import PinganDomain
import PinganPostgres
import PinganTestSupport
import Testing

@Suite("dispute-service in process")
struct DisputeHandlerTests {
    @Test func anEventOpensOneCaseAndItsAssessmentEventEvenWhenRedelivered() async throws {
        try await withDispute { rpc, database in
            let incident = UUID()
            let event = try TestMesh.eventDelivery()
            let first = try await rpc.call(DisputeServiceMethods.openCase, openCase(incident), headers: event)
            let again = try await rpc.call(DisputeServiceMethods.openCase, openCase(incident), headers: event)
            #expect(first.case.id == again.case.id)
            #expect(first.case.id == first.case.id.lowercased())
            #expect(first.case.parties.first?.name == "张**")
            #expect(first.case.parties.first?.phone == "138****5678")
            let pool = database.pool()
            let cases = try await pool.query("SELECT count(*) FROM dispute.cases").first?.decode(Int.self, at: 0)
            let events = try await pool.query("SELECT count(*) FROM dispute.outbox WHERE topic = 'case.opened'").first?.decode(Int.self, at: 0)
            await pool.close()
            #expect(cases == 1)
            #expect(events == 1)
        }
    }

    /// A new incident's parties are looked up with one plan kept for any names, through the
    /// party-name index, instead of a plan made for every incident.
    @Test func thePartyLookupKeepsOnePlanThroughTheNameIndex() async throws {
        try await withDispute { _, database in
            // Not planned afresh during the test: that starts PostgreSQL's count of runs over.
            let pool = database.pool(maxConnections: 1, replanFirstAfter: .seconds(3600))
            try await pool.withConnection { connection in
                try await connection.query("""
                    INSERT INTO dispute.cases (id, village_code, category, source, description, parties, threat_of_violence,
                        threat_of_self_harm, repeat_incident, prior_police_calls, opened_at, coordinator_code, party_names)
                    SELECT gen_random_uuid(), '430723102201', 2, 2, 'generated for the test', '[]', false, false, false, 0, now(),
                        '430723102000', ARRAY['甲' || g, '乙' || g]
                    FROM generate_series(1, 5000) g
                    """)
                try await connection.query("ANALYZE dispute.cases")

                let village = try DivisionCode(validating: "430723102201")
                for number in 0..<8 {
                    let newCase = NewCase(
                        incidentID: nil, village: village, category: .neighbour, source: .hotline, description: "邻里纠纷",
                        parties: [Party(name: "甲\(number * 7)", phone: "", minor: false), Party(name: "丙", phone: "", minor: false)],
                        facts: CaseFacts(threatOfViolence: false, threatOfSelfHarm: false, repeatIncident: false, priorPoliceCalls: 0)
                    )
                    let lookup = PostgresCaseStore.casesOfTheSameParties(newCase, now: Date())
                    let found = try await connection.query(lookup.sql, lookup.parameters)
                    #expect(found.count == (number == 0 ? 0 : 1), "甲\(number * 7) names one generated case")
                    if number == 7 {
                        let plans = try await connection.query(
                            "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement = $1", [lookup.sql]
                        )
                        let (generic, custom) = (try plans[0].decode(Int.self, at: 0), try plans[0].decode(Int.self, at: 1))
                        #expect(generic >= 1, "the kept plan ran: \(generic) generic, \(custom) custom")
                    }
                }
                // The kept plan reads the names' index, not the table.
                try await connection.query("SET plan_cache_mode = force_generic_plan")
                let sql = PostgresCaseStore.casesOfTheSameParties(
                    NewCase(incidentID: nil, village: village, category: .neighbour, source: .hotline, description: "", parties: [],
                            facts: CaseFacts(threatOfViolence: false, threatOfSelfHarm: false, repeatIncident: false, priorPoliceCalls: 0)),
                    now: Date()
                ).sql
                try await connection.query("PREPARE lookup (text, text[], timestamptz) AS \(sql)")
                let plan = try await connection.query("EXPLAIN EXECUTE lookup ('430723102201', '{甲1}', now())")
                let text = try plan.map { try $0.decode(String.self, at: 0) }.joined(separator: "\n")
                #expect(text.contains("cases_party_names"), "\(text)")
                #expect(!text.contains("Seq Scan"), "\(text)")
            }
            await pool.close()
        }
    }

    /// Staff take a party's phone as people write it (spaces, hyphens, +86) and keep its 11
    /// digits, as ``MobilePhone`` reads a mobile number everywhere; a number that is not a
    /// mobile one is refused naming the party's field, and opens nothing.
    @Test func intakeTakesAPhoneAsPeopleWriteItAndKeepsItsDigits() async throws {
        try await withDispute { rpc, database in
            let staff = try person(Place.townA, [.staff, .mediator])
            var intake = Pingan_Dispute_V1_IntakeCaseRequest()
            intake.requestID = UUID().wire
            intake.villageCode = Place.villageA
            intake.category = .neighbour
            intake.source = .walkIn
            intake.description_p = "两户因排水沟争执"
            intake.parties = [
                .with { $0.name = "王某"; $0.phone = "138 0013 8000" }, .with { $0.name = "李某"; $0.phone = "+86-139-0736-1234" },
                .with { $0.name = "赵某"; $0.phone = " " }, .with { $0.name = "钱某"; $0.phone = "0736-722 1234" },
            ]
            var bad = intake
            bad.requestID = UUID().wire
            for phone in ["12345", "138 0013 800", "138-0013-8000-1"] {
                bad.parties[1].phone = phone
                await expectCode(.invalidArgument, containing: "parties[1].phone: must be a mobile number") {
                    _ = try await rpc.call(DisputeServiceMethods.intakeCase, bad, headers: [staff])
                }
            }
            let pool = database.pool()
            let cases = try await pool.query("SELECT count(*) FROM dispute.cases").first?.decode(Int.self, at: 0)
            await pool.close()
            #expect(cases == 0)

            let opened = try await rpc.call(DisputeServiceMethods.intakeCase, intake, headers: [staff]).case
            #expect(opened.parties.map(\.phone).prefix(3) == ["138****8000", "139****1234", ""])
            var get = Pingan_Dispute_V1_GetCaseRequest()
            get.caseID = opened.id
            get.revealParties = true
            let revealed = try await rpc.call(DisputeServiceMethods.getCase, get, headers: [staff]).case
            // A landline keeps its area code, as written but for the space.
            #expect(revealed.parties.map(\.phone) == ["13800138000", "13907361234", "", "0736-7221234"])
        }
    }

    @Test func peopleCannotDeliverEvents() async throws {
        try await withDispute { rpc, database in
            await expectCode(.permissionDenied, containing: "internal to the mesh") {
                _ = try await rpc.call(DisputeServiceMethods.openCase, openCase(UUID()), headers: [try person(Place.townA, [.staff, .admin])])
            }
        }
    }

    @Test func aCaseIsVisibleInItsTownshipOnlyAndRevealsAreAudited() async throws {
        try await withDispute { rpc, database in
            let opened = try await rpc.call(DisputeServiceMethods.openCase, openCase(UUID()), headers: try TestMesh.eventDelivery())
            var get = Pingan_Dispute_V1_GetCaseRequest()
            get.caseID = opened.case.id
            let seen = try await rpc.call(DisputeServiceMethods.getCase, get, headers: [try person(Place.townA, [.staff])])
            #expect(seen.case.parties.first?.name == "张**")
            #expect(seen.timeline.map(\.kind) == ["opened"])

            // A sibling township gets exactly what a missing case gets.
            await expectCode(.notFound, containing: "case \(opened.case.id) not found") {
                _ = try await rpc.call(DisputeServiceMethods.getCase, get, headers: [try person(Place.townB, [.staff, .mediator])])
            }
            var missing = get
            missing.caseID = UUID().wire
            await expectCode(.notFound, containing: "case \(missing.caseID) not found") {
                _ = try await rpc.call(DisputeServiceMethods.getCase, missing, headers: [try person(Place.townA, [.staff])])
            }

            get.revealParties = true
            await expectCode(.permissionDenied, containing: "reveal_parties") {
                _ = try await rpc.call(DisputeServiceMethods.getCase, get, headers: [try person(Place.townA, [.staff])])
            }
            let revealed = try await rpc.call(DisputeServiceMethods.getCase, get, headers: [try person(Place.townA, [.mediator])])
            #expect(revealed.case.parties.first?.name == "张三丰")
            let pool = database.pool()
            let reads = try await pool.query("SELECT count(*) FROM dispute.personal_data_reads").first?.decode(Int.self, at: 0)
            await pool.close()
            #expect(reads == 1)
        }
    }

    @Test func resolvingRecordsTheOutcomeOnceOnTheTimeline() async throws {
        try await withDispute { rpc, database in
            let opened = try await rpc.call(DisputeServiceMethods.openCase, openCase(UUID()), headers: try TestMesh.eventDelivery())
            var resolve = Pingan_Dispute_V1_ResolveCaseRequest()
            resolve.caseID = opened.case.id
            resolve.outcome = "   "
            await expectCode(.invalidArgument, containing: "outcome:") {
                _ = try await rpc.call(DisputeServiceMethods.resolveCase, resolve, headers: [try person(Place.townA, [.mediator])])
            }
            resolve.outcome = "双方签订和解协议"
            await expectCode(.notFound) {
                _ = try await rpc.call(DisputeServiceMethods.resolveCase, resolve, headers: [try person(Place.townB, [.mediator])])
            }
            let resolved = try await rpc.call(DisputeServiceMethods.resolveCase, resolve, headers: [try person(Place.townA, [.mediator])])
            _ = try await rpc.call(DisputeServiceMethods.resolveCase, resolve, headers: [try person(Place.townA, [.mediator])])
            #expect(resolved.case.status == .resolved)
            var get = Pingan_Dispute_V1_GetCaseRequest()
            get.caseID = opened.case.id
            let timeline = try await rpc.call(DisputeServiceMethods.getCase, get, headers: [try person(Place.townA, [.staff])]).timeline
            #expect(timeline.map(\.kind) == ["resolved", "opened"])  // newest first
        }
    }
}
