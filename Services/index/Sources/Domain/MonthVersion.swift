import Foundation
import PinganDomain

/// One computation of a month, as stored. A month is scored again and again while it runs
/// (provisional) and settles once it has ended (frozen); a published review names the version
/// it shows, so a frozen month's scores can be told apart from a later recomputation.
struct MonthVersion: Sendable, Equatable {
    enum Status: String, Sendable {
        /// The month is still running; the next computation replaces this one in place.
        case provisional
        /// The month had ended when its facts were read; only a new version follows it.
        case frozen
    }

    let month: Month
    let version: Int
    let status: Status
    let catalogueVersion: String
    let computedAt: Date
    let computedBy: String
    /// Why a frozen month was recomputed; empty for a first computation.
    let reason: String
}

/// A computation to publish as a month's current version, with who asks and on what
/// authority: what ``MonthVersioning`` decides on and the month store applies. Its scores
/// travel beside it, family by family as they are drawn.
struct Publication: Sendable {
    let month: Month
    let catalogueVersion: String
    /// Frozen when the month had ended when its facts were read.
    let status: MonthVersion.Status
    let computedBy: String
    /// Why a frozen month is recomputed; empty for a first computation.
    let reason: String
    /// Whether the caller may recompute a frozen month (the root centre's administrator).
    let mayRecomputeFrozen: Bool
    let now: Date
}
