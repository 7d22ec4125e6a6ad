import Foundation
import PinganContracts
import PinganDomain

/// The cluster rules (社会风险专题数据库的预警规则) as versioned data: what many incidents
/// together warn of, where one case alone says nothing. Six land disputes opened in one village
/// within two weeks are the early sign of a collective incident (群体性事件苗头); one person in
/// three open cases in three villages is a person the centres should talk about.
///
/// The book keeps every version with the day it applies from, so a changed rule applies from
/// its version on and a warning records the version that raised it. It ships beside the
/// per-case models (`Data/risk-models.json`, key `clusterRules`) and can be replaced by a file
/// of the same shape (`CLUSTER_RULES_FILE`) without a new build.
struct ClusterRuleBook: Sendable, Equatable {
    /// Oldest first.
    let versions: [ClusterRuleSet]

    /// The version in force at `moment`: the latest whose first day has begun.
    func inForce(at moment: Date) -> ClusterRuleSet? {
        versions.last { $0.from <= moment }
    }

    /// A book read from JSON (`{"versions": [...]}`, or a risk-models file holding one under
    /// `clusterRules`), checked whole: a book with a rule it cannot apply is refused at start,
    /// not found wanting when a village's sixth dispute arrives.
    static func parse(_ data: Data) throws(ClusterRuleError) -> ClusterRuleBook {
        let file: ClusterRuleFile
        do {
            file = try JSONDecoder().decode(ClusterRuleFile.self, from: data)
        } catch {
            throw .malformed("\(error)")
        }
        guard let versions = file.versions ?? file.clusterRules?.versions, !versions.isEmpty else {
            throw .malformed("no versions of cluster rules")
        }
        var sets: [ClusterRuleSet] = []
        for version in versions {
            guard let day = Day(parsing: version.from) else { throw .malformed("version \(version.version): from \"\(version.from)\" is not YYYY-MM-DD") }
            if let last = sets.last, last.from >= day.start { throw .malformed("version \(version.version) must start after \(last.version)") }
            for rule in version.rules {
                if let problem = rule.problem { throw .malformed("version \(version.version), rule \(rule.id): \(problem)") }
            }
            guard Set(version.rules.map(\.id)).count == version.rules.count else { throw .malformed("version \(version.version) names a rule twice") }
            sets.append(ClusterRuleSet(version: version.version, from: day.start, rules: version.rules))
        }
        return ClusterRuleBook(versions: sets)
    }

    /// How the file is written: the versions, on their own or beside the per-case models.
    private struct ClusterRuleFile: Decodable {
        struct Version: Decodable {
            let version: String
            let from: String
            let rules: [ClusterRule]
        }
        struct Book: Decodable { let versions: [Version] }
        let versions: [Version]?
        let clusterRules: Book?
    }
}

/// A cluster rule book that cannot be applied.
enum ClusterRuleError: Error, Equatable, CustomStringConvertible {
    case malformed(String)

    var description: String {
        switch self {
        case .malformed(let problem): "the cluster rules are malformed: \(problem)"
        }
    }
}

/// One version of the cluster rules, in force from its first day (China time) until the next.
struct ClusterRuleSet: Sendable, Equatable {
    let version: String
    let from: Date
    let rules: [ClusterRule]
}

/// One cluster rule: what it counts, where, over what time, and whom it warns.
struct ClusterRule: Sendable, Equatable, Decodable {
    enum Kind: String, Sendable, Decodable {
        /// `count` incidents of `category` (any, when absent) in one `scope` within `windowDays`.
        case incidentsInPlace = "incidents_in_place"
        /// One person (the same name and phone) in `count` open cases, wherever they lie.
        case personInOpenCases = "person_in_open_cases"
        /// In one `scope`, the last `windowDays` hold at least `count` incidents of `category`
        /// and more than `factor` times the mean of the same days of the `years` years before.
        case seasonalRise = "seasonal_rise"
    }

    /// Where incidents are counted together.
    enum Scope: String, Sendable, Decodable {
        case village, township
    }

    /// Whom a cluster warns.
    enum Warns: String, Sendable, Decodable {
        /// The township (or street) of the place; for a person, of the villages if they share one.
        case township
        /// The county (or district) above it.
        case county
    }

    let id: String
    let kind: Kind
    /// What the rule warns of, as centre staff read it (同一村14天内土地纠纷6起).
    let label: String
    /// The per-case models' category name (`land`); absent counts every category.
    var category: String? = nil
    var scope: Scope? = nil
    let count: Int
    var windowDays: Int? = nil
    var years: Int? = nil
    var factor: Double? = nil
    let warns: Warns

    /// What makes the rule unusable, if anything.
    var problem: String? {
        if id.isEmpty || id.count > 64 { return "an id of 1 to 64 characters is required" }
        if count < 2 { return "count must be at least 2" }
        if let category, !RiskModelCatalogue.names.values.contains(category) { return "category \(category) is not one the models know" }
        switch kind {
        case .incidentsInPlace, .seasonalRise:
            guard scope != nil else { return "a scope (village or township) is required" }
            guard let days = windowDays, (1...366).contains(days) else { return "windowDays of 1 to 366 is required" }
            if kind == .seasonalRise {
                guard let years, (1...10).contains(years) else { return "years of 1 to 10 is required" }
                guard let factor, factor >= 1 else { return "a factor of at least 1 is required" }
            }
        case .personInOpenCases:
            break
        }
        return nil
    }

    /// The category the rule counts, as the wire names it; `nil` for every category.
    var incidentCategory: Pingan_Grid_V1_IncidentCategory? {
        category.flatMap { name in RiskModelCatalogue.names.first { $0.value == name }?.key }
    }

    /// The window as a time interval.
    var window: TimeInterval { Double(windowDays ?? 0) * 86_400 }
}

/// An incident as the topic database keeps it: one per case, whatever reports joined it.
struct TopicIncident: Sendable, Equatable {
    let caseID: UUID
    let village: DivisionCode
    let category: Pingan_Grid_V1_IncidentCategory
    let source: Pingan_Dispute_V1_CaseSource
    let openedAt: Date
    let closed: Bool
    /// The parties' keyed hashes (``PartyKey``).
    let partyKeys: [PartyKey]
    /// True once dispute-service erased the case's parties: the keys held for it are dropped.
    var partiesErased = false
}

/// A party as dispute-service hashed it: a kind and an HMAC-SHA256, so that cases can be
/// matched across villages and sources without risk-service holding a name or a phone.
struct PartyKey: Sendable, Hashable, Comparable {
    enum Kind: String, Sendable, CaseIterable {
        /// Normalised name and phone together: the same person, almost surely.
        case namePhone = "name_phone"
        /// The phone alone: the same person under a misspelt name, or a household's phone.
        case phone
        /// The ID number, where one was given: the same person.
        case idNumber = "id_number"

        /// How sure a match on this kind is, 0 to 100.
        var confidence: Int {
            switch self {
            case .idNumber: 100
            case .namePhone: 95
            case .phone: 60
            }
        }
    }

    let kind: Kind
    /// 64 lowercase hex digits.
    let digest: String

    /// As the wire and the store spell it: `name_phone:` and the digest.
    var text: String { "\(kind.rawValue):\(digest)" }

    /// A key as dispute-service sends it; `nil` for anything else.
    init?(_ text: String) {
        guard let colon = text.firstIndex(of: ":"), let kind = Kind(rawValue: String(text[..<colon])) else { return nil }
        let digest = text[text.index(after: colon)...]
        guard digest.utf8.count == 64, digest.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }) else { return nil }
        self.kind = kind
        self.digest = String(digest)
    }

    static func < (lhs: PartyKey, rhs: PartyKey) -> Bool { lhs.text < rhs.text }
}

/// What the store must look up for a rule about one incident, and under which cluster key: the
/// key names the one cluster warning that may be open for it at a time.
struct ClusterProbe: Sendable, Equatable {
    enum Look: Sendable, Equatable {
        /// Incidents of `category` (every one when `nil`) under `scope` opened in `since...until`.
        case place(category: Pingan_Grid_V1_IncidentCategory?, scope: DivisionCode, since: Date, until: Date)
        /// Open cases naming `key`.
        case person(PartyKey)
        /// As `place`, and the counts of the same days in each of `years` years before.
        case seasonal(category: Pingan_Grid_V1_IncidentCategory?, scope: DivisionCode, since: Date, until: Date, years: Int)
    }

    let rule: ClusterRule
    let key: String
    let look: Look
}

/// What the store found for a probe.
struct ClusterObservation: Sendable, Equatable {
    let probe: ClusterProbe
    /// The incidents the probe found, oldest first, with their villages.
    let members: [ClusterMember]
    /// For a seasonal probe, the counts of the same days one, two, ... years before.
    let pastCounts: [Int]
}

/// A member case of a cluster and where it lies.
struct ClusterMember: Sendable, Equatable {
    let id: UUID
    let village: DivisionCode
}

/// A cluster warning open for a key, as a decision needs to know it.
struct OpenCluster: Sendable, Equatable {
    let id: UUID
    let key: String
    /// Whether the incident being decided is a member already (a report of it counted again).
    let holdsIncident: Bool
    /// The centre it warns now.
    let centre: DivisionCode
}

/// What a new incident does to the clusters.
enum ClusterDecision: Sendable, Equatable {
    /// Raise a cluster warning for `key` with `members`, owned by `owner`, about `scope`; its
    /// push waits until `pushAt` (the group wait) so that members arriving meanwhile go in the
    /// same push.
    case raise(key: String, rule: ClusterRule, version: String, owner: DivisionCode, scope: DivisionCode, members: [UUID], pushAt: Date, escalatesAt: Date)
    /// The incident joins the open cluster `warning`, which warns `centre`: before its push,
    /// in the push; after it, on the warning, which its handlers already have in hand. If it
    /// makes the cluster twice what it was when last pushed, the cluster is pushed again at
    /// `pushAt` (a group wait of its own), as `warning.grew`.
    case join(warning: UUID, centre: DivisionCode, member: UUID, pushAt: Date)
}

/// Grouping as Alertmanager's `group_wait` does it: how long a new cluster waits for more
/// members before its push, and a doubled one before its push again.
struct ClusterGrouping: Sendable, Equatable {
    let groupWait: Duration
}

extension ClusterRuleSet {
    /// What the store must look up for `incident` at `now`, one probe per rule that applies:
    /// place and seasonal rules only for an incident new to the topic database (a change to
    /// a case raises no cluster twice), person rules for the keys it newly names.
    func probes(for incident: TopicIncident, isNew: Bool, newKeys: [PartyKey], now: Date) -> [ClusterProbe] {
        var probes: [ClusterProbe] = []
        for rule in rules {
            switch rule.kind {
            case .incidentsInPlace, .seasonalRise:
                guard isNew, let scope = rule.scope else { continue }
                if let wanted = rule.incidentCategory, wanted != incident.category { continue }
                let place = scope == .village ? incident.village : incident.village.owningCentre
                // Counted up to the incident itself: a case backdated into the past still
                // counts in the window it lies in.
                let until = max(now, incident.openedAt)
                let key = "\(rule.id)|\(place.rawValue)|\(rule.category ?? "any")"
                let look: ClusterProbe.Look = rule.kind == .incidentsInPlace
                    ? .place(category: rule.incidentCategory, scope: place, since: until.addingTimeInterval(-rule.window), until: until)
                    : .seasonal(category: rule.incidentCategory, scope: place, since: until.addingTimeInterval(-rule.window), until: until, years: rule.years ?? 1)
                probes.append(ClusterProbe(rule: rule, key: key, look: look))
            case .personInOpenCases:
                guard !incident.closed else { continue }
                for key in (isNew ? incident.partyKeys : newKeys) where key.kind != .phone {
                    probes.append(ClusterProbe(rule: rule, key: "\(rule.id)|\(key.text)", look: .person(key)))
                }
            }
        }
        return probes
    }

    /// What `incident` does to the clusters, given what the probes found and the clusters open
    /// for their keys: it joins an open one, or its arrival makes a rule's count and raises one.
    func decide(
        _ incident: TopicIncident, observations: [ClusterObservation], open: [String: OpenCluster],
        grouping: ClusterGrouping, warnings: WarningRules, now: Date
    ) -> [ClusterDecision] {
        var decisions: [ClusterDecision] = []
        for observation in observations {
            let probe = observation.probe, members = observation.members
            if let cluster = open[probe.key] {
                guard !cluster.holdsIncident else { continue }
                decisions.append(.join(warning: cluster.id, centre: cluster.centre, member: incident.caseID, pushAt: now.addingTimeInterval(grouping.groupWait.seconds)))
                continue
            }
            guard members.contains(where: { $0.id == incident.caseID }), Self.fires(probe.rule, members: members.count, past: observation.pastCounts) else { continue }
            let scope = Self.scope(of: members.map(\.village), around: incident.village)
            let owner = Self.owner(probe.rule.warns, scope: scope)
            decisions.append(.raise(
                key: probe.key, rule: probe.rule, version: version, owner: owner, scope: scope, members: members.map(\.id),
                pushAt: now.addingTimeInterval(grouping.groupWait.seconds), escalatesAt: warnings.escalationTime(after: now)
            ))
        }
        return decisions
    }

    /// Whether a rule's count is reached: `count` members, and for a seasonal rule more than
    /// `factor` times the mean of the years before.
    static func fires(_ rule: ClusterRule, members: Int, past: [Int]) -> Bool {
        guard members >= rule.count else { return false }
        guard rule.kind == .seasonalRise else { return true }
        let mean = past.isEmpty ? 0 : Double(past.reduce(0, +)) / Double(past.count)
        return Double(members) > (rule.factor ?? 1) * mean
    }

    /// The smallest division holding `village` and every one of `villages`: the village itself, their township, or
    /// the county or city above them.
    static func scope(of villages: [DivisionCode], around village: DivisionCode) -> DivisionCode {
        village.selfAndAncestors.first { ancestor in villages.allSatisfy { ancestor.contains($0) } } ?? village
    }

    /// The centre a cluster about `scope` warns: the township holding it (or the division
    /// itself when it spans more), or the county above for the larger rules.
    static func owner(_ warns: ClusterRule.Warns, scope: DivisionCode) -> DivisionCode {
        let township = scope.owningCentre
        switch warns {
        case .township: return township
        case .county: return township.level == .township ? (township.parent ?? township) : township
        }
    }
}

/// The cluster rules and how their pushes are grouped, as the store applies them.
struct ClusterPolicy: Sendable, Equatable {
    let book: ClusterRuleBook
    let grouping: ClusterGrouping
}
