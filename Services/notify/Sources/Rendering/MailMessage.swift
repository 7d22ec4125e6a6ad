import Foundation
import PinganConnect

/// An e-mail, as the SMTP server is handed it: an RFC 5322 message with the WeCom markdown's
/// text without its markup, UTF-8 in base64, and the delivery id as Message-ID and as a
/// header, so a mailbox dedupes retries as a webhook receiver does.
enum MailMessage {
    static func message(_ content: PushContent, to recipient: String, from sender: String, delivery: UUID) -> String {
        let subject = "平安 · \(PushRendering.title(content.type)) · \(content.centre)"
        let body = WeComMessage.markdown(content).replacingOccurrences(of: "**", with: "").replacingOccurrences(of: "> ", with: "")
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
}
