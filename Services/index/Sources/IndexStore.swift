import Foundation
import PinganAccess
import PinganConnect
import PinganContracts
import PinganDomain
import PinganOutbox
import PinganPostgres
import SwiftProtobuf

/// One computation of a month, as stored.
struct MonthVersion: Sendable, Equatable {
    enum Status: String, Sendable {
        case provisional
        case frozen
    }

    let month: Month
    let version: Int
    let status: Status
    let catalogueVersion: String
    let computedAt: Date
    let computedBy: String
    let reason: String
}

/// Who publishes a computation, and on what authority.
struct Publication: Sendable {
    let month: Month
    let scored: [GovernanceIndex.Scored]
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

/// An action a month's score called for.
struct IndexAction: Sendable, Equatable {
    enum Status: String, Sendable {
        case open
        case done
        case withdrawn
    }

    let id: UUID
    let month: String
    let division: String
    let divisionName: String
    let centre: DivisionCode
    let kind: ThresholdRule.Kind
    let owner: String
    let dueOn: Day
    let score: Double
    let status: Status
    let outcome: String?
    let doneBy: String?
    let doneAt: Date?
    let createdAt: Date
}

/// Why the store refused to publish or change something.
enum IndexStoreError: Error, Equatable, CustomStringConvertible {
    /// The month is frozen and the caller gave no reason to recompute it.
    case frozenNeedsReason(version: Int)
    /// The month is frozen and only the root centre's administrator may recompute it.
    case frozenNeedsAdministrator(version: Int)
    case actionNotOpen(IndexAction.Status)

    var description: String {
        switch self {
        case .frozenNeedsReason(let version): "the month is frozen (version \(version)); recomputing it needs a reason"
        case .frozenNeedsAdministrator(let version): "the month is frozen (version \(version)); only an administrator of the root centre may recompute it"
        case .actionNotOpen(let status): "the action is \(status.rawValue), not open"
        }
    }
}

/// Where the index's months, scores, actions, rules and survey results live.
protocol IndexStore: Sendable {
    /// Stores a computation as the month's current version, under the month's lock so
    /// computations of one month run one after another. Freezing a month creates the
    /// actions its scores call for, and the notices about them, in the same transaction.
    func publish(_ publication: Publication) async throws -> MonthVersion
    /// Every version of a month, oldest first.
    func versions(of month: Month) async throws -> [MonthVersion]
    /// The current version's scores of `parent`'s children, ranked units first, with each
    /// unit's change from the previous month's current version.
    func ranking(of parent: DivisionCode, in month: Month) async throws -> (MonthVersion?, [Pingan_Index_V1_DivisionScore])
    func actions(under centre: DivisionCode, month: Month?, status: IndexAction.Status?, after: PageCursor?, limit: Int) async throws -> [IndexAction]
    func action(_ id: UUID) async throws -> IndexAction?
    func complete(_ id: UUID, outcome: String, by: String, now: Date) async throws -> IndexAction
    func rule(for centre: DivisionCode) async throws -> ThresholdRule?
    func setRule(_ rule: ThresholdRule, for centre: DivisionCode, by: String, now: Date) async throws
    func loadSurvey(_ month: Month, _ results: [SurveyResult], by: String, now: Date) async throws
    func survey(_ month: Month) async throws -> [String: FactSheet]
    /// The division's name as the month's scores recorded it.
    func name(of code: DivisionCode, in month: Month) async throws -> String?
    /// The frozen monthly scores with enough data of `parent`'s children in `year`.
    func frozenScores(of parent: DivisionCode, year: Int) async throws -> [(code: String, name: String, scores: [Double])]
}

/// Everything in schema `index`.
struct PostgresIndexStore: IndexStore {
    let pool: PostgresPool
    let outbox: Outbox

    static let versionColumns = "month, version, status, catalogue_version, computed_at, computed_by, reason"
    static let actionColumns = "id, month, division_code, division_name, centre_code, kind, owner, due_on::text, score, status, outcome, done_by, done_at, created_at"

    func publish(_ publication: Publication) async throws -> MonthVersion {
        let month = publication.month
        return try await outbox.transaction(pool) { transaction in
            try await transaction.query("SELECT pg_advisory_xact_lock(hashtext('index.months ' || $1))", [month.description])
            let latest = try await transaction.query(
                "SELECT \(Self.versionColumns) FROM index.months WHERE month = $1 ORDER BY version DESC LIMIT 1", [month.description]
            ).first.map(Self.decodeVersion)
            var version = latest?.version ?? 1
            if let latest, latest.status == .frozen {
                guard publication.mayRecomputeFrozen else { throw IndexStoreError.frozenNeedsAdministrator(version: latest.version) }
                guard !publication.reason.isEmpty else { throw IndexStoreError.frozenNeedsReason(version: latest.version) }
                version = latest.version + 1
            } else if latest != nil {
                // A provisional version is replaced in place: only the final one is history.
                try await transaction.query("DELETE FROM index.scores WHERE month = $1 AND version = $2", [month.description, version])
                try await transaction.query("DELETE FROM index.months WHERE month = $1 AND version = $2", [month.description, version])
            }
            let stored = MonthVersion(
                month: month, version: version, status: publication.status, catalogueVersion: publication.catalogueVersion,
                computedAt: publication.now, computedBy: publication.computedBy, reason: publication.reason
            )
            try await transaction.query(
                "INSERT INTO index.months (\(Self.versionColumns)) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                [month.description, version, stored.status.rawValue, stored.catalogueVersion, stored.computedAt, stored.computedBy, stored.reason]
            )
            try await transaction.copy(
                into: "index.scores",
                columns: ["month", "version", "code", "name", "parent_code", "score", "rank", "rank_low", "rank_high", "enough_data", "indicators", "computed_at"],
                rows: try publication.scored.map { score in
                    [month.description, version, score.code, score.name, score.parent, score.score, score.rank, score.rankLow, score.rankHigh,
                     score.enoughData, PostgresJSON("[" + (try score.indicators.map { try $0.jsonString() }.joined(separator: ",")) + "]"),
                     publication.now]
                }
            )
            if stored.status == .frozen {
                try await createActions(transaction, for: publication, version: version)
                try await announce(transaction, publication)
            }
            return stored
        }
    }

    /// The actions a frozen month calls for under each reviewing centre's rule. An action a
    /// recomputation no longer calls for is withdrawn; one already done stays done.
    private func createActions(_ transaction: PostgresConnection, for publication: Publication, version: Int) async throws {
        let month = publication.month.description
        var rules: [String: ThresholdRule] = [:]
        for row in try await transaction.query("SELECT \(Self.ruleColumns) FROM index.threshold_rules") {
            rules[try row.decode(String.self, at: 0)] = try Self.decodeRule(row)
        }
        var existing: [String: [(id: UUID, kind: String, status: String)]] = [:]
        for row in try await transaction.query("SELECT id, division_code, kind, status FROM index.actions WHERE month = $1 AND status <> 'withdrawn'", [month]) {
            existing[try row.decode(String.self, at: 1), default: []].append((try row.decode(UUID.self, at: 0), try row.decode(String.self, at: 2), try row.decode(String.self, at: 3)))
        }
        let today = Day(containing: publication.now)
        for unit in publication.scored {
            guard let parent = unit.parent, let centre = try? DivisionCode(validating: parent) else { continue }
            let rule = rules[parent] ?? .seedDefault
            let kind = rule.action(score: unit.score, enoughData: unit.enoughData)
            for old in existing[unit.code] ?? [] where old.kind != kind?.rawValue && old.status == "open" {
                try await transaction.query("UPDATE index.actions SET status = 'withdrawn' WHERE id = $1", [old.id])
            }
            guard let kind, !(existing[unit.code] ?? []).contains(where: { $0.kind == kind.rawValue }) else { continue }
            let id = UUID.random()
            let due = today.adding(days: rule.days(kind))
            try await transaction.query(
                """
                INSERT INTO index.actions (id, month, version, division_code, division_name, centre_code, kind, owner, due_on, score, created_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::date, $10, $11)
                """,
                [id, month, version, unit.code, unit.name, parent, kind.rawValue, rule.owner(kind), due.description, unit.score, publication.now]
            )
            var notice = Pingan_Notify_V1_DeliverNoticeRequest()
            notice.type = IndexEvents.actionNotice
            notice.centreCode = centre.rawValue
            notice.villageCode = unit.code
            notice.summary = unit.enoughData
                ? "\(month) 指数 \(unit.name) \(unit.score)分：\(kind.title)（\(rule.owner(kind))）"
                : "\(month) 指数 \(unit.name) 数据不足：\(kind.title)（\(rule.owner(kind))）"
            notice.dueAt = due.start.wireTimestamp
            try await outbox.enqueue(transaction, topic: IndexEvents.notice, notice)
        }
    }

    /// Tells each county centre, and those above that subscribe, the frozen month's result.
    private func announce(_ transaction: PostgresConnection, _ publication: Publication) async throws {
        for unit in publication.scored {
            guard let code = try? DivisionCode(validating: unit.code), code.level == .county else { continue }
            var notice = Pingan_Notify_V1_DeliverNoticeRequest()
            notice.type = IndexEvents.publishedNotice
            notice.centreCode = unit.code
            notice.villageCode = unit.code
            notice.summary = unit.enoughData
                ? "\(publication.month) 指数已发布：\(unit.name) \(unit.score)分，第\(unit.rank)名（区间 \(unit.rankLow)–\(unit.rankHigh)）"
                : "\(publication.month) 指数已发布：\(unit.name) 数据不足"
            try await outbox.enqueue(transaction, topic: IndexEvents.notice, notice)
        }
    }

    func versions(of month: Month) async throws -> [MonthVersion] {
        try await pool.query("SELECT \(Self.versionColumns) FROM index.months WHERE month = $1 ORDER BY version", [month.description])
            .map(Self.decodeVersion)
    }

    func ranking(of parent: DivisionCode, in month: Month) async throws -> (MonthVersion?, [Pingan_Index_V1_DivisionScore]) {
        guard let current = try await versions(of: month).last else { return (nil, []) }
        let rows = try await pool.query(
            """
            SELECT s.code, s.name, s.score, s.rank, s.indicators, s.enough_data, s.rank_low, s.rank_high, p.score, p.enough_data
            FROM index.scores s
            LEFT JOIN LATERAL (
                SELECT score, enough_data FROM index.scores
                WHERE month = $3 AND code = s.code
                ORDER BY version DESC LIMIT 1
            ) p ON true
            WHERE s.month = $1 AND s.version = $4 AND s.parent_code = $2
            ORDER BY s.rank = 0, s.rank, s.code
            """,
            [month.description, parent.rawValue, month.previous.description, current.version]
        )
        return (current, try rows.map { row in
            var score = Pingan_Index_V1_DivisionScore()
            score.code = try row.decode(String.self, at: 0)
            score.name = try row.decode(String.self, at: 1)
            score.score = try row.decode(Double.self, at: 2)
            score.rank = Int32(try row.decode(Int.self, at: 3))
            score.indicators = try Pingan_Index_V1_IndicatorValue.array(fromJSONString: try row.decode(PostgresJSON.self, at: 4).text)
            score.enoughData = try row.decode(Bool.self, at: 5)
            score.rankLow = Int32(try row.decode(Int.self, at: 6))
            score.rankHigh = Int32(try row.decode(Int.self, at: 7))
            if score.enoughData, let previous = try row.decode(Double?.self, at: 8), try row.decode(Bool?.self, at: 9) == true {
                score.change = GovernanceIndex.rounded(score.score - previous, 2)
                score.changeKnown = true
            }
            return score
        })
    }

    func actions(under centre: DivisionCode, month: Month?, status: IndexAction.Status?, after: PageCursor?, limit: Int) async throws -> [IndexAction] {
        try await pool.query(
            """
            SELECT \(Self.actionColumns) FROM index.actions
            WHERE centre_code BETWEEN $1 AND $2 AND ($3::text IS NULL OR month = $3) AND ($4::text IS NULL OR status = $4)
              AND ($5::timestamptz IS NULL OR (created_at, id) > ($5, $6))
            ORDER BY created_at, id LIMIT $7
            """,
            [centre.rawValue, centre.lastInSubtree, month?.description, status?.rawValue, after?.time, after?.id, limit]
        ).map(Self.decodeAction)
    }

    func action(_ id: UUID) async throws -> IndexAction? {
        try await pool.query("SELECT \(Self.actionColumns) FROM index.actions WHERE id = $1", [id]).first.map(Self.decodeAction)
    }

    func complete(_ id: UUID, outcome: String, by: String, now: Date) async throws -> IndexAction {
        try await pool.transaction { transaction in
            guard let action = try await transaction.query("SELECT \(Self.actionColumns) FROM index.actions WHERE id = $1 FOR UPDATE", [id]).first.map(Self.decodeAction) else {
                throw IndexStoreError.actionNotOpen(.withdrawn)
            }
            guard action.status == .open else { throw IndexStoreError.actionNotOpen(action.status) }
            return try Self.decodeAction(try await transaction.query(
                "UPDATE index.actions SET status = 'done', outcome = $2, done_by = $3, done_at = $4 WHERE id = $1 RETURNING \(Self.actionColumns)",
                [id, outcome, by, now]
            )[0])
        }
    }

    static let ruleColumns = "centre_code, share_at, remind_below, summon_below, share_days, remind_days, summon_days, share_owner, remind_owner, summon_owner"

    func rule(for centre: DivisionCode) async throws -> ThresholdRule? {
        try await pool.query("SELECT \(Self.ruleColumns) FROM index.threshold_rules WHERE centre_code = $1", [centre.rawValue]).first.map(Self.decodeRule)
    }

    func setRule(_ rule: ThresholdRule, for centre: DivisionCode, by: String, now: Date) async throws {
        try await pool.query(
            """
            INSERT INTO index.threshold_rules (\(Self.ruleColumns), set_by, set_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
            ON CONFLICT (centre_code) DO UPDATE SET share_at = EXCLUDED.share_at, remind_below = EXCLUDED.remind_below,
                summon_below = EXCLUDED.summon_below, share_days = EXCLUDED.share_days, remind_days = EXCLUDED.remind_days,
                summon_days = EXCLUDED.summon_days, share_owner = EXCLUDED.share_owner, remind_owner = EXCLUDED.remind_owner,
                summon_owner = EXCLUDED.summon_owner, set_by = EXCLUDED.set_by, set_at = EXCLUDED.set_at
            """,
            [centre.rawValue, rule.shareAt, rule.remindBelow, rule.summonBelow, rule.shareDays, rule.remindDays, rule.summonDays,
             rule.shareOwner, rule.remindOwner, rule.summonOwner, by, now]
        )
    }

    func loadSurvey(_ month: Month, _ results: [SurveyResult], by: String, now: Date) async throws {
        try await pool.transaction { transaction in
            for result in results {
                try await transaction.query(
                    """
                    INSERT INTO index.surveys (month, code, respondents, satisfied, loaded_by, loaded_at) VALUES ($1, $2, $3, $4, $5, $6)
                    ON CONFLICT (month, code) DO UPDATE SET respondents = EXCLUDED.respondents, satisfied = EXCLUDED.satisfied,
                        loaded_by = EXCLUDED.loaded_by, loaded_at = EXCLUDED.loaded_at
                    """,
                    [month.description, result.code.rawValue, result.respondents, result.satisfied, by, now]
                )
            }
        }
    }

    func survey(_ month: Month) async throws -> [String: FactSheet] {
        var facts: [String: FactSheet] = [:]
        for row in try await pool.query("SELECT code, respondents, satisfied FROM index.surveys WHERE month = $1", [month.description]) {
            let code = try row.decode(String.self, at: 0)
            facts[code, default: FactSheet()]["survey_respondents"] = Double(try row.decode(Int.self, at: 1))
            facts[code, default: FactSheet()]["survey_satisfied"] = Double(try row.decode(Int.self, at: 2))
        }
        return facts
    }

    func name(of code: DivisionCode, in month: Month) async throws -> String? {
        try await pool.query("SELECT name FROM index.scores WHERE month = $1 AND code = $2 ORDER BY version DESC LIMIT 1", [month.description, code.rawValue])
            .first?.decode(String.self, at: 0)
    }

    func frozenScores(of parent: DivisionCode, year: Int) async throws -> [(code: String, name: String, scores: [Double])] {
        try await pool.query(
            """
            WITH current AS (
                SELECT month, max(version) AS version FROM index.months
                WHERE month LIKE $2 || '-%' GROUP BY month
            )
            SELECT s.code, min(s.name), coalesce(array_agg(s.score::text ORDER BY s.month) FILTER (WHERE s.enough_data), '{}')
            FROM index.scores s
            JOIN current c ON c.month = s.month AND c.version = s.version
            JOIN index.months m ON m.month = s.month AND m.version = s.version AND m.status = 'frozen'
            WHERE s.parent_code = $1
            GROUP BY s.code ORDER BY s.code
            """,
            [parent.rawValue, String(format: "%04d", year)]
        ).map { (try $0.decode(String.self, at: 0), try $0.decode(String.self, at: 1), try $0.decode([String].self, at: 2).compactMap(Double.init)) }
    }

    static func decodeVersion(_ row: PostgresRow) throws -> MonthVersion {
        MonthVersion(
            month: Month(parsing: try row.decode(String.self, at: 0)) ?? Month(year: 2000, month: 1),
            version: try row.decode(Int.self, at: 1),
            status: MonthVersion.Status(rawValue: try row.decode(String.self, at: 2)) ?? .provisional,
            catalogueVersion: try row.decode(String.self, at: 3), computedAt: try row.decode(Date.self, at: 4),
            computedBy: try row.decode(String.self, at: 5), reason: try row.decode(String.self, at: 6)
        )
    }

    static func decodeAction(_ row: PostgresRow) throws -> IndexAction {
        IndexAction(
            id: try row.decode(UUID.self, at: 0), month: try row.decode(String.self, at: 1),
            division: try row.decode(String.self, at: 2), divisionName: try row.decode(String.self, at: 3),
            centre: try DivisionCode(validating: try row.decode(String.self, at: 4)),
            kind: ThresholdRule.Kind(rawValue: try row.decode(String.self, at: 5)) ?? .reminderTalk,
            owner: try row.decode(String.self, at: 6), dueOn: Day(parsing: try row.decode(String.self, at: 7)) ?? Day(ordinal: 0),
            score: try row.decode(Double.self, at: 8), status: IndexAction.Status(rawValue: try row.decode(String.self, at: 9)) ?? .open,
            outcome: try row.decode(String?.self, at: 10), doneBy: try row.decode(String?.self, at: 11),
            doneAt: try row.decode(Date?.self, at: 12), createdAt: try row.decode(Date.self, at: 13)
        )
    }

    static func decodeRule(_ row: PostgresRow) throws -> ThresholdRule {
        ThresholdRule(
            shareAt: try row.decode(Double.self, at: 1), remindBelow: try row.decode(Double.self, at: 2),
            summonBelow: try row.decode(Double.self, at: 3), shareDays: try row.decode(Int.self, at: 4),
            remindDays: try row.decode(Int.self, at: 5), summonDays: try row.decode(Int.self, at: 6),
            shareOwner: try row.decode(String.self, at: 7), remindOwner: try row.decode(String.self, at: 8),
            summonOwner: try row.decode(String.self, at: 9)
        )
    }
}

/// The index's events: notices for notify-service.
enum IndexEvents {
    static let notice = "index.notice"
    static let actionNotice = "index.action"
    static let publishedNotice = "index.published"
}
