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
