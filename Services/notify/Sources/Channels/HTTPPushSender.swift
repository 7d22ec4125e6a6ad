import Foundation
import PinganConnect
import PinganDomain

/// Posts a delivery to its subscription's URL over libcurl: a webhook receiver, a WeCom group
/// robot or an SMS gateway.
///
/// | header | sent to | value |
/// |---|---|---|
/// | `Content-Type` | all | `application/json` |
/// | `webhook-id` | webhooks | the delivery's UUID, the same on every retry: dedupe on it |
/// | `webhook-timestamp` | webhooks | seconds since 1970 when this attempt was sent |
/// | `webhook-signature` | webhooks | `v1,<base64>` per secret in use (``WebhookSigning``) |
/// | `X-Pingan-Event` | all | the push's type, such as `warning.raised` or `case.overdue` |
/// | `X-Pingan-Delivery` | all | the delivery's UUID, as `webhook-id` |
/// | `X-Pingan-Signature` | webhooks | `sha256=` + hex HMAC-SHA256 of the body: the old signature, for one release |
///
/// Only a webhook is signed: a WeCom robot and an SMS gateway check no signature, and their
/// subscriptions hold no secret.
///
/// Before each send the URL's host is checked again against the ``EgressPolicy`` (DNS may
/// have changed since subscribing) and curl is pinned to the addresses checked; answers are
/// read up to ``maxResponseBytes``, since only the status matters. Any 2xx is accepted.
/// A failed send stores the status, or for a public host the transport's error; for a
/// receiver the allow list admitted (``EgressClearance/isInternal``) it stores no more than
/// the status, so delivery errors cannot be read as a scan of the deployment's network.
struct HTTPPushSender: PushSender {
    let transport: CurlTransport
    let egress: EgressPolicy
    var timeout: Duration = .seconds(5)
    var maxResponseBytes = 64 << 10

    func send(_ delivery: OutgoingDelivery) async -> DeliveryAttempt {
        let started = ContinuousClock.now
        let body = Array(delivery.payload.utf8)
        let clearance: EgressClearance
        do {
            clearance = try await egress.check(delivery.url)
        } catch {
            return DeliveryAttempt(status: nil, error: "refused: \(error)", duration: ContinuousClock.now - started)
        }
        do {
            let reply = try await transport.post(
                url: delivery.url, headers: Self.headers(for: delivery, body: body),
                body: body, timeout: timeout, resolve: clearance.pins, maxResponseBytes: maxResponseBytes
            )
            // The status only, for every host: the answer's body is never stored.
            let error = (200..<300).contains(reply.status) ? nil : "HTTP \(reply.status)"
            return DeliveryAttempt(status: reply.status, error: error, duration: ContinuousClock.now - started)
        } catch {
            return Self.unanswered(error, url: delivery.url, internal: clearance.isInternal, after: ContinuousClock.now - started)
        }
    }

    /// The stored error of a send to an allowed internal host that got no HTTP answer.
    static let withheld = "no HTTP answer from an allowed internal receiver (details are in notify-service's log)"

    /// The attempt of a send that got no HTTP answer. Transport errors name the URL; stored
    /// errors never keep its credentials. What curl says of a host on the deployment's own
    /// network (refused, reset, a TLS name, a timeout) would map that network for whoever
    /// reads the delivery, so for an `internal` one it goes to the service's log only.
    static func unanswered(_ error: any Error, url: String, internal isInternal: Bool, after duration: Duration) -> DeliveryAttempt {
        let text = "\(error)".replacingOccurrences(of: url, with: EgressPolicy.redacted(url))
        guard isInternal else { return DeliveryAttempt(status: nil, error: text, duration: duration) }
        return DeliveryAttempt(status: nil, error: withheld, duration: duration, withheldDetail: text)
    }

    /// The headers of the table above, in that order, for an attempt sent at `now`.
    static func headers(for delivery: OutgoingDelivery, body: [UInt8], now: Date = Date()) -> [(String, String)] {
        let common = [("X-Pingan-Event", delivery.event), ("X-Pingan-Delivery", delivery.id.wire)]
        guard delivery.channel == .webhook else { return [("Content-Type", "application/json")] + common }
        let current = WebhookSecret(stored: delivery.secret)
        let keys = [current] + (delivery.previousSecret.map { [WebhookSecret(stored: $0)] } ?? [])
        return [("Content-Type", "application/json")]
            + WebhookSigning.headers(id: delivery.id.wire, at: Int(now.timeIntervalSince1970), body: body, keys: keys)
            + common + [("X-Pingan-Signature", WebhookSigning.legacy(body: body, key: current))]
    }
}
