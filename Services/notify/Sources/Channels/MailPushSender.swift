import Foundation
import PinganConnect

/// Hands an e-mail delivery (a whole RFC 5322 message, rendered by ``MailMessage``) to the
/// deployment's SMTP server over libcurl. The server is the deployment's own, named in its
/// settings, so no egress check applies; the server accepting the message (any 2xx reply,
/// 250 in practice) counts as delivered.
struct MailPushSender: PushSender {
    let transport: CurlTransport
    /// `smtp://host:port`.
    let server: String
    /// The envelope sender.
    let sender: String
    var timeout: Duration = .seconds(5)

    func send(_ delivery: OutgoingDelivery) async -> DeliveryAttempt {
        let started = ContinuousClock.now
        do {
            let reply = try await transport.mail(url: server, from: sender, to: [delivery.email], message: Array(delivery.payload.utf8), timeout: timeout)
            return DeliveryAttempt(status: reply.status, error: (200..<300).contains(reply.status) ? nil : "SMTP \(reply.status)", duration: ContinuousClock.now - started)
        } catch {
            return DeliveryAttempt(status: nil, error: "\(error)", duration: ContinuousClock.now - started)
        }
    }
}
