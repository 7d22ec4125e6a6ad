import Crypto
import Foundation
import PinganAccess
import PinganContracts
import PinganDomain
import PinganOutbox
import PinganPostgres

/// A request as filed, validated: everything ``ResidentStore/file(_:limits:now:)`` records.
struct ResidentFiling: Sendable {
    let requestID: UUID
    let category: Pingan_Grid_V1_IncidentCategory
    /// The village it concerns, or `nil` to wait at ``triageCentre``.
    let village: DivisionCode?
    let triageCentre: DivisionCode
    let description: String
    let phone: ResidentPhone
    let name: String
    let otherParty: String
    let mediaURLs: [String]
    let coordinates: (latitude: Double, longitude: Double)?
    let address: String
    let threatOfViolence: Bool
    let threatOfSelfHarm: Bool
    let channel: String
    /// The principal subject that filed it: the app's key, or the gateway for the web pages.
    let filedBy: String

    var sensitive: Bool { ResidentRequest.isSensitive(category: category, selfHarm: threatOfSelfHarm) }

    /// What the rate limit per place counts: the village, or for a request not yet placed its
    /// address or its spot to about a kilometre.
    var placeKey: String {
        if let village { return village.rawValue }
        if let coordinates { return String(format: "geo:%.2f,%.2f", coordinates.latitude, coordinates.longitude) }
        return "address:" + address.filter { !$0.isWhitespace }
    }

    /// The case it opens or joins in `village`, with source CITIZEN_APP and the filer as a party.
    func newCase(in village: DivisionCode) -> NewCase {
        var parties = [ResidentRequest.filerParty(name: name, phone: phone)]
        if !otherParty.isEmpty { parties.append(Party(name: otherParty, phone: "", minor: false)) }
        return NewCase(
            incidentID: nil, village: village, category: category, source: .citizenApp, description: description, parties: parties,
            facts: CaseFacts(threatOfViolence: threatOfViolence, threatOfSelfHarm: threatOfSelfHarm, repeatIncident: false, priorPoliceCalls: 0),
            reportedBy: filedBy
        )
    }
}

/// Why a resident's request was refused by the store.
enum ResidentStoreError: Error, CustomStringConvertible {
    /// Too many requests from one phone, key or place; the limit that was reached.
    case limitReached(String)
    case notFound
    case ratedAlready
    case placedAlready

    var description: String {
        switch self {
        case .limitReached(let what): "too many requests \(what); try again later"
        case .notFound: "no such request"
        case .ratedAlready: "the request was rated already"
        case .placedAlready: "the request was placed in a village already"
        }
    }
}

/// Residents' requests in schema `dispute`, beside the cases they open.
struct ResidentStore: Sendable {
    let pool: PostgresPool
    let outbox: Outbox
    let cases: PostgresCaseStore

    /// The columns ``decode(_:)`` reads, the request's case's state among them.
    static let columns = """
        r.id, r.tracking_id, r.category, r.sensitive, r.village_code, r.triage_code, r.description, r.phone, r.requested_at,
        r.case_id, r.rating::integer, c.status, c.current_rung, c.coordinator_code,
        (SELECT t.at FROM dispute.timeline t WHERE t.case_id = r.case_id ORDER BY t.id DESC LIMIT 1),
        (SELECT a.due_at FROM dispute.rung_attempts a WHERE a.case_id = r.case_id AND a.ended_at IS NULL ORDER BY a.seq DESC LIMIT 1),
        (SELECT v.due_at FROM dispute.return_visits v WHERE v.case_id = r.case_id AND v.visited_at IS NULL ORDER BY v.seq DESC LIMIT 1),
        EXISTS (SELECT 1 FROM dispute.return_visits v WHERE v.case_id = r.case_id AND v.visited_at IS NOT NULL),
        r.address, r.latitude, r.longitude, r.rated_at, r.placed_at
        """
    static let from = "dispute.resident_requests r LEFT JOIN dispute.cases c ON c.id = r.case_id"

    // MARK: Filing

    /// Files `filing` once per request id: in a village it opens or joins a case in the same
    /// commit; otherwise it waits at its triage centre. The limits are counted under a lock on
    /// the phone, so two requests at once cannot both slip under them.
    func file(_ filing: ResidentFiling, limits: ResidentLimits, now: Date) async throws -> (request: ResidentRequest, token: String, joined: Bool) {
        try await outbox.transaction(pool) { transaction in
            let read = try await transaction.pipeline([
                ("SELECT pg_advisory_xact_lock(hashtext('resident:' || $1))", [filing.phone.digits]),
                ("SELECT r.token, r.case_id IS NOT NULL AND EXISTS (SELECT 1 FROM dispute.intake_requests i WHERE i.request_id = r.id AND i.joined) FROM dispute.resident_requests r WHERE r.request_id = $1", [filing.requestID]),
                ("SELECT count(*) FROM dispute.resident_requests WHERE phone = $1 AND requested_at > $2", [filing.phone.digits, now.addingTimeInterval(-86_400)]),
                ("SELECT count(*) FROM dispute.resident_requests WHERE filed_by = $1 AND requested_at > $2", [filing.filedBy, now.addingTimeInterval(-3_600)]),
                ("SELECT count(*) FROM dispute.resident_requests WHERE address_key = $1 AND requested_at > $2", [filing.placeKey, now.addingTimeInterval(-3_600)]),
            ])
            if let earlier = read[1].first {
                let token = try earlier.decode(String.self, at: 0)
                guard let request = try await Self.read(transaction, where: "r.token = $1", [token]) else { throw ResidentStoreError.notFound }
                return (request, token, try earlier.decode(Bool.self, at: 1))
            }
            if try read[2].first?.decode(Int.self, at: 0) ?? 0 >= limits.perPhonePerDay {
                throw ResidentStoreError.limitReached("from this phone today (at most \(limits.perPhonePerDay) a day)")
            }
            if filing.channel == "app", try read[3].first?.decode(Int.self, at: 0) ?? 0 >= limits.perAppKeyPerHour {
                throw ResidentStoreError.limitReached("from this app in the last hour (at most \(limits.perAppKeyPerHour))")
            }
            if try read[4].first?.decode(Int.self, at: 0) ?? 0 >= limits.perPlacePerHour {
                throw ResidentStoreError.limitReached("about this place in the last hour (at most \(limits.perPlacePerHour))")
            }
            let id = UUID.random()
            var opened: (case: DisputeCase, joined: Bool)?
            if let village = filing.village {
                opened = try await cases.intake(in: transaction, filing.newCase(in: village), requestID: id, subject: filing.filedBy, now: now)
            }
            let token = Self.newSecret()
            try await transaction.query(
                """
                INSERT INTO dispute.resident_requests (id, request_id, tracking_id, token, filed_by, channel, category, sensitive,
                    village_code, triage_code, place_code, address_key, description, phone, name, other_party, media_urls,
                    latitude, longitude, address, case_id, requested_at, placed_at, placed_by, threat_of_violence, threat_of_self_harm)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26)
                """,
                [id, filing.requestID, TrackingID.make(), token, filing.filedBy, filing.channel, filing.category.rawValue, filing.sensitive,
                 filing.village?.rawValue, filing.triageCentre.rawValue, (filing.village ?? filing.triageCentre).rawValue, filing.placeKey,
                 filing.description, filing.phone.digits, filing.name, filing.otherParty, filing.mediaURLs,
                 filing.coordinates?.latitude, filing.coordinates?.longitude, filing.address, opened?.case.id, now,
                 opened == nil ? nil : now, opened == nil ? nil : filing.filedBy, filing.threatOfViolence, filing.threatOfSelfHarm]
            )
            guard let request = try await Self.read(transaction, where: "r.id = $1", [id]) else { throw ResidentStoreError.notFound }
            return (request, token, opened?.joined ?? false)
        }
    }

    /// Places a waiting request in `village` under `scope`: it opens or joins the case there.
    func place(tracking: String, in village: DivisionCode, scope: DivisionCode, by subject: String, now: Date) async throws -> ResidentRequest {
        try await outbox.transaction(pool) { transaction in
            guard let row = try await transaction.query(
                """
                SELECT id, case_id IS NOT NULL, category, description, phone, name, other_party, threat_of_violence, threat_of_self_harm, filed_by
                FROM dispute.resident_requests
                WHERE tracking_id = $1 AND triage_code BETWEEN $2 AND $3 FOR UPDATE
                """,
                [tracking, scope.rawValue, scope.lastInSubtree]
            ).first else { throw ResidentStoreError.notFound }
            guard try !row.decode(Bool.self, at: 1) else { throw ResidentStoreError.placedAlready }
            let id = try row.decode(UUID.self, at: 0)
            let category = Pingan_Grid_V1_IncidentCategory(rawValue: try row.decode(Int.self, at: 2)) ?? .other
            let filing = ResidentFiling(
                requestID: id, category: category, village: village, triageCentre: scope, description: try row.decode(String.self, at: 3),
                phone: ResidentPhone(stored: try row.decode(String.self, at: 4)), name: try row.decode(String.self, at: 5),
                otherParty: try row.decode(String.self, at: 6), mediaURLs: [], coordinates: nil, address: "",
                threatOfViolence: try row.decode(Bool.self, at: 7), threatOfSelfHarm: try row.decode(Bool.self, at: 8), channel: "app",
                filedBy: try row.decode(String.self, at: 9)
            )
            let opened = try await cases.intake(in: transaction, filing.newCase(in: village), requestID: id, subject: subject, now: now)
            try await transaction.query(
                """
                UPDATE dispute.resident_requests SET village_code = $2, place_code = $2, case_id = $3, placed_at = $4, placed_by = $5
                WHERE id = $1
                """,
                [id, village.rawValue, opened.case.id, now, subject]
            )
            guard let request = try await Self.read(transaction, where: "r.id = $1", [id]) else { throw ResidentStoreError.notFound }
            return request
        }
    }

    // MARK: Reading

    func request(tracking: String) async throws -> ResidentRequest? {
        try await pool.withConnection { try await Self.read($0, where: "r.tracking_id = $1", [tracking]) }
    }

    func tracking(token: String) async throws -> String? {
        try await pool.query("SELECT tracking_id FROM dispute.resident_requests WHERE token = $1", [token]).first?.decode(String.self, at: 0)
    }

    /// The filer's own request, found by tracking id and the phone together, and the read
    /// audited in the same commit.
    func own(tracking: String, phone: ResidentPhone, reader: String) async throws -> ResidentRequest? {
        try await pool.transaction { transaction in
            guard let request = try await Self.read(transaction, where: "r.tracking_id = $1 AND r.phone = $2", [tracking, phone.digits]) else { return nil }
            try await transaction.query(
                "INSERT INTO dispute.resident_request_reads (subject, request_id, rule) VALUES ($1, $2, $3)",
                [reader, request.id, "the filer, by the phone they proved they hold"]
            )
            return request
        }
    }

    /// The filer's requests, newest first, through the index on `(phone, requested_at, id)`.
    func own(phone: ResidentPhone, after cursor: PageCursor?, limit: Int) async throws -> [ResidentRequest] {
        try await pool.withConnection { connection in
            try await connection.query(
                """
                SELECT \(Self.columns) FROM \(Self.from)
                WHERE r.phone = $1 AND ($2::timestamptz IS NULL OR (r.requested_at, r.id) < ($2, $3))
                ORDER BY r.requested_at DESC, r.id DESC LIMIT $4
                """,
                [phone.digits, cursor?.time, cursor?.id, limit]
            ).map(Self.decode)
        }
    }

    /// What the public may list under `root`: no sensitive request, newest first, through the
    /// partial index on `(place_code, requested_at, id)`.
    func publicList(_ query: PublicRequestQuery, after cursor: PageCursor?, limit: Int) async throws -> [ResidentRequest] {
        let open = "(c.status IS NULL OR c.status = 'open') AND r.rating IS NULL"
        let state = query.openOnly ? "AND \(open)" : query.closedOnly ? "AND NOT (\(open))" : ""
        return try await pool.withConnection { connection in
            try await connection.query(
                """
                SELECT \(Self.columns) FROM \(Self.from)
                WHERE NOT r.sensitive AND r.place_code BETWEEN $1 AND $2
                  AND ($3::text[] IS NULL OR r.tracking_id = ANY($3::text[]))
                  AND ($3::text[] IS NOT NULL OR (r.requested_at >= $4 AND r.requested_at < $5))
                  AND ($6::text IS NULL OR r.category = ANY(string_to_array($6, ',')::integer[]))
                  AND ($7::timestamptz IS NULL OR (r.requested_at, r.id) < ($7, $8))
                  \(state)
                ORDER BY r.requested_at DESC, r.id DESC LIMIT $9
                """,
                [query.root.rawValue, query.root.lastInSubtree, query.trackingIDs.isEmpty ? nil : query.trackingIDs,
                 query.after, query.before, query.categories.isEmpty ? nil : query.categories.map { String($0.rawValue) }.joined(separator: ","),
                 cursor?.time, cursor?.id, limit]
            ).map(Self.decode)
        }
    }

    /// Requests waiting under `root` to be placed, the longest waiting first.
    func waiting(under root: DivisionCode, after cursor: PageCursor?, limit: Int) async throws -> [ResidentRequest] {
        try await pool.withConnection { connection in
            try await connection.query(
                """
                SELECT \(Self.columns) FROM \(Self.from)
                WHERE r.case_id IS NULL AND r.triage_code BETWEEN $1 AND $2 AND ($3::timestamptz IS NULL OR (r.requested_at, r.id) > ($3, $4))
                ORDER BY r.requested_at, r.id LIMIT $5
                """,
                [root.rawValue, root.lastInSubtree, cursor?.time, cursor?.id, limit]
            ).map(Self.decode)
        }
    }

    // MARK: Rating

    /// The filer's rating, given once through the link they were texted.
    func rate(token: String, rating: Int, comment: String, now: Date) async throws -> ResidentRequest {
        try await pool.transaction { transaction in
            let hash = Self.digest(token)
            let updated = try await transaction.query(
                "UPDATE dispute.resident_requests SET rating = $2, rating_comment = $3, rated_at = $4 WHERE rating_token_hash = $1 AND rating IS NULL RETURNING id",
                [hash, rating, comment, now]
            )
            guard let id = try updated.first?.decode(UUID.self, at: 0) else {
                let exists = try await transaction.query("SELECT 1 FROM dispute.resident_requests WHERE rating_token_hash = $1", [hash])
                throw exists.isEmpty ? ResidentStoreError.notFound : ResidentStoreError.ratedAlready
            }
            guard let request = try await Self.read(transaction, where: "r.id = $1", [id]) else { throw ResidentStoreError.notFound }
            return request
        }
    }

    /// Inside the transaction that records a case's return visit: each resident who filed
    /// into the case and was not asked yet gets a rating link by SMS (through notify-service's
    /// outbox), once. Only the link's digest is kept.
    static func askForRatings(_ transaction: PostgresConnection, outbox: Outbox, case id: UUID) async throws {
        let asked = try await transaction.query(
            "SELECT id, phone, tracking_id FROM dispute.resident_requests WHERE case_id = $1 AND rating_token_hash IS NULL AND rating IS NULL",
            [id]
        )
        for row in asked {
            let token = newSecret()
            try await transaction.queue(
                "UPDATE dispute.resident_requests SET rating_token_hash = $2 WHERE id = $1", [try row.decode(UUID.self, at: 0), digest(token)]
            )
            try await outbox.enqueue(transaction, ResidentEvents.ratingLink, .with {
                $0.phone = try row.decode(String.self, at: 1)
                $0.kind = .ratingLink
                $0.ratingToken = token
                $0.trackingID = try row.decode(String.self, at: 2)
            })
        }
    }

    // MARK: Retention

    /// Erases the filer's personal data (phone, name, the other party, what they wrote, where)
    /// from requests filed before `cutoff` whose case is no longer being mediated, up to
    /// `limit` at a time: the case keeps its own parties as every case does; the request keeps
    /// its tracking id, category, place, stage and rating, which the index and the public need.
    /// - Returns: how many were erased.
    func erase(filedBefore cutoff: Date, now: Date, limit: Int) async throws -> Int {
        try await pool.query(
            """
            UPDATE dispute.resident_requests SET \(Self.erasedColumns), erased_at = $2
            WHERE id IN (
                SELECT r.id FROM dispute.resident_requests r LEFT JOIN dispute.cases c ON c.id = r.case_id
                WHERE r.erased_at IS NULL AND r.requested_at < $1 AND (c.status IS NULL OR c.status IN ('resolved', 'closed'))
                ORDER BY r.requested_at LIMIT $3
            )
            """,
            [cutoff, now, limit]
        ).affectedRows
    }

    /// The assignments that erase a request's personal data (``erase(filedBefore:now:limit:)``,
    /// and ``PartyDataRetention`` for a request whose case ends its own term first).
    static let erasedColumns = """
        phone = '', name = '', other_party = '', description = '', address = '', latitude = NULL, longitude = NULL, media_urls = '{}'
        """

    // MARK: Rows

    private static func read(_ connection: PostgresConnection, where condition: String, _ parameters: [any PostgresEncodable]) async throws -> ResidentRequest? {
        try await connection.query("SELECT \(columns) FROM \(from) WHERE \(condition)", parameters).first.map(decode)
    }

    static func decode(_ row: PostgresRow) throws -> ResidentRequest {
        let village = try row.decode(String?.self, at: 4).map { try DivisionCode(validating: $0) }
        let caseID = try row.decode(UUID?.self, at: 9)
        var progress: ResidentRequest.CaseProgress?
        if caseID != nil, let status = DisputeCase.Status(rawValue: try row.decode(String?.self, at: 11) ?? "") {
            progress = ResidentRequest.CaseProgress(
                status: status, currentRung: try row.decode(Int?.self, at: 12),
                coordinator: try DivisionCode(validating: try row.decode(String.self, at: 13)),
                changedAt: try row.decode(Date?.self, at: 14) ?? row.decode(Date.self, at: 8),
                nextDeadline: try row.decode(Date?.self, at: 15) ?? row.decode(Date?.self, at: 16),
                returnVisited: try row.decode(Bool.self, at: 17)
            )
        }
        return ResidentRequest(
            id: try row.decode(UUID.self, at: 0), trackingID: try row.decode(String.self, at: 1),
            category: Pingan_Grid_V1_IncidentCategory(rawValue: try row.decode(Int.self, at: 2)) ?? .other,
            sensitive: try row.decode(Bool.self, at: 3), village: village,
            triageCentre: try DivisionCode(validating: try row.decode(String.self, at: 5)),
            description: try row.decode(String.self, at: 6), phone: ResidentPhone(stored: try row.decode(String.self, at: 7)),
            requestedAt: try row.decode(Date.self, at: 8), caseID: caseID, rating: try row.decode(Int?.self, at: 10),
            progress: progress, address: try row.decode(String.self, at: 18),
            latitude: try row.decode(Double?.self, at: 19), longitude: try row.decode(Double?.self, at: 20),
            ratedAt: try row.decode(Date?.self, at: 21), placedAt: try row.decode(Date?.self, at: 22)
        )
    }

    /// 128 random bits as hex: filing tokens and rating links.
    static func newSecret() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<2).map { _ in String(format: "%016llx", generator.next() as UInt64) }.joined()
    }

    static func digest(_ token: String) -> String {
        SHA256.hash(data: Data(token.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}

/// A public listing's filters, validated.
struct PublicRequestQuery: Sendable {
    let root: DivisionCode
    let categories: [Pingan_Grid_V1_IncidentCategory]
    let openOnly: Bool
    let closedOnly: Bool
    let after: Date
    let before: Date
    let trackingIDs: [String]
}

/// What residents' requests tell other services.
enum ResidentEvents {
    /// After a return visit: notify-service texts the filer the link to rate the request.
    static let ratingLink = PublishedTopic(name: "resident.rating_link", deliveredTo: NotifyServiceMethods.sendResidentText)
}
