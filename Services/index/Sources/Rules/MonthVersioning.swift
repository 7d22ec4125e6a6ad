import Foundation
import PinganDomain

/// Which version of a month a new computation becomes (月度版本): a provisional version is
/// replaced in place, since only the final one is history; a frozen month keeps every
/// version it published and is recomputed only by the root centre's administrator, with a
/// reason, as the next version.
///
/// The month store reads the month's latest version under the month's lock, asks this rule
/// and applies what it says, so computations of one month run one after another and each
/// decides on the version the one before it left.
enum MonthVersioning {
    /// A computation is frozen when the month had ended when its facts were read (`factsReadAt`
    /// at or after the month's end, the first instant of the next month in China time), and
    /// provisional while the month runs: a running month's facts are still arriving. So are
    /// an ended month's while a county that runs its own mesh has not sent the city all it did
    /// before the month's end (`countiesCompleteAsOf`, `nil` for one that never said): the
    /// month stays provisional, recomputed each round, until every county is past its end, so
    /// a cut link never freezes a county's month without its cases.
    static func status(of month: Month, factsReadAt: Date, countiesCompleteAsOf: [Date?] = []) -> MonthVersion.Status {
        let end = month.range.end
        guard factsReadAt >= end else { return .provisional }
        return countiesCompleteAsOf.allSatisfy { ($0 ?? .distantPast) >= end } ? .frozen : .provisional
    }

    /// Where a computation goes.
    enum Decision: Sendable, Equatable {
        /// The month has no version yet: this is version 1.
        case first
        /// The latest version is provisional: it is replaced, keeping its number.
        case replace(version: Int)
        /// The latest version is frozen: this one follows it as `version`.
        case follow(version: Int)

        /// The version the computation is stored as.
        var version: Int {
            switch self {
            case .first: 1
            case .replace(let version), .follow(let version): version
            }
        }
    }

    /// Decides where `publication` goes, given the month's `latest` stored version.
    static func decide(_ publication: Publication, latest: MonthVersion?) throws(IndexRefusal) -> Decision {
        guard let latest else { return .first }
        guard latest.status == .frozen else { return .replace(version: latest.version) }
        guard publication.mayRecomputeFrozen else { throw .frozenNeedsAdministrator(version: latest.version) }
        guard !publication.reason.isEmpty else { throw .frozenNeedsReason(version: latest.version) }
        return .follow(version: latest.version + 1)
    }
}
