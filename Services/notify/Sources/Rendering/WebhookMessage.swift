import Foundation
import PinganConnect

/// Pingan's own JSON for a webhook receiver: a warning's fields or a notice's, keys in
/// alphabetical order (docs/integrating.md lists them). `warning_id` and `notice_id` are the
/// delivery's subject under the name a department's system expects.
enum WebhookMessage {
    static func body(_ content: PushContent, delivery: UUID, sentAt: Date) -> String {
        var body = JSONObjectText()
        body.add("type", content.type)
        body.add("delivery_id", delivery.wire)
        body.add("case_id", content.caseID)
        body.add("centre_code", content.centre)
        body.add("village_code", content.village)
        body.add("sent_at", sentAt.wireTimestamp)
        // Only when the push has a level, so a push without one keeps its bytes.
        if let level = content.levelName { body.add("level", level) }
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
}
