import Foundation
import PinganDomain

/// The rungs of the 3-2-1 ladder (三二一调解工作法), climbed one at a time.
enum LadderRung: Int, CaseIterable, Comparable, Sendable {
    case finder = 1
    case villageSecretary
    case townshipCadre
    case politicalLegal
    case townshipLeaders

    /// The centre level that runs the rung: the first two are the village's, the rest the
    /// township's. A centre below that level may not start it.
    var owningLevel: DivisionLevel { rawValue <= 2 ? .village : .township }

    var title: String {
        switch self {
        case .finder: "primary mediation by whoever found it (谁发现、谁受理)"
        case .villageSecretary: "primary mediation led by the village party secretary"
        case .townshipCadre: "primary mediation led by the township cadre for the village"
        case .politicalLegal: "deep mediation by the township political-legal officer with the safety office, police station and judicial office"
        case .townshipLeaders: "deep mediation led by the township's principal leaders with the city departments"
        }
    }

    /// The rung as centres name it, for what people read in a push.
    var chineseTitle: String {
        switch self {
        case .finder: "第一级（谁发现谁受理）"
        case .villageSecretary: "第二级（村支书调解）"
        case .townshipCadre: "第三级（包村干部调解）"
        case .politicalLegal: "第四级（政法委员牵头）"
        case .townshipLeaders: "第五级（乡镇主要领导）"
        }
    }

    var next: LadderRung? { LadderRung(rawValue: rawValue + 1) }

    /// A rung has failed, and the one above opens, when an attempt at it ends failed, or when
    /// this many attempts at it eased tension (缓和) without a settlement: tried again and
    /// again, it has not resolved the dispute.
    static let easedAttemptsToFail = 2

    static func < (lhs: LadderRung, rhs: LadderRung) -> Bool { lhs.rawValue < rhs.rawValue }
}

enum RungOutcome: String, Sendable {
    case settled, eased, failed
}

/// The 4+N mediation kinds (和宁调解).
enum MediationKind: String, Sendable {
    case peoples, administrative, arbitration, judicial, other
}

enum ReturnVisitOutcome: String, Sendable {
    case confirmed, unsettled
}

/// One attempt at one rung.
///
/// `startedAt` and `endedAt` are when it really happened, which deadlines and the index count
/// from; a mediation written up later (补录, ``Backdating``) was entered after them, and the
/// entry's time and person are kept beside them.
struct RungAttempt: Sendable {
    let id: UUID
    let rung: LadderRung
    let kind: MediationKind
    let lead: String
    let participants: [String]
    let bodies: [String]
    /// The centre that started it.
    let centre: DivisionCode
    /// Who entered the start.
    let startedBy: String
    let startedAt: Date
    /// When the start was entered: `startedAt` unless it was recorded later.
    let startEnteredAt: Date
    let deadline: WorkingDeadline
    var outcome: RungOutcome?
    var outcomeNote: String?
    var endedAt: Date?
    /// Who entered the end; nil while open (and for attempts ended before it was kept, when
    /// their timeline did not say).
    var endedBy: String?
    /// When the end was entered: `endedAt` unless it was recorded later.
    var endEnteredAt: Date?

    init(
        id: UUID, rung: LadderRung, kind: MediationKind, lead: String, participants: [String], bodies: [String], centre: DivisionCode,
        startedBy: String, startedAt: Date, startEnteredAt: Date? = nil, deadline: WorkingDeadline,
        outcome: RungOutcome? = nil, outcomeNote: String? = nil, endedAt: Date? = nil, endedBy: String? = nil, endEnteredAt: Date? = nil
    ) {
        self.id = id
        self.rung = rung
        self.kind = kind
        self.lead = lead
        self.participants = participants
        self.bodies = bodies
        self.centre = centre
        self.startedBy = startedBy
        self.startedAt = startedAt
        self.startEnteredAt = startEnteredAt ?? startedAt
        self.deadline = deadline
        self.outcome = outcome
        self.outcomeNote = outcomeNote
        self.endedAt = endedAt
        self.endedBy = endedBy
        self.endEnteredAt = endEnteredAt ?? endedAt
    }
}

/// The signed settlement; a case is settled only by one.
struct Agreement: Sendable {
    let id: UUID
    let terms: String
    let signedOn: Day
    let signatories: [String]
}

/// The visit after a settlement (回访/陪访).
struct ReturnVisit: Sendable {
    let id: UUID
    let deadline: WorkingDeadline
    var outcome: ReturnVisitOutcome?
    var note: String?
    /// When the visit really took place (补录 may put it before ``enteredAt``).
    var visitedAt: Date?
    /// Who entered it.
    var visitedBy: String?
    /// When it was entered.
    var enteredAt: Date?
}

/// A department registered with a centre; it acts through the gateway with its API key.
struct Department: Sendable {
    let id: UUID
    let centre: DivisionCode
    let name: String
    let apiKeyName: String

    /// How the gateway names a principal that acts with an API key.
    static let subjectPrefix = "apikey:"

    /// The subject of the department's principal at the gateway.
    var subject: String { Self.subjectPrefix + apiKeyName }
}

/// A department summoned to a case (中心吹哨、部门报到): it must report, then feed back.
struct Summons: Sendable {
    let id: UUID
    let department: Department
    let summonedBy: DivisionCode
    let reportDeadline: WorkingDeadline
    let feedbackDeadline: WorkingDeadline
    var reportedAt: Date?
    var feedback: String?
    var fedBackAt: Date?
}

/// Handled as a major dispute (1350工作法).
struct MajorDispute: Sendable, Equatable {
    static let minimumDepartments = 3
    static let minimumRepresentatives = 50

    let departments: [String]
    let residentRepresentatives: Int
}

/// Working days each step gets, from the deployment's settings.
struct StepDeadlines: Sendable, Equatable {
    /// Per rung, finder first.
    var rungs: [Int] = [3, 5, 7, 10, 15]
    var returnVisit = 10
    var summonsReport = 1
    var summonsFeedback = 5

    func days(for rung: LadderRung) -> Int { rungs[rung.rawValue - 1] }
}

/// What mediation did in one village in one month, counted by when each step happened: the
/// facts the governance index rewards (settling on time, answering summons, visiting) and
/// penalises (overdue steps, repeat incidents).
struct MediationFacts: Sendable, Equatable {
    var opened = 0
    var resolved = 0
    var rungsEnded = 0
    var rungsSettled = 0
    var rungsOnTime = 0
    var summonsAnswered = 0
    var summonsLate = 0
    var returnVisitsDone = 0
    var returnVisitsConfirmed = 0
    var overdueSteps = 0
    var repeatIncidents = 0
    var reopenedAfterSettlement = 0
    var violentCases = 0
    /// Residents' ratings given in the month, and the ones of 4 or 5.
    var residentRatings = 0
    var residentSatisfied = 0
}
