import Foundation
import PinganAccess
import PinganConnect
import PinganContracts
import PinganDomain

/// `pingan.dispute.v1.ResidentService`: residents' own requests, from filing to rating.
struct ResidentServiceHandler: Sendable {
    static let maxPageSize = 200
    /// Open311 lists at most 90 days at a time; so does the Connect listing behind it.
    static let listingWindow: TimeInterval = 90 * 86_400

    let store: ResidentStore
    let verifier: PrincipalVerifier
    let limits: ResidentLimits
    let now: @Sendable () -> Date

    func register(into routes: inout ConnectRoutes) {
        routes.register(ResidentServiceMethods.fileRequest) { try await fileRequest($0, $1) }
        routes.register(ResidentServiceMethods.getRequest) { try await getRequest($0, $1) }
        routes.register(ResidentServiceMethods.findRequestByToken) { try await findRequestByToken($0, $1) }
        routes.register(ResidentServiceMethods.listRequests) { try await listRequests($0, $1) }
        routes.register(ResidentServiceMethods.getOwnRequest) { try await getOwnRequest($0, $1) }
        routes.register(ResidentServiceMethods.listOwnRequests) { try await listOwnRequests($0, $1) }
        routes.register(ResidentServiceMethods.rateRequest) { try await rateRequest($0, $1) }
        routes.register(ResidentServiceMethods.listTriage) { try await listTriage($0, $1) }
        routes.register(ResidentServiceMethods.placeRequest) { try await placeRequest($0, $1) }
    }

    // MARK: Filing

    func fileRequest(_ request: Pingan_Dispute_V1_FileRequestRequest, _ context: ConnectContext) async throws -> Pingan_Dispute_V1_FileRequestResponse {
        let principal = try verifier.principal(context, for: ResidentServiceMethods.fileRequest)
        let filing = try Self.filing(request, by: principal)
        let filed = try await refusing { try await store.file(filing, limits: limits, now: now()) }
        var response = Pingan_Dispute_V1_FileRequestResponse()
        response.request = filed.request.ownWire
        response.token = filed.token
        response.joinedExisting = filed.joined
        return response
    }

    /// The request's fields checked at the door, each refusal naming its field.
    static func filing(_ request: Pingan_Dispute_V1_FileRequestRequest, by principal: Principal) throws -> ResidentFiling {
        let requestID = try UUID.field(request.requestID, "request_id")
        let category = try ReportFields.category(request.category)
        var village: DivisionCode?
        var triage = principal.centre.level <= .county ? principal.centre : principal.centre.county ?? principal.centre
        if !request.divisionCode.isEmpty {
            let division = try DivisionCode.field(request.divisionCode, "division_code")
            try principal.require(division, field: "division_code")
            if division.level == .village { village = division } else { triage = division }
        }
        let description = try ReportFields.description(request.description_p)
        let phone = try ResidentPhone(parsing: request.phone)
        let name = try String.field(request.name, "name", length: 0...50)
        let otherParty = try String.field(request.otherParty, "other_party", length: 0...50)
        guard request.mediaUrls.count <= 5 else { throw ConnectError.invalidArgument(field: "media_urls", "at most 5 photos") }
        for (index, url) in request.mediaUrls.enumerated() {
            guard url.count <= 500, let parsed = URL(string: url), parsed.scheme == "https", parsed.host?.isEmpty == false else {
                throw ConnectError.invalidArgument(field: "media_urls[\(index)]", "must be an https URL of up to 500 characters")
            }
        }
        let coordinates = try Self.coordinates(request.latitude, request.longitude)
        let address = try String.field(request.address, "address", length: 0...200)
        return ResidentFiling(
            requestID: requestID, category: category, village: village, triageCentre: triage, description: description, phone: phone,
            name: name, otherParty: otherParty, mediaURLs: request.mediaUrls, coordinates: coordinates, address: address,
            threatOfViolence: request.threatOfViolence, threatOfSelfHarm: request.threatOfSelfHarm,
            channel: request.channel == .web ? "web" : "app", filedBy: principal.subject
        )
    }

    static func coordinates(_ latitude: String, _ longitude: String) throws -> (latitude: Double, longitude: Double)? {
        if latitude.isEmpty && longitude.isEmpty { return nil }
        guard let lat = Double(latitude), (-90...90).contains(lat) else {
            throw ConnectError.invalidArgument(field: "latitude", latitude.isEmpty ? "must be given with longitude" : "must be a number from -90 to 90")
        }
        guard let long = Double(longitude), (-180...180).contains(long) else {
            throw ConnectError.invalidArgument(field: "longitude", longitude.isEmpty ? "must be given with latitude" : "must be a number from -180 to 180")
        }
        return (lat, long)
    }

    // MARK: Public reads

    func getRequest(_ request: Pingan_Dispute_V1_GetRequestRequest, _ context: ConnectContext) async throws -> Pingan_Dispute_V1_GetRequestResponse {
        let principal = try verifier.principal(context, for: ResidentServiceMethods.getRequest)
        let tracking = try TrackingID.field(request.trackingID)
        guard let found = try await store.request(tracking: tracking), !found.sensitive, principal.covers(found.place) else {
            throw Self.notFound
        }
        return .with { $0.request = found.publicWire }
    }

    func findRequestByToken(_ request: Pingan_Dispute_V1_FindRequestByTokenRequest, _ context: ConnectContext) async throws -> Pingan_Dispute_V1_FindRequestByTokenResponse {
        _ = try verifier.principal(context, for: ResidentServiceMethods.findRequestByToken)
        let token = try String.field(request.token, "token", upTo: 64)
        guard let tracking = try await store.tracking(token: token) else { throw Self.notFound }
        return .with { $0.trackingID = tracking }
    }

    func listRequests(_ request: Pingan_Dispute_V1_ListRequestsRequest, _ context: ConnectContext) async throws -> Pingan_Dispute_V1_ListRequestsResponse {
        let principal = try verifier.principal(context, for: ResidentServiceMethods.listRequests)
        var root = principal.centre
        if !request.centreCode.isEmpty {
            root = try DivisionCode.field(request.centreCode, "centre_code")
            try principal.require(root, field: "centre_code")
        }
        let categories = try request.categories.enumerated().map { try ReportFields.category($1, field: "categories[\($0)]") }
        guard request.trackingIds.count <= 50 else { throw ConnectError.invalidArgument(field: "tracking_ids", "at most 50") }
        let tracking = try request.trackingIds.enumerated().map { try TrackingID.field($1, "tracking_ids[\($0)]") }
        let before = try Date.field(request.requestedBefore, "requested_before") ?? now()
        let after = try Date.field(request.requestedAfter, "requested_after") ?? before.addingTimeInterval(-Self.listingWindow)
        guard after < before else { throw ConnectError.invalidArgument(field: "requested_after", "must be before requested_before") }
        guard before.timeIntervalSince(after) <= Self.listingWindow else {
            throw ConnectError.invalidArgument(field: "requested_after", "the window may span at most 90 days")
        }
        guard !(request.openOnly && request.closedOnly) else { throw ConnectError.invalidArgument(field: "closed_only", "cannot be set with open_only") }
        let limit = try PageSize.field(request.pageSize, default: 50, max: Self.maxPageSize)
        let query = PublicRequestQuery(root: root, categories: categories, openOnly: request.openOnly, closedOnly: request.closedOnly,
                                       after: after, before: before, trackingIDs: tracking)
        let rows = try await store.publicList(query, after: try PageCursor(token: request.pageToken), limit: limit + 1)
        let page = Page(rows, limit: limit) { PageCursor(time: $0.requestedAt, id: $0.id) }
        return .with {
            $0.requests = page.items.map(\.publicWire)
            $0.nextPageToken = page.nextPageToken
        }
    }

    // MARK: The filer's own

    func getOwnRequest(_ request: Pingan_Dispute_V1_GetOwnRequestRequest, _ context: ConnectContext) async throws -> Pingan_Dispute_V1_GetOwnRequestResponse {
        let principal = try verifier.principal(context, for: ResidentServiceMethods.getOwnRequest)
        let tracking = try TrackingID.field(request.trackingID)
        let phone = try ResidentPhone(parsing: request.phone)
        guard let found = try await store.own(tracking: tracking, phone: phone, reader: principal.subject) else { throw Self.notFound }
        return .with { $0.request = found.ownWire }
    }

    func listOwnRequests(_ request: Pingan_Dispute_V1_ListOwnRequestsRequest, _ context: ConnectContext) async throws -> Pingan_Dispute_V1_ListOwnRequestsResponse {
        _ = try verifier.principal(context, for: ResidentServiceMethods.listOwnRequests)
        let phone = try ResidentPhone(parsing: request.phone)
        let limit = try PageSize.field(request.pageSize, default: 50, max: Self.maxPageSize)
        let rows = try await store.own(phone: phone, after: try PageCursor(token: request.pageToken), limit: limit + 1)
        let page = Page(rows, limit: limit) { PageCursor(time: $0.requestedAt, id: $0.id) }
        return .with {
            $0.requests = page.items.map(\.ownWire)
            $0.nextPageToken = page.nextPageToken
        }
    }

    func rateRequest(_ request: Pingan_Dispute_V1_RateRequestRequest, _ context: ConnectContext) async throws -> Pingan_Dispute_V1_RateRequestResponse {
        _ = try verifier.principal(context, for: ResidentServiceMethods.rateRequest)
        let token = try String.field(request.ratingToken, "rating_token", upTo: 64)
        guard (1...5).contains(request.rating) else { throw ConnectError.invalidArgument(field: "rating", "must be 1 to 5") }
        let comment = try String.field(request.comment, "comment", length: 0...500)
        let rated = try await refusing { try await store.rate(token: token, rating: Int(request.rating), comment: comment, now: now()) }
        return .with { $0.request = rated.ownWire }
    }

    // MARK: Placing

    func listTriage(_ request: Pingan_Dispute_V1_ListTriageRequest, _ context: ConnectContext) async throws -> Pingan_Dispute_V1_ListTriageResponse {
        let principal = try verifier.principal(context, for: ResidentServiceMethods.listTriage)
        let limit = try PageSize.field(request.pageSize, default: 50, max: Self.maxPageSize)
        let rows = try await store.waiting(under: principal.centre, after: try PageCursor(token: request.pageToken), limit: limit + 1)
        let page = Page(rows, limit: limit) { PageCursor(time: $0.requestedAt, id: $0.id) }
        return .with {
            $0.requests = page.items.map(\.triageWire)
            $0.nextPageToken = page.nextPageToken
        }
    }

    func placeRequest(_ request: Pingan_Dispute_V1_PlaceRequestRequest, _ context: ConnectContext) async throws -> Pingan_Dispute_V1_PlaceRequestResponse {
        let principal = try verifier.principal(context, for: ResidentServiceMethods.placeRequest)
        let tracking = try TrackingID.field(request.trackingID)
        let village = try DivisionCode.field(request.villageCode, "village_code")
        guard village.level == .village else { throw ConnectError.invalidArgument(field: "village_code", "\(village) is a \(village.level.rawValue), not a village") }
        try principal.require(village, field: "village_code")
        let placed = try await refusing {
            try await store.place(tracking: tracking, in: village, scope: principal.centre, by: principal.subject, now: now())
        }
        return .with {
            $0.request = placed.publicWire
            $0.caseID = placed.caseID?.wire ?? ""
        }
    }

    // MARK: Errors

    static let notFound = ConnectError(.notFound, "no such request")

    private func refusing<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as ResidentStoreError {
            switch error {
            case .limitReached: throw ConnectError(.resourceExhausted, error.description)
            case .notFound: throw Self.notFound
            case .ratedAlready, .placedAlready: throw ConnectError(.failedPrecondition, error.description)
            }
        }
    }
}

extension ResidentRequest {
    /// The village once placed, the centre placing it before: what jurisdiction is checked on.
    var place: DivisionCode { village ?? triageCentre }

    var updatedAt: Date {
        [requestedAt, placedAt, progress?.changedAt, ratedAt].compactMap { $0 }.max() ?? requestedAt
    }

    var publicWire: Pingan_Dispute_V1_PublicRequest {
        .with {
            $0.trackingID = trackingID
            $0.category = category
            $0.stage = stage
            $0.stageText = Self.words(stage)
            $0.villageCode = village?.rawValue ?? ""
            $0.centreCode = (progress?.coordinator ?? triageCentre).rawValue
            $0.requestedAt = requestedAt.wireTimestamp
            $0.updatedAt = updatedAt.wireTimestamp
            $0.open = stage == .received || stage == .mediating
        }
    }

    var ownWire: Pingan_Dispute_V1_OwnRequest {
        .with {
            $0.request = publicWire
            $0.description_p = description
            $0.nextDeadline = progress?.nextDeadline?.wireTimestamp ?? ""
            $0.returnVisited = progress?.returnVisited ?? false
            $0.rating = Int32(rating ?? 0)
            $0.phoneMasked = phone.masked
        }
    }

    var triageWire: Pingan_Dispute_V1_TriageRequest {
        .with {
            $0.request = publicWire
            $0.description_p = description
            $0.address = address
            $0.latitude = latitude.map { String($0) } ?? ""
            $0.longitude = longitude.map { String($0) } ?? ""
        }
    }
}
