import Foundation
@testable import NotifyService
import PinganConnect
import PinganContracts
import PinganDomain
import Testing

/// What the HTTP channels put on the wire beside the body, and the domain records the store
/// hands the handler, without a network or a database.
@Suite("notify's channels and delivery records")
struct PushChannelTests {
    func delivery(_ channel: PushChannel, payload: String) throws -> OutgoingDelivery {
        OutgoingDelivery(
            id: try #require(UUID(uuidString: "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d")), payload: payload, event: "warning.raised",
            url: "https://example.org/hook", secret: "a-shared-secret-of-24-b", attempts: 0, subscription: UUID(), channel: channel, email: ""
        )
    }

    @Test("a webhook is signed as Standard Webhooks says, and with the old header for one release")
    func webhookHeaders() throws {
        let body = #"{"type":"warning.raised"}"#
        let now = Date(timeIntervalSince1970: 1_795_845_909)
        let headers = HTTPPushSender.headers(for: try delivery(.webhook, payload: body), body: Array(body.utf8), now: now)
        #expect(headers.map(\.0) == [
            "Content-Type", "webhook-id", "webhook-timestamp", "webhook-signature", "X-Pingan-Event", "X-Pingan-Delivery", "X-Pingan-Signature",
        ])
        let key = try WebhookSecret("a-shared-secret-of-24-b")
        #expect(headers.map(\.1) == [
            "application/json", "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d", "1795845909",
            WebhookSigning.signature(id: "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d", timestamp: 1_795_845_909, body: Array(body.utf8), key: key),
            "warning.raised", "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d",
            // Python: hmac.new(b"a-shared-secret-of-24-b", body, hashlib.sha256).hexdigest()
            "sha256=8ce2ff4752d35ac96ac32625334b058cbb312cc5739b70fde183d4d8222f9baa",
        ])
    }

    @Test("the specification's own example signs to its signature")
    func standardVector() throws {
        // From the Standard Webhooks specification's reference tests.
        let key = try WebhookSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
        let signature = WebhookSigning.signature(id: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp: 1_614_265_330, body: Array(#"{"test": 2432232314}"#.utf8), key: key)
        #expect(signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
        // A secret from before is its bytes: its whsec_ form signs the same.
        let old = try WebhookSecret("a-shared-secret-of-24-b")
        #expect(try WebhookSecret(old.standardForm) == old && old.standardForm == "whsec_YS1zaGFyZWQtc2VjcmV0LW9mLTI0LWI=")
    }

    @Test("during a rotation both secrets sign, space-separated")
    func rotation() throws {
        var rotating = try delivery(.webhook, payload: "{}")
        rotating.previousSecret = "the-old-secret-of-24-byt"
        let signature = try #require(HTTPPushSender.headers(for: rotating, body: Array("{}".utf8)).first { $0.0 == "webhook-signature" }?.1)
        let parts = signature.split(separator: " ")
        #expect(parts.count == 2 && parts.allSatisfy { $0.hasPrefix("v1,") } && parts[0] != parts[1])
    }

    @Test("secrets: whsec_ with 16 to 200 bytes, or text of 16 to 200 bytes", arguments: [
        ("whsec_" + Data(repeating: 1, count: 16).base64EncodedString(), true), ("whsec_" + Data(repeating: 1, count: 15).base64EncodedString(), false),
        ("whsec_" + Data(repeating: 1, count: 201).base64EncodedString(), false), ("whsec_not base64!", false),
        (String(repeating: "s", count: 16), true), (String(repeating: "s", count: 15), false), (String(repeating: "s", count: 201), false),
    ])
    func secrets(_ text: String, valid: Bool) {
        #expect(((try? WebhookSecret(text)) != nil) == valid)
    }

    @Test("a WeCom robot and an SMS gateway are not signed")
    func unsignedChannels() throws {
        for channel in [PushChannel.wecom, .sms] {
            let headers = HTTPPushSender.headers(for: try delivery(channel, payload: "{}"), body: Array("{}".utf8))
            #expect(headers.map(\.0) == ["Content-Type", "X-Pingan-Event", "X-Pingan-Delivery"])
        }
    }

    @Test("a send that cannot go is an attempt with an error, not a thrown error")
    func refusedIsAnAttempt() async throws {
        let sender = HTTPPushSender(transport: CurlTransport(), egress: EgressPolicy())
        var refused = try delivery(.webhook, payload: "{}")
        refused = OutgoingDelivery(
            id: refused.id, payload: refused.payload, event: refused.event, url: "ftp://user:hunter2@example.org/", secret: refused.secret,
            attempts: 0, subscription: refused.subscription, channel: .webhook, email: ""
        )
        let attempt = await sender.send(refused)
        #expect(attempt.status == nil && attempt.error == "refused: must be an http or https URL" && !attempt.succeeded)
    }

    @Test("a listed delivery travels with its subject as warning_id")
    func deliveryOnTheWire() throws {
        let delivered = Date(timeIntervalSince1970: 1_795_845_909.123)
        let record = Delivery(
            id: UUID(), subject: UUID(), subscription: UUID(), attempts: 2, deliveredAt: delivered, lastError: nil,
            centre: try DivisionCode(validating: "430723102000"), subscriber: nil, queuedAt: Date(), event: "case.escalated", caseID: UUID()
        )
        let wire = record.wire
        #expect(wire.eventType == "case.escalated" && wire.caseID == record.caseID?.wire)
        #expect(wire.id == record.id.wire && wire.warningID == record.subject.wire && wire.subscriptionID == record.subscription.wire)
        #expect(wire.attempts == 2 && wire.deliveredAt == delivered.wireTimestamp && wire.lastError.isEmpty)
        let failing = Delivery(
            id: record.id, subject: record.subject, subscription: record.subscription, attempts: 1, deliveredAt: nil, lastError: "HTTP 503",
            centre: nil, subscriber: nil, queuedAt: record.queuedAt, event: "index.published", caseID: nil
        )
        #expect(failing.wire.caseID.isEmpty)
        #expect(failing.wire.deliveredAt.isEmpty && failing.wire.lastError == "HTTP 503")
        #expect(failing.cursor.id == record.id && failing.cursor.time == record.queuedAt)
    }
}
