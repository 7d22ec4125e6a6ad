import Foundation
import PinganAccess
import PinganDomain
import PinganConnect
import PinganContracts
import PinganOutbox
import PinganPostgres

/// Where subscriptions and their deliveries live.
protocol DeliveryStore: Sendable {
    /// Subscribes an endpoint; the same endpoint of the same centre again returns the
    /// existing subscription with the new filter and secret.
    func subscribe(centre: DivisionCode, url: String, secret: String, channel: PushChannel, filter: SubscriptionFilter, phone: String, email: String) async throws -> Subscription
    func subscription(_ id: UUID) async throws -> Subscription?
    /// Subscriptions of `root` and the centres below it, newest first.
    func subscriptions(under root: DivisionCode, after cursor: PageCursor?, limit: Int) async throws -> [(subscription: Subscription, cursor: PageCursor)]
    func update(_ id: UUID, filter: SubscriptionFilter) async throws -> Subscription?
    /// Stops a subscription and drops what is still queued to it; the delivery history stays.
    func unsubscribe(_ id: UUID) async throws
    /// Queues one delivery of `content` per subscriber of `centre` or any centre above it
    /// whose filter admits it, rendered for the subscriber's channel. Applying the same
    /// event again queues nothing more.
    func queue(_ content: PushContent, centre: DivisionCode, applying event: EventDelivery) async throws -> Int
    /// Deliveries of a warning, with the centre each was queued for and its subscriber's centre.
    /// A warning's deliveries in the order they were queued, from after `cursor`.
    func deliveries(of warning: UUID, after cursor: PageCursor?, limit: Int) async throws -> [DeliveryRow]
}

/// A delivery with what decides who may see it, and its place in the list.
struct DeliveryRow: Sendable {
    let delivery: Pingan_Notify_V1_Delivery
    /// The centre it was queued for, and the subscription's own centre.
    let centre: DivisionCode?
    let subscriber: DivisionCode?
    let cursor: PageCursor
}

/// Subscriptions and deliveries in schema `notify`. Deliveries are work for the dispatcher,
/// so applying an event wakes it as a producer wakes its relay.
struct PostgresDeliveryStore: DeliveryStore {
    static let columns = "s.id, s.centre_code, s.url, s.channel, s.event_types, s.min_score, s.categories::text[], s.phone, s.created_at, s.email"

    let pool: PostgresPool
    let outbox: Outbox
    let push: PushSettings
    /// Where deliveries that can go at once are handed to this process's workers.
    let handoff: DeliveryHandoff
    var inbox: EventInbox { EventInbox(pool: pool, outbox: outbox) }

    func subscribe(centre: DivisionCode, url: String, secret: String, channel: PushChannel, filter: SubscriptionFilter, phone: String, email: String) async throws -> Subscription {
        let row = try await pool.query(
            """
            INSERT INTO notify.subscriptions AS s (id, centre_code, url, secret, channel, event_types, min_score, categories, phone, email)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8::integer[], $9, $10)
            ON CONFLICT (centre_code, channel, url, phone, email) WHERE deleted_at IS NULL
            DO UPDATE SET secret = EXCLUDED.secret, event_types = EXCLUDED.event_types, min_score = EXCLUDED.min_score,
                categories = EXCLUDED.categories
            RETURNING \(Self.columns)
            """,
            [UUID.random(), centre.rawValue, url, secret, channel.rawValue, filter.eventTypes, filter.minScore, filter.categories.map(String.init), phone, email]
        )
        return try Self.decodeSubscription(row[0])
    }

    func subscription(_ id: UUID) async throws -> Subscription? {
        try await pool.query("SELECT \(Self.columns) FROM notify.subscriptions s WHERE s.id = $1 AND s.deleted_at IS NULL", [id])
            .first.map(Self.decodeSubscription)
    }

    func subscriptions(under root: DivisionCode, after cursor: PageCursor?, limit: Int) async throws -> [(subscription: Subscription, cursor: PageCursor)] {
        try await pool.query(
            """
            SELECT \(Self.columns) FROM notify.subscriptions s
            WHERE s.centre_code BETWEEN $1 AND $2 AND s.deleted_at IS NULL
              AND ($3::timestamptz IS NULL OR (s.created_at, s.id) < ($3, $4))
            ORDER BY s.created_at DESC, s.id DESC LIMIT $5
            """,
            [root.rawValue, root.lastInSubtree, cursor?.time, cursor?.id, limit]
        ).map { row in
            let subscription = try Self.decodeSubscription(row)
            return (subscription, PageCursor(time: try row.decode(Date.self, at: 8), id: subscription.id))
        }
    }

    func update(_ id: UUID, filter: SubscriptionFilter) async throws -> Subscription? {
        try await pool.query(
            """
            UPDATE notify.subscriptions AS s SET event_types = $2, min_score = $3, categories = $4::integer[]
            WHERE s.id = $1 AND s.deleted_at IS NULL RETURNING \(Self.columns)
            """,
            [id, filter.eventTypes, filter.minScore, filter.categories.map(String.init)]
        ).first.map(Self.decodeSubscription)
    }

    func unsubscribe(_ id: UUID) async throws {
        try await pool.transaction { transaction in
            try await transaction.query("UPDATE notify.subscriptions SET deleted_at = clock_timestamp() WHERE id = $1 AND deleted_at IS NULL", [id])
            try await transaction.query(
                "UPDATE notify.deliveries SET next_attempt_at = 'infinity', last_error = 'unsubscribed' WHERE subscription_id = $1 AND delivered_at IS NULL", [id]
            )
        }
    }

    func queue(_ content: PushContent, centre: DivisionCode, applying event: EventDelivery) async throws -> Int {
        // With each subscription, its secret and whether its breaker is closed (no failure
        // since its last success): only then may a delivery skip the claim.
        let subscribers = (
            sql: """
                SELECT \(Self.columns), s.secret, s.failures = 0 AND (s.paused_until IS NULL OR s.paused_until <= clock_timestamp())
                FROM notify.subscriptions s WHERE s.centre_code = ANY($1) AND s.deleted_at IS NULL
                """,
            parameters: [centre.selfAndAncestors.map(\.rawValue)] as [any PostgresEncodable]
        )
        return try await inbox.apply(event, reading: [subscribers]) { change in
            let transaction = change.transaction
            guard change.firstDelivery else {
                return try await transaction.query(
                    "SELECT count(*) FROM notify.deliveries WHERE warning_id = $1", [content.subject]
                )[0].decode(Int.self, at: 0)
            }
            var handed: [WebhookDeliveries.Delivery] = []
            var count = 0
            for row in change.read[0] {
                let subscription = try Self.decodeSubscription(row)
                guard subscription.filter.admits(content) else { continue }
                count += 1
                let id = UUID.random()
                let payload = PushRendering.body(content, for: subscription, delivery: id, settings: push)
                // Leased to this process from the start when it is handed over, so no other
                // claim takes it; due at once otherwise.
                var lease: Double? = nil
                if try row.decode(Bool.self, at: 11), handoff.hasRoom(for: subscription.id) {
                    lease = handoff.leaseSeconds
                    handed.append(WebhookDeliveries.Delivery(
                        id: id, payload: payload, event: content.type, url: subscription.url, secret: try row.decode(String.self, at: 10),
                        attempts: 0, subscription: subscription.id, channel: subscription.channel, email: subscription.email
                    ))
                }
                try await transaction.queue(
                    """
                    INSERT INTO notify.deliveries (id, warning_id, subscription_id, centre_code, payload, event, next_attempt_at)
                    VALUES ($1, $2, $3, $4, $5, $6, clock_timestamp() + make_interval(secs => coalesce($7::double precision, 0)))
                    ON CONFLICT (warning_id, subscription_id) DO NOTHING
                    """,
                    [id, content.subject, subscription.id, centre.rawValue, payload, content.type, lease]
                )
            }
            if !handed.isEmpty {
                change.afterCommit { [handed, handoff] in handoff.hand(handed) }
            }
            return count
        }
    }

    func deliveries(of warning: UUID, after cursor: PageCursor?, limit: Int) async throws -> [DeliveryRow] {
        try await pool.query(
            """
            SELECT d.id, d.warning_id, d.subscription_id, d.attempts, d.delivered_at, d.last_error, d.centre_code, s.centre_code,
                   d.created_at
            FROM notify.deliveries d JOIN notify.subscriptions s ON s.id = d.subscription_id
            WHERE d.warning_id = $1 AND ($2::timestamptz IS NULL OR (d.created_at, d.id) > ($2, $3))
            ORDER BY d.created_at, d.id LIMIT $4
            """,
            [warning, cursor?.time, cursor?.id, limit]
        ).map { row in
            var delivery = Pingan_Notify_V1_Delivery()
            let id = try row.decode(UUID.self, at: 0)
            delivery.id = id.wire
            delivery.warningID = try row.decode(UUID.self, at: 1).wire
            delivery.subscriptionID = try row.decode(UUID.self, at: 2).wire
            delivery.attempts = Int32(try row.decode(Int.self, at: 3))
            delivery.deliveredAt = try row.decode(Date?.self, at: 4)?.wireTimestamp ?? ""
            delivery.lastError = try row.decode(String?.self, at: 5) ?? ""
            return DeliveryRow(
                delivery: delivery, centre: try? DivisionCode(validating: try row.decode(String.self, at: 6)),
                subscriber: try? DivisionCode(validating: try row.decode(String.self, at: 7)),
                cursor: PageCursor(time: try row.decode(Date.self, at: 8), id: id)
            )
        }
    }
}

extension PostgresDeliveryStore {
    static func decodeSubscription(_ row: PostgresRow) throws -> Subscription {
        Subscription(
            id: try row.decode(UUID.self, at: 0), centre: try DivisionCode(validating: try row.decode(String.self, at: 1)),
            url: try row.decode(String.self, at: 2), channel: PushChannel(rawValue: try row.decode(String.self, at: 3)) ?? .webhook,
            filter: SubscriptionFilter(
                eventTypes: try row.decode([String].self, at: 4), minScore: try row.decode(Int.self, at: 5),
                categories: try row.decode([String].self, at: 6).compactMap { Int($0) }
            ),
            phone: try row.decode(String.self, at: 7),
            email: try row.decode(String.self, at: 9)
        )
    }
}

/// What each channel is sent, the same bytes on every retry.
enum PushRendering {
    static func body(_ content: PushContent, for subscription: Subscription, delivery: UUID, settings: PushSettings) -> String {
        switch subscription.channel {
        case .webhook: webhook(content, delivery: delivery)
        case .wecom: wecom(content)
        case .sms: sms(content, to: subscription.phone, template: settings.smsTemplate)
        case .email: mail(content, to: subscription.email, from: settings.mailFrom, delivery: delivery)
        }
    }

    /// An RFC 5322 message: UTF-8 text in base64, the delivery id as Message-ID and header,
    /// so a mailbox dedupes retries as a webhook receiver does.
    static func mail(_ content: PushContent, to recipient: String, from sender: String, delivery: UUID) -> String {
        let subject = "平安 · \(title(content.type)) · \(content.centre)"
        let body = markdown(content).replacingOccurrences(of: "**", with: "").replacingOccurrences(of: "> ", with: "")
            .replacingOccurrences(of: "<font color=\"warning\">", with: "").replacingOccurrences(of: "</font>", with: "")
        let encoded = Data(body.utf8).base64EncodedString(options: [.lineLength76Characters, .endLineWithCarriageReturn, .endLineWithLineFeed])
        return [
            "From: Pingan <\(sender)>",
            "To: <\(recipient)>",
            "Subject: =?UTF-8?B?\(Data(subject.utf8).base64EncodedString())?=",
            "Message-ID: <\(delivery.wire)@pingan>",
            "X-Pingan-Delivery: \(delivery.wire)",
            "X-Pingan-Event: \(content.type)",
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: base64",
            "",
            encoded,
        ].joined(separator: "\r\n") + "\r\n"
    }

    /// Pingan's own JSON: a warning's fields or a notice's.
    static func webhook(_ content: PushContent, delivery: UUID) -> String {
        var body = JSONObjectText()
        body.add("type", content.type)
        body.add("delivery_id", delivery.wire)
        body.add("case_id", content.caseID)
        body.add("centre_code", content.centre)
        body.add("village_code", content.village)
        body.add("sent_at", Date().wireTimestamp)
        if let score = content.score {
            body.add("warning_id", content.subject.wire)
            body.add("incident_id", content.incidentID)
            body.add("score", score)
            body.add("reasons", content.reasons)
        } else {
            body.add("notice_id", content.subject.wire)
            body.add("summary", content.summary)
            body.add("due_at", content.dueAt)
        }
        return body.text
    }

    /// WeCom's markdown: what a group of centre staff reads on a phone.
    static func markdown(_ content: PushContent) -> String {
        var lines = ["**平安 · \(title(content.type))**", "> 中心：\(content.centre)　村（社区）：\(content.village)"]
        if let score = content.score { lines.append("> 风险分：<font color=\"warning\">\(score)</font>") }
        if !content.reasons.isEmpty { lines.append("> 依据：\(content.reasons.joined(separator: "；"))") }
        if !content.summary.isEmpty { lines.append("> \(content.summary)") }
        if !content.dueAt.isEmpty { lines.append("> 期限：\(content.dueAt)") }
        if !content.caseID.isEmpty { lines.append("> 案件：\(content.caseID)") }
        return lines.joined(separator: "\n")
    }

    /// One line for an SMS, without personal data.
    static func text(_ content: PushContent) -> String {
        let detail = content.score.map { "风险分\($0)" } ?? content.summary
        return "【平安】\(title(content.type))：\(content.centre) \(content.village) \(detail)"
    }

    static func title(_ type: String) -> String {
        switch type {
        case "warning.raised": "风险预警"
        case "warning.escalated": "预警升级"
        case "case.overdue": "逾期提醒"
        case "case.escalated": "案件提级"
        case "case.summoned": "吹哨报到"
        case "index.action": "指数处置"
        case "index.published": "指数发布"
        default: type
        }
    }

    /// A WeCom group robot's markdown message.
    static func wecom(_ content: PushContent) -> String {
        var inner = JSONObjectText()
        inner.add("content", markdown(content))
        var body = JSONObjectText()
        body.add("msgtype", "markdown")
        body.add("markdown", object: inner)
        return body.text
    }

    /// What the SMS gateway is posted.
    static func sms(_ content: PushContent, to phone: String, template: String) -> String {
        var body = JSONObjectText()
        body.add("phone", phone)
        body.add("template", template)
        body.add("text", text(content))
        return body.text
    }
}

/// A JSON object written member by member, its keys in alphabetical order whatever the
/// order they were added in. The bodies notify sends are small and fixed; `JSONSerialization`
/// with sorted keys compared the keys through the locale and was a quarter of
/// notify-service's CPU under a steady flow of warnings.
struct JSONObjectText {
    private var members: [(key: String, value: [UInt8])] = []

    mutating func add(_ key: String, _ value: String) {
        members.append((key, Self.string(value)))
    }

    mutating func add(_ key: String, _ value: Int) {
        members.append((key, Array(String(value).utf8)))
    }

    mutating func add(_ key: String, _ values: [String]) {
        members.append((key, Array("[".utf8) + Array(values.map(Self.string).joined(separator: Array(",".utf8))) + Array("]".utf8)))
    }

    mutating func add(_ key: String, object: JSONObjectText) {
        members.append((key, Array(object.text.utf8)))
    }

    var text: String {
        let sorted = members.sorted { $0.key < $1.key }.map { Self.string($0.key) + Array(":".utf8) + $0.value }
        return String(decoding: Array("{".utf8) + Array(sorted.joined(separator: Array(",".utf8))) + Array("}".utf8), as: UTF8.self)
    }

    /// A JSON string: quotes, backslashes and control characters escaped, the rest as UTF-8.
    private static func string(_ value: String) -> [UInt8] {
        var bytes: [UInt8] = [UInt8(ascii: "\"")]
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\""): bytes += [UInt8(ascii: "\\"), UInt8(ascii: "\"")]
            case UInt8(ascii: "\\"): bytes += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
            case UInt8(ascii: "\n"): bytes += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
            case UInt8(ascii: "\r"): bytes += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
            case UInt8(ascii: "\t"): bytes += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
            case 0..<0x20: bytes += Array("\\u00\([byte].hexadecimal)".utf8)
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
        return bytes
    }
}
