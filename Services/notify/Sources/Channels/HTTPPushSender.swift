import Crypto
import Foundation
import PinganConnect
import PinganDomain

/// Posts a delivery to its subscription's URL over libcurl: a webhook receiver, a WeCom group
/// robot or an SMS gateway, each of which gets the same signed POST.
///
/// | header | value |
/// |---|---|
/// | `Content-Type` | `application/json` |
/// | `X-Pingan-Event` | the push's type, such as `warning.raised` or `case.overdue` |
/// | `X-Pingan-Delivery` | the delivery's UUID, the same on every retry: dedupe on it |
/// | `X-Pingan-Signature` | `sha256=` + hex HMAC-SHA256 of the raw body, keyed with the subscription's secret |
///
/// Before each send the URL's host is checked again against the ``EgressPolicy`` (DNS may
/// have changed since subscribing) and curl is pinned to the addresses checked; answers are
/// read up to ``maxResponseBytes``, since only the status matters. Any 2xx is accepted.
struct HTTPPushSender: PushSender {
    let transport: CurlTransport
    let egress: EgressPolicy
    var timeout: Duration = .seconds(5)
    var maxResponseBytes = 64 << 10

    func send(_ delivery: OutgoingDelivery) async -> DeliveryAttempt {
        let started = ContinuousClock.now
        let body = Array(delivery.payload.utf8)
        let pins: [String]
        do {
            pins = try await egress.check(delivery.url)
        } catch {
            return DeliveryAttempt(status: nil, error: "refused: \(error)", duration: ContinuousClock.now - started)
        }
        do {
            let reply = try await transport.post(
                url: delivery.url, headers: Self.headers(for: delivery, body: body),
                body: body, timeout: timeout, resolve: pins, maxResponseBytes: maxResponseBytes
            )
            let error = (200..<300).contains(reply.status) ? nil : "HTTP \(reply.status)"
            return DeliveryAttempt(status: reply.status, error: error, duration: ContinuousClock.now - started)
        } catch {
            // Transport errors name the URL; stored errors never keep its credentials.
            let text = "\(error)".replacingOccurrences(of: delivery.url, with: EgressPolicy.redacted(delivery.url))
            return DeliveryAttempt(status: nil, error: text, duration: ContinuousClock.now - started)
        }
    }

    /// The headers of the table above, in that order.
    static func headers(for delivery: OutgoingDelivery, body: [UInt8]) -> [(String, String)] {
        [
            ("Content-Type", "application/json"),
            ("X-Pingan-Event", delivery.event),
            ("X-Pingan-Delivery", delivery.id.wire),
            ("X-Pingan-Signature", signature(body: body, secret: delivery.secret)),
        ]
    }

    /// `sha256=<hex>` of HMAC-SHA256(secret, body).
    static func signature(body: [UInt8], secret: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Data(secret.utf8)))
        return "sha256=" + mac.hexadecimal
    }
}
