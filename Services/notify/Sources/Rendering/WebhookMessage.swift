import Foundation
import PinganConnect

/// Pingan's own JSON for a webhook receiver: a warning's fields or a notice's, keys in
/// alphabetical order (docs/integrating.md lists them). `warning_id` and `notice_id` are the
/// delivery's subject under the name a department's system expects.
///
/// A machine reads it, so its field names and codes are English and stable; beside them is
/// what people read (`text`, `centre_name`, `village_name`, each factor's `label`), in
/// Chinese, for a receiver that shows the push to someone.
enum WebhookMessage {
    static func body(_ content: PushContent, delivery: UUID, sentAt: Date, dashboard: String) -> String {
        let text = PushText(content, dashboard: dashboard)
        var body = JSONObjectText()
        body.add("type", content.type)
        body.add("delivery_id", delivery.wire)
        body.add("case_id", content.caseID)
        body.add("centre_code", content.centre)
        body.add("centre_name", content.centreName)
        body.add("village_code", content.village)
        body.add("village_name", content.villageName)
        body.add("sent_at", sentAt.wireTimestamp)
        body.add("text", text.plain)
        body.add("link", text.link)
        // Only when the push has a level, so a push without one has no such key.
        if let level = content.levelName { body.add("level", level) }
        if let score = content.score {
            body.add("warning_id", content.subject.wire)
            body.add("incident_id", content.incidentID)
            body.add("score", score)
            body.add("reasons", content.reasons)
            body.add("factors", objects: content.factors.map { factor in
                var object = JSONObjectText()
                object.add("code", factor.code)
                object.add("points", factor.points)
                object.add("label", factor.label)
                return object
            })
            body.add("acknowledge_by", content.acknowledgeBy)
        } else {
            body.add("notice_id", content.subject.wire)
            if let warning = content.warningID { body.add("warning_id", warning.wire) }
            body.add("summary", content.summary)
            body.add("due_at", content.dueAt)
        }
        return body.text
    }
}
