import Foundation
import PinganConnect
import PinganContracts
import PinganDomain

/// A resident's own request (群众诉求) as dispute-service keeps it: who filed it and how to
/// reach them (personal data, masked in every answer but the filer's own), where it is, and
/// the case it opened or joined once it is placed in a village.
struct ResidentRequest: Sendable {
    let id: UUID
    let trackingID: String
    let category: Pingan_Grid_V1_IncidentCategory
    /// Never listed publicly (``ResidentRequest/isSensitive(category:selfHarm:)``).
    let sensitive: Bool
    /// The village once placed; `nil` while it waits at ``triageCentre``.
    let village: DivisionCode?
    /// Where it waits to be placed, or (once placed) the village's township.
    let triageCentre: DivisionCode
    let description: String
    let phone: ResidentPhone
    let requestedAt: Date
    let caseID: UUID?
    let rating: Int?
    /// The case's state, read with the request; `nil` while it is not placed.
    var progress: CaseProgress?
    /// The address and spot the filer gave, for the staff placing it; never public.
    var address = ""
    var latitude: Double? = nil
    var longitude: Double? = nil
    var ratedAt: Date? = nil
    var placedAt: Date? = nil

    /// Where the request's case stands, as the filer's stage is read off it.
    struct CaseProgress: Sendable {
        let status: DisputeCase.Status
        let currentRung: Int?
        let coordinator: DivisionCode
        /// The newest step of the case.
        let changedAt: Date
        /// The running rung's or the return visit's deadline.
        let nextDeadline: Date?
        let returnVisited: Bool
    }

    /// What the filer reads: 受理 until a rung starts, then 调解中, 已达成协议 once settled,
    /// 已回访 after the return visit and 已办结 once rated or resolved without a settlement.
    var stage: Pingan_Dispute_V1_RequestStage {
        guard let progress else { return .received }
        if rating != nil { return .concluded }
        switch progress.status {
        case .open: return progress.currentRung == nil ? .received : .mediating
        case .settled: return progress.returnVisited ? .visited : .agreed
        case .closed: return .visited
        case .resolved: return .concluded
        }
    }

    /// The stage in the words of the resident pages and SMS.
    static func words(_ stage: Pingan_Dispute_V1_RequestStage) -> String {
        switch stage {
        case .received: "受理"
        case .mediating: "调解中"
        case .agreed: "已达成协议"
        case .visited: "已回访"
        case .concluded: "已办结"
        default: "受理"
        }
    }

    /// Marriage and family matters and threats of self-harm are never listed publicly: a
    /// neighbour reading the list must not learn that a household is in one.
    static func isSensitive(category: Pingan_Grid_V1_IncidentCategory, selfHarm: Bool) -> Bool {
        category == .marriageFamily || selfHarm
    }

    /// The party a resident's request names for the filer: their name, or (when they gave
    /// none) 来访群众 with the phone's last four digits, so two nameless residents of a village
    /// are not taken for the same party while one resident's repeats still are.
    static func filerParty(name: String, phone: ResidentPhone) -> Party {
        Party(name: name.isEmpty ? "来访群众\(phone.digits.suffix(4))" : name, phone: phone.digits, minor: false)
    }
}

/// A resident's mobile phone as a request field (``MobilePhone``), or `invalid_argument`.
struct ResidentPhone: Sendable, Hashable {
    let digits: String

    init(parsing text: String, field: String = "phone") throws {
        guard !text.isEmpty else { throw ConnectError.invalidArgument(field: field, "is required") }
        guard let phone = MobilePhone(normalising: text) else { throw ConnectError.invalidArgument(field: field, MobilePhone.problem) }
        digits = phone.digits
    }

    init(stored: String) { digits = stored }

    var masked: String { Masking.phone(digits) }
}

/// Tracking ids residents read out on the phone: `PA` and eight characters of Crockford's
/// base32 (no I, L, O or U), about 10^12 of them, unguessable enough that one id does not
/// lead to the next.
enum TrackingID {
    static let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ")

    static func make() -> String {
        var generator = SystemRandomNumberGenerator()
        return "PA" + String((0..<8).map { _ in alphabet[Int(generator.next(upperBound: UInt32(alphabet.count)))] })
    }

    /// A tracking id as typed: upper-cased and trimmed; `invalid_argument` for anything that
    /// cannot be one.
    static func field(_ text: String, _ field: String = "tracking_id") throws -> String {
        let id = text.trimmingCharacters(in: .whitespaces).uppercased()
        guard !id.isEmpty else { throw ConnectError.invalidArgument(field: field, "is required") }
        guard id.count == 10, id.hasPrefix("PA"), id.dropFirst(2).allSatisfy({ alphabet.contains($0) }) else {
            throw ConnectError.invalidArgument(field: field, "is not a tracking id (PA and eight letters or digits)")
        }
        return id
    }
}

/// How many requests may be filed before the next is refused with `resource_exhausted`:
/// per phone, per app key and per place, each over a sliding hour (a day for a phone).
struct ResidentLimits: Sendable {
    /// A resident files a handful of matters, not dozens.
    var perPhonePerDay = 5
    /// The city's app serves every resident; a runaway client is stopped within the hour.
    var perAppKeyPerHour = 600
    /// One village (or one address or spot, for a request not yet placed) draws many
    /// residents only when something big happens; past this the centre is told by the
    /// cluster of cases, not by more filings.
    var perPlacePerHour = 60
}
