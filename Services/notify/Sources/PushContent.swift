import Foundation

/// What is pushed, in one shape every channel renders (``PushRendering``) and every filter
/// reads (``SubscriptionFilter``): a warning or a notice, made from the event that carried it
/// (``NotifyEvents``).
struct PushContent: Sendable {
    let type: String
    /// The warning's id, or the id of the event that carried a notice.
    let subject: UUID
    let caseID: String
    let centre: String
    let village: String
    let summary: String
    let score: Int?
    let reasons: [String]
    let incidentID: String
    let dueAt: String
    let category: Int?
}
