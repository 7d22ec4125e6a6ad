@testable import DisputeService
import Foundation
import PinganAccess
import PinganConnect
import PinganContracts
import PinganDomain
import PinganOutbox
import PinganTestSupport
import Testing

/// Issue 27: residents' own requests in dispute-service, with a clock the tests move: filing
/// into a village or to a county's triage, a filer's repeats joining their matter, the
/// limits, the rating asked once after the return visit, and the ratings in the month's facts.
@Suite("dispute: residents' requests")
struct ResidentRequestTests {
    static let app = "apikey:pingan-580"

    func app(at centre: String = "430700000000") throws -> (String, String) {
        try TestMesh.principal(centre: centre, roles: [.residentApp], subject: Self.app)
    }

    func gateway() throws -> (String, String) {
        try TestMesh.principal(centre: "430700000000", roles: [.system], subject: "resident:138****8000")
    }

    func filing(_ division: String = Place.villageA, phone: String = "13800138000", name: String = "李某乙", other: String = "金某甲",
                category: Pingan_Grid_V1_IncidentCategory = .neighbour) -> Pingan_Dispute_V1_FileRequestRequest {
        .with {
            $0.requestID = UUID().uuidString.lowercased()
            $0.category = category
            $0.divisionCode = division
            $0.description_p = "隔壁在我家门口砌围墙，堵了出路"
            $0.phone = phone
            $0.name = name
            $0.otherParty = other
        }
    }

    @Test func aFilersRepeatsJoinTheirMatterWhileAnotherResidentOpensTheirOwn() async throws {
        let clock = ManualClock(morningOf: "2026-05-11")
        try await withDispute(now: { clock.now }) { rpc, _ in
            let firstFiling = filing(phone: "+86 138-0013-8000")
            let first = try await rpc.call(ResidentServiceMethods.fileRequest, firstFiling, headers: [try app()])
            #expect(first.request.request.stage == .received && first.request.request.stageText == "受理" && !first.joinedExisting)
            #expect(first.request.phoneMasked == "138****8000" && first.request.request.centreCode == Place.townA)
            // A retry of the same request (its request id) answers the same request, not a new one.
            let retried = try await rpc.call(ResidentServiceMethods.fileRequest, firstFiling, headers: [try app()])
            #expect(retried.request.request.trackingID == first.request.request.trackingID && retried.token == first.token)
            clock.advance(by: 3600)
            let again = try await rpc.call(ResidentServiceMethods.fileRequest, filing(phone: "138 0013 8000"), headers: [try app()])
            #expect(again.joinedExisting && again.request.request.trackingID != first.request.request.trackingID)
            // A nameless resident of the same village is not taken for the same party.
            let stranger = try await rpc.call(ResidentServiceMethods.fileRequest, filing(phone: "13900139000", name: "", other: ""), headers: [try app()])
            #expect(!stranger.joinedExisting)
            let cases = try await rpc.call(DisputeServiceMethods.listCases, .with { $0.divisionCode = Place.villageA }, headers: [try person(Place.townA, [.staff])]).cases
            #expect(cases.count == 2 && cases.allSatisfy { $0.source == .citizenApp })
            #expect(cases.first { $0.incidents == 2 } != nil)
        }
    }

    @Test func aRequestWithoutAVillageWaitsAtTheCountyAndIsPlacedByItsStaffOnly() async throws {
        let clock = ManualClock(morningOf: "2026-05-11")
        try await withDispute(now: { clock.now }) { rpc, _ in
            var unplaced = filing("")
            unplaced.address = "澧县小渡口镇粮站旁"
            unplaced.latitude = "29.63"
            unplaced.longitude = "111.76"
            let filed = try await rpc.call(ResidentServiceMethods.fileRequest, unplaced, headers: [try app(at: Place.lixian)])
            #expect(filed.request.request.villageCode.isEmpty && filed.request.request.centreCode == Place.lixian)
            let tracking = filed.request.request.trackingID
            // The county sees it waiting, with the address; another county does not.
            let waiting = try await rpc.call(ResidentServiceMethods.listTriage, .init(), headers: [try person(Place.lixian, [.staff, .mediator])]).requests
            #expect(waiting.map(\.request.trackingID) == [tracking] && waiting.first?.address == "澧县小渡口镇粮站旁")
            let elsewhere = try await rpc.call(ResidentServiceMethods.listTriage, .init(), headers: [try person("430781000000", [.staff])]).requests
            #expect(elsewhere.isEmpty)
            let place = Pingan_Dispute_V1_PlaceRequestRequest.with { $0.trackingID = tracking; $0.villageCode = Place.villageA }
            await expectCode(.permissionDenied) {
                _ = try await rpc.call(ResidentServiceMethods.placeRequest, place, headers: [try person("430781000000", [.staff])])
            }
            await expectCode(.notFound) {
                _ = try await rpc.call(ResidentServiceMethods.placeRequest, place, headers: [try person(Place.townA, [.staff])])
            }
            let placed = try await rpc.call(ResidentServiceMethods.placeRequest, place, headers: [try person(Place.lixian, [.staff])])
            #expect(placed.request.villageCode == Place.villageA && placed.request.centreCode == Place.townA && !placed.caseID.isEmpty)
            await expectCode(.failedPrecondition) {
                _ = try await rpc.call(ResidentServiceMethods.placeRequest, place, headers: [try person(Place.lixian, [.staff])])
            }
            let waitingAfter = try await rpc.call(ResidentServiceMethods.listTriage, .init(), headers: [try person(Place.lixian, [.staff])]).requests
            #expect(waitingAfter.isEmpty)
        }
    }

    @Test func theLimitsHoldPerPhoneAndPerPlaceAndLiftWithTime() async throws {
        let clock = ManualClock(morningOf: "2026-05-11")
        try await withDispute(now: { clock.now }) { rpc, _ in
            for n in 0..<5 {
                _ = try await rpc.call(ResidentServiceMethods.fileRequest, filing(phone: "13700137000", name: "", other: "对方\(n)"), headers: [try app()])
            }
            await expectCode(.resourceExhausted, containing: "phone") {
                _ = try await rpc.call(ResidentServiceMethods.fileRequest, self.filing(phone: "13700137000"), headers: [try self.app()])
            }
            // One village draws at most sixty an hour, whoever files.
            for n in 0..<55 {
                _ = try await rpc.call(ResidentServiceMethods.fileRequest, filing(phone: "136\(String(format: "%08d", n))", name: "", other: ""), headers: [try app()])
            }
            await expectCode(.resourceExhausted, containing: "place") {
                _ = try await rpc.call(ResidentServiceMethods.fileRequest, self.filing(phone: "13500135000"), headers: [try self.app()])
            }
            clock.advance(by: 86_400 + 1)
            _ = try await rpc.call(ResidentServiceMethods.fileRequest, filing(phone: "13700137000"), headers: [try app()])
        }
    }

    @Test func badFieldsAreRefusedNamingTheField() async throws {
        try await withDispute { rpc, _ in
            func refused(_ field: String, _ change: (inout Pingan_Dispute_V1_FileRequestRequest) -> Void) async throws {
                var request = filing()
                change(&request)
                await expectCode(.invalidArgument, containing: field) {
                    _ = try await rpc.call(ResidentServiceMethods.fileRequest, request, headers: [try self.app()])
                }
            }
            try await refused("phone") { $0.phone = "12345" }
            try await refused("phone") { $0.phone = "" }
            try await refused("longitude") { $0.latitude = "29.6" }
            try await refused("latitude") { $0.latitude = "95"; $0.longitude = "111" }
            try await refused("media_urls[0]") { $0.mediaUrls = ["http://example.org/a.jpg"] }
            try await refused("category") { $0.category = .unspecified }
            try await refused("division_code") { $0.divisionCode = "4307" }
            try await refused("description") { $0.description_p = " " }
            // A village outside the app key's centre.
            await expectCode(.permissionDenied) {
                _ = try await rpc.call(ResidentServiceMethods.fileRequest, self.filing(), headers: [try self.app(at: "430781000000")])
            }
        }
    }

    @Test func theFilerIsAskedOnceAfterTheReturnVisitAndTheRatingCountsInItsMonth() async throws {
        let clock = ManualClock(morningOf: "2026-05-11")
        try await withDispute(now: { clock.now }) { rpc, database in
            let filed = try await rpc.call(ResidentServiceMethods.fileRequest, filing(), headers: [try app()])
            let tracking = filed.request.request.trackingID
            let own = Pingan_Dispute_V1_GetOwnRequestRequest.with { $0.trackingID = tracking; $0.phone = "13800138000" }
            let town = try person(Place.townA, [.staff, .mediator])
            let caseID = try #require(try await rpc.call(DisputeServiceMethods.listCases, .with { $0.divisionCode = Place.villageA }, headers: [town]).cases.first).id
            var start = Pingan_Dispute_V1_StartRungRequest()
            start.caseID = caseID
            start.rung = .finder
            start.kind = .peoples
            start.lead = "网格员"
            start.participants = ["双方"]
            let attempt = try await rpc.call(DisputeServiceMethods.startRung, start, headers: [town]).attempt
            #expect(try await rpc.call(ResidentServiceMethods.getOwnRequest, own, headers: [try gateway()]).request.request.stage == .mediating)
            #expect(try await rpc.call(ResidentServiceMethods.getOwnRequest, own, headers: [try gateway()]).request.nextDeadline == attempt.deadline.dueAt)
            var end = Pingan_Dispute_V1_EndRungRequest()
            end.caseID = caseID
            end.attemptID = attempt.id
            end.outcome = .settled
            end.note = "围墙后退"
            end.agreement.terms = "围墙后退一米"
            end.agreement.signedOn = "2026-05-11"
            end.agreement.signatories = ["李某乙", "金某甲"]
            _ = try await rpc.call(DisputeServiceMethods.endRung, end, headers: [town])
            #expect(try await rpc.call(ResidentServiceMethods.getOwnRequest, own, headers: [try gateway()]).request.request.stage == .agreed)
            // No link before the return visit.
            #expect(try await ratingLinks(database).isEmpty)
            clock.advance(by: 7 * 86_400)
            var visit = Pingan_Dispute_V1_RecordReturnVisitRequest()
            visit.caseID = caseID
            visit.outcome = .confirmed
            visit.note = "通道已留出"
            _ = try await rpc.call(DisputeServiceMethods.recordReturnVisit, visit, headers: [town])
            let links = try await ratingLinks(database)
            #expect(links.count == 1 && links.first?.phone == "13800138000" && links.first?.trackingID == tracking)
            let token = try #require(links.first?.ratingToken)
            #expect(try await rpc.call(ResidentServiceMethods.getOwnRequest, own, headers: [try gateway()]).request.request.stage == .visited)

            // Only the mesh (the gateway's pages) may rate, and only with the link's token, once.
            let rate = Pingan_Dispute_V1_RateRequestRequest.with { $0.ratingToken = token; $0.rating = 4; $0.comment = "及时" }
            await expectCode(.permissionDenied) { _ = try await rpc.call(ResidentServiceMethods.rateRequest, rate, headers: [try self.app()]) }
            await expectCode(.notFound) {
                _ = try await rpc.call(ResidentServiceMethods.rateRequest, .with { $0.ratingToken = String(repeating: "0", count: 32); $0.rating = 5 }, headers: [try self.gateway()])
            }
            await expectCode(.invalidArgument, containing: "rating") {
                _ = try await rpc.call(ResidentServiceMethods.rateRequest, .with { $0.ratingToken = token; $0.rating = 6 }, headers: [try self.gateway()])
            }
            let rated = try await rpc.call(ResidentServiceMethods.rateRequest, rate, headers: [try gateway()]).request
            #expect(rated.rating == 4 && rated.request.stage == .concluded && rated.request.stageText == "已办结")
            await expectCode(.failedPrecondition) { _ = try await rpc.call(ResidentServiceMethods.rateRequest, rate, headers: [try self.gateway()]) }

            // The rating counts in May, the month it was given, for the village.
            let facts = try await rpc.call(DisputeServiceMethods.caseFacts, .with { $0.rootCode = Place.townA; $0.month = "2026-05" }, headers: [town]).facts
            let village = try #require(facts.first { $0.villageCode == Place.villageA })
            #expect(village.residentRatings == 1 && village.residentSatisfied == 1)
            let june = try await rpc.call(DisputeServiceMethods.caseFacts, .with { $0.rootCode = Place.townA; $0.month = "2026-06" }, headers: [town]).facts
            #expect(june.allSatisfy { $0.residentRatings == 0 })
            // The filer's own reads were audited; another phone finds nothing.
            let audited = try await database.pool().query("SELECT count(*) FROM dispute.resident_request_reads WHERE subject = 'resident:138****8000'").first?.decode(Int.self, at: 0)
            #expect(audited == 4)
            await expectCode(.notFound) {
                _ = try await rpc.call(ResidentServiceMethods.getOwnRequest, .with { $0.trackingID = tracking; $0.phone = "13900139000" }, headers: [try self.gateway()])
            }
        }
    }

    @Test func publicReadsHideSensitiveRequestsAndPersonalData() async throws {
        try await withDispute { rpc, _ in
            let plain = try await rpc.call(ResidentServiceMethods.fileRequest, filing(), headers: [try app()])
            let family = try await rpc.call(ResidentServiceMethods.fileRequest, filing(phone: "13900000001", name: "王某", other: "王某某", category: .marriageFamily), headers: [try app()])
            var harm = filing(phone: "13900000002", name: "赵某", other: "")
            harm.threatOfSelfHarm = true
            let selfHarm = try await rpc.call(ResidentServiceMethods.fileRequest, harm, headers: [try app()])
            let listed = try await rpc.call(ResidentServiceMethods.listRequests, .init(), headers: [try app()]).requests
            #expect(listed.map(\.trackingID) == [plain.request.request.trackingID])
            for hidden in [family, selfHarm] {
                await expectCode(.notFound) {
                    _ = try await rpc.call(ResidentServiceMethods.getRequest, .with { $0.trackingID = hidden.request.request.trackingID }, headers: [try self.app()])
                }
            }
            let text = try listed.first.map { try $0.jsonString() } ?? ""
            #expect(!text.contains("138") && !text.contains("李某乙") && !text.contains("砌围墙"))
        }
    }

    func ratingLinks(_ database: TestDatabase) async throws -> [Pingan_Notify_V1_SendResidentTextRequest] {
        let pool = database.pool()
        defer { Task { await pool.close() } }
        return try await pool.query("SELECT payload FROM dispute.outbox WHERE topic = 'resident.rating_link' ORDER BY created_at").map { row in
            try Pingan_Notify_V1_SendResidentTextRequest(serializedBytes: try row.decode(Data.self, at: 0))
        }
    }
}

extension ResidentRequestTests {
    @Test func aFilersPersonalDataIsErasedAfterTheRetentionOnceTheMatterIsNoLongerMediated() async throws {
        let clock = ManualClock(morningOf: "2026-01-05")
        try await withDispute(now: { clock.now }) { rpc, database in
            // One waits unplaced, one opened a case that is still being mediated.
            let waiting = try await rpc.call(ResidentServiceMethods.fileRequest, filing("", phone: "13800000001"), headers: [try app(at: Place.lixian)])
            let mediated = try await rpc.call(ResidentServiceMethods.fileRequest, filing(phone: "13800000002", name: "钱某"), headers: [try app()])
            let pool = database.pool()
            defer { Task { await pool.close() } }
            let store = ResidentStore(pool: pool, outbox: Outbox(schema: "dispute"), cases: PostgresCaseStore(pool: pool, outbox: Outbox(schema: "dispute")))
            clock.advance(by: 200 * 86_400)
            #expect(try await store.erase(filedBefore: clock.now.addingTimeInterval(-365 * 86_400), now: clock.now, limit: 10) == 0)
            clock.advance(by: 200 * 86_400)
            #expect(try await store.erase(filedBefore: clock.now.addingTimeInterval(-365 * 86_400), now: clock.now, limit: 10) == 1)
            let rows = try await pool.query("SELECT tracking_id, phone, name, description, erased_at IS NOT NULL FROM dispute.resident_requests ORDER BY tracking_id")
            let byID = Dictionary(uniqueKeysWithValues: try rows.map { (try $0.decode(String.self, at: 0), try $0.decode(String.self, at: 1) + "|" + $0.decode(String.self, at: 2) + "|" + $0.decode(String.self, at: 3) + "|\(try $0.decode(Bool.self, at: 4))") })
            #expect(byID[waiting.request.request.trackingID] == "|||true")
            #expect(byID[mediated.request.request.trackingID]?.hasPrefix("13800000002|钱某|") == true)
            // The erased one stays public as it was, and the filer's phone no longer finds it.
            let listed = try await rpc.call(ResidentServiceMethods.listOwnRequests, .with { $0.phone = "13800000001" }, headers: [try gateway()]).requests
            #expect(listed.isEmpty)
        }
    }
}
