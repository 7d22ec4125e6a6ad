import Foundation
import PinganConnect

/// Sends one delivery on its channel and says what came of it. A sender never throws: a
/// failure is an attempt with an error, which the ledger records and retries like a refusal.
protocol PushSender: Sendable {
    func send(_ delivery: OutgoingDelivery) async -> DeliveryAttempt
}

/// The sender of each channel: webhooks, WeCom robots and SMS gateways are posted over HTTP
/// (``HTTPPushSender``), e-mail goes through the deployment's SMTP server (``MailPushSender``).
/// What differs between the three HTTP channels is the body, rendered when the delivery was
/// queued (``PushRendering``); on the wire they are the same signed POST.
struct PushSenders: PushSender {
    let http: HTTPPushSender
    let mail: MailPushSender

    /// How long one send may take before it is given up on and retried later.
    var timeout: Duration { http.timeout }

    init(transport: CurlTransport, egress: EgressPolicy, push: PushSettings, timeout: Duration = .seconds(5)) {
        http = HTTPPushSender(transport: transport, egress: egress, timeout: timeout)
        mail = MailPushSender(transport: transport, server: push.smtpURL, sender: push.mailFrom, timeout: timeout)
    }

    func send(_ delivery: OutgoingDelivery) async -> DeliveryAttempt {
        switch delivery.channel {
        case .webhook, .wecom, .sms: await http.send(delivery)
        case .email: await mail.send(delivery)
        }
    }
}
