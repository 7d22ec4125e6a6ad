import Foundation
import PinganConnect

/// An e-mail, as the SMTP server is handed it: an RFC 5322 message with the push's plain
/// Chinese text (``PushText/plain``), UTF-8 in base64, and the delivery id as Message-ID and
/// as a header, so a mailbox dedupes retries as a webhook receiver does.
enum MailMessage {
    static func message(_ content: PushContent, to recipient: String, from sender: String, delivery: UUID, dashboard: String) -> String {
        let text = PushText(content, dashboard: dashboard)
        let subject = "平安 · \(text.title) · \(PushText.cut(text.place, to: 40))"
        let encoded = Data(text.plain.utf8).base64EncodedString(options: [.lineLength76Characters, .endLineWithCarriageReturn, .endLineWithLineFeed])
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
}
