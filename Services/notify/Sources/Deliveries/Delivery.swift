import Foundation
import PinganAccess
import PinganDomain

/// A delivery as `ListDeliveries` shows it, with what decides who may see it: the store's
/// answer, turned into the wire type by the handler.
struct Delivery: Sendable, Equatable {
    let id: UUID
    /// The warning's id, or the id of the event that carried a notice (column `subject_id`;
    /// the wire calls it `warning_id`).
    let subject: UUID
    let subscription: UUID
    /// Attempts made so far.
    let attempts: Int
    let deliveredAt: Date?
    /// Why the last attempt failed; nil once delivered or before the first attempt.
    let lastError: String?
    /// The centre it was queued for, and the subscription's own centre; nil when the stored
    /// code is unreadable, which hides the delivery from everyone.
    let centre: DivisionCode?
    let subscriber: DivisionCode?
    let queuedAt: Date
    /// What was pushed (``PushEvents``).
    let event: String
    /// The case the push is about; `nil` for the index's notices, and for older deliveries
    /// whose stored payload did not name it.
    let caseID: UUID?

    /// Its place in a list in the order deliveries were queued.
    var cursor: PageCursor { PageCursor(time: queuedAt, id: id) }
}

/// A delivery on its way, leased to this process: the exact bytes to send, where, and how
/// many attempts it has had. Every retry sends the same payload under the same id, so a
/// receiver dedupes on the id and a signature stays valid.
struct OutgoingDelivery: Sendable {
    let id: UUID
    /// The stored body: JSON for the HTTP channels, a whole RFC 5322 message for e-mail; for
    /// a robot's grouped message, that message instead.
    var payload: String
    /// The push's type (`X-Pingan-Event`).
    let event: String
    /// Where an HTTP channel posts it; empty for e-mail.
    let url: String
    /// The subscription's secret (``WebhookSecret``); empty for a channel that is not signed.
    let secret: String
    /// Attempts made before this one.
    let attempts: Int
    let subscription: UUID
    let channel: PushChannel
    /// The e-mail recipient; empty for other channels.
    let email: String
    /// The secret being rotated out, while it still signs (``WebhookSigning``).
    var previousSecret: String? = nil
    /// The line that names it in a message grouping several (``WeComMessage/grouped(_:link:)``).
    var digest = ""
}

/// What one attempt got: the status if there was an answer (HTTP, or SMTP's last reply code),
/// and an error unless the receiver accepted it.
struct DeliveryAttempt: Sendable {
    let status: Int?
    let error: String?
    let duration: Duration
    /// What the stored error leaves out (the transport's error for an allowed internal
    /// receiver): for the service's own log, never for the table a subscriber reads.
    var withheldDetail: String? = nil

    var succeeded: Bool { error == nil }
}
