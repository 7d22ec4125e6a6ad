import Foundation
@testable import IndexService
import PinganDomain
import PinganOutbox
import PinganPostgres
import PinganTestSupport
import Testing

/// The month's computation is written for speed (issue 26: the city's 2,447 centres): facts
/// summed as a table, rank intervals drawn over flat tables on every core, the indicators'
/// JSON written byte by byte, the actions stored set by set. Each must give what the plain
/// version gave, to the bit: the plain versions are kept here and compared on generated months.
@Suite("index: the fast paths give the plain results")
struct IndexFastPathTests {
    let catalogue: IndicatorCatalogue

    init() throws {
        catalogue = try IndexApp.bundledCatalogue()
    }

    /// A month's facts for one unit, each fact present or not, sometimes too few to measure.
    static func facts(_ random: inout SplitMix64) -> FactSheet {
        var sheet = FactSheet()
        for name in FactName.all.sorted() where random.unit() < 0.8 {
            sheet[name] = Double(Int(random.unit() * (random.unit() < 0.2 ? 3 : 400)))
        }
        sheet["grid_days"] = max(sheet["grid_days"], sheet["grid_days_screened"])
        return sheet
    }

    @Test func rankIntervalsAreThePlainOnes() {
        var random = SplitMix64(seed: "families")
        for size in [2, 3, 5, 17, 40, 64, 65, 130] {
            var units = (0..<size).map { at in (code: String(format: "4307252%05d", (at * 7919) % 100_000), facts: Self.facts(&random)) }
            // Two units with the same facts tie in every draw: the lower code goes first.
            units[size - 1].facts = units[0].facts
            let seed = "2026.12-1|2026-10|\(size)"
            let fast = RankIntervals(catalogue: catalogue, seed: seed).intervals(for: units)
            let plain = Self.plainIntervals(catalogue, seed: seed, units)
            #expect(fast.map(\.low) == plain.map(\.low) && fast.map(\.high) == plain.map(\.high), "\(size) units")
        }
    }

    @Test func theMonthIsScoredAsTheSheetsScoredIt() throws {
        var random = SplitMix64(seed: "tree")
        var divisions = [(code: try DivisionCode(validating: "430725000000"), name: "澧县")]
        var villageFacts: [String: FactSheet] = [:]
        for township in 1...4 {
            let town = String(format: "430725%03d000", 100 + township)
            divisions.append((try DivisionCode(validating: town), "镇\(township)"))
            for village in 1...(township == 4 ? 70 : 12) {
                let code = String(format: "430725%03d%03d", 100 + township, 200 + village)
                if village % 9 != 0 { divisions.append((try DivisionCode(validating: code), "村\(village)")) }
                if village % 5 != 0 { villageFacts[code] = Self.facts(&random) }
            }
        }
        // A survey of a township, a village under a township that is not listed, a bad code.
        villageFacts["430725102000"] = FactSheet(values: ["survey_respondents": 40, "survey_satisfied": 31])
        villageFacts["430725199201"] = Self.facts(&random)
        villageFacts["4307251992"] = Self.facts(&random)
        let index = GovernanceIndex(catalogue: catalogue)
        let fast = index.compute(divisions: divisions, villageFacts: villageFacts, seed: "2026.12-1|2026-10")
        let plain = Self.plainCompute(index, divisions: divisions, villageFacts: villageFacts, seed: "2026.12-1|2026-10")
        let first = fast.indices.first { $0 >= plain.count || fast[$0] != plain[$0] }
        #expect(fast.count == plain.count && first == nil, "first difference: \(first.map { "\(fast[$0].code): \(fast[$0].score) \(fast[$0].rankLow)–\(fast[$0].rankHigh) against \(plain[$0].score) \(plain[$0].rankLow)–\(plain[$0].rankHigh)" } ?? "none")")
        #expect(fast.contains { $0.rankHigh > $0.rankLow })
    }

    /// The handler writes a month family by family as the intervals are drawn: together the
    /// families are the month computed whole, each family one parent's children.
    @Test func theFamiliesAsDrawnAreTheMonthComputedWhole() async throws {
        var random = SplitMix64(seed: "families drawn")
        var divisions = [(code: try DivisionCode(validating: "430725000000"), name: "澧县")]
        var villageFacts: [String: FactSheet] = [:]
        for township in 1...6 {
            let town = String(format: "430725%03d000", 100 + township)
            divisions.append((try DivisionCode(validating: town), "镇\(township)"))
            for village in 1...(8 * township) {
                let code = String(format: "430725%03d%03d", 100 + township, 200 + village)
                divisions.append((try DivisionCode(validating: code), "村\(village)"))
                villageFacts[code] = Self.facts(&random)
            }
        }
        let index = GovernanceIndex(catalogue: catalogue)
        let seed = "2026.12-1|2026-10"
        let whole = index.compute(divisions: divisions, villageFacts: villageFacts, seed: seed)
        var families: [[GovernanceIndex.Scored]] = []
        for try await family in index.finishedFamilies(of: index.rank(divisions: divisions, villageFacts: villageFacts), seed: seed) {
            families.append(family)
        }
        // The county's own family (itself), the county's townships, and each township's villages.
        #expect(families.count == 8)
        #expect(families.allSatisfy { family in family.allSatisfy { $0.parent == family[0].parent } })
        #expect(families.flatMap { $0 }.sorted { $0.code < $1.code } == whole.sorted { $0.code < $1.code })
        #expect(whole.contains { $0.rankHigh > $0.rankLow })
    }

    /// Scores that fail on their way (a family that cannot be drawn) leave no version and no
    /// score of the month, and the month is published whole the next time.
    @Test func aMonthWhoseScoresFailOnTheWayLeavesNothing() async throws {
        struct DrawFailed: Error {}
        try await withMonthStore { pool, store in
            let month = Month(year: 2026, month: 10)
            let publication = Publication(
                month: month, catalogueVersion: "test", status: .provisional, computedBy: "user:test",
                reason: "", mayRecomputeFrozen: false, now: try #require(ISO8601DateFormatter().date(from: "2026-10-20T02:00:00Z"))
            )
            let scored = ["430723102201", "430723102202"].map { village in
                GovernanceIndex.Scored(code: village, name: "村", parent: Place.townA, score: 80, enoughData: true, indicators: [])
            }
            await #expect(throws: DrawFailed.self) {
                try await store.publish(publication, scores: AsyncThrowingStream { families in
                    families.yield([scored[0]])
                    families.finish(throwing: DrawFailed())
                })
            }
            func count(_ table: String) async throws -> Int? {
                try await pool.query("SELECT count(*) FROM index.\(table) WHERE month = '2026-10'").first?.decode(Int.self, at: 0)
            }
            #expect(try await count("months") == 0)
            #expect(try await count("scores") == 0)
            #expect(try await store.publish(publication, scored: scored).version == 1)
            #expect(try await count("scores") == 2)
        }
    }

    @Test func indicatorsAreWrittenAsJSONEncoderWritesThem() throws {
        var random = SplitMix64(seed: "json")
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let names = ["每日排查覆盖率", "民转刑（已发生暴力）", "a/b \"quoted\" \\ back", "tab\there\nline\u{1}\u{1F}\u{7F}", "", "é"]
        for round in 0..<300 {
            let values = (0..<(round % 12)).map { at in
                IndicatorValue(
                    indicator: names[(round + at) % names.count], name: names[(round + at + 1) % names.count],
                    category: names[(round + at + 2) % names.count], weight: [0, 10, 7.5, 15, 1e-5][at % 5],
                    enoughData: random.unit() < 0.5,
                    value: [0, GovernanceIndex.rounded(random.unit() * 3, 4), random.unit(), 123_456_789.125, 1e21, -0.25][(round + at) % 6],
                    normalised: GovernanceIndex.rounded(random.unit(), 4), points: GovernanceIndex.rounded(random.unit() * 20, 2)
                )
            }
            // Member by member as JSONEncoder writes each one, in jsonb's order of keys.
            let objects = try values.map { value in
                let members = try ["name", "value", "points", "weight", "category", "indicator", "enoughData", "normalised"].compactMap { key in
                    try Self.member(key, of: value, encoder)
                }
                return "{" + members.joined(separator: ",") + "}"
            }
            let written = try IndexRows.indicatorsJSON(values)
            #expect(written.text == "[" + objects.joined(separator: ",") + "]")
            // The same members as JSONEncoder writes for the whole value.
            let whole = try #require(try JSONSerialization.jsonObject(with: try encoder.encode(values.map(StoredIndicatorValue.init))) as? NSArray)
            #expect(try #require(try JSONSerialization.jsonObject(with: Data(written.text.utf8)) as? NSArray) == whole)
            #expect(try IndexRows.decodeIndicators(written) == values)
        }
    }

    /// One member of `value` as JSONEncoder writes it (`"key":value`), or nil when the stored
    /// form leaves it out.
    static func member(_ key: String, of value: IndicatorValue, _ encoder: JSONEncoder) throws -> String? {
        let object = try encoder.encode([value].map(StoredIndicatorValue.init))
        guard let text = String(data: object, encoding: .utf8), let start = text.range(of: "\"\(key)\":") else { return nil }
        // With sorted keys, the member runs to the next `,"` that starts a key, or to the end.
        let rest = text[start.lowerBound...].dropLast(2)
        var end = rest.endIndex
        var inString = false, escaped = false, index = rest.index(rest.startIndex, offsetBy: key.count + 3)
        while index < rest.endIndex {
            let character = rest[index]
            if escaped { escaped = false } else if character == "\\" { escaped = true } else if character == "\"" { inString.toggle() } else if character == ",", !inString {
                end = index
                break
            }
            index = rest.index(after: index)
        }
        return String(rest[..<end])
    }

    /// A recomputed frozen month withdraws the open actions its scores no longer call for and
    /// creates the new ones, all in the month's transaction, each new one announced.
    @Test func aRecomputedFrozenMonthWithdrawsAndCreatesItsActions() async throws {
        try await withMonthStore { pool, store in
            let month = Month(year: 2026, month: 10)
            func unit(_ village: String, _ score: Double) -> GovernanceIndex.Scored {
                GovernanceIndex.Scored(code: village, name: "村'\(village.suffix(3))\"", parent: Place.townA, score: score, enoughData: true, indicators: [])
            }
            func publish(_ scored: [GovernanceIndex.Scored], reason: String) async throws -> MonthVersion {
                try await store.publish(
                    Publication(
                        month: month, catalogueVersion: "test", status: .frozen, computedBy: "user:test",
                        reason: reason, mayRecomputeFrozen: true, now: try #require(ISO8601DateFormatter().date(from: "2026-11-02T02:00:00Z"))
                    ),
                    scored: scored
                )
            }
            let (a, b, c) = ("430723102201", "430723102202", "430723102203")
            #expect(try await publish([unit(a, 98.5), unit(b, 70), unit(c, 85)], reason: "").version == 1)
            func actions() async throws -> [String] {
                try await pool.query("SELECT division_code || ' ' || kind || ' ' || status || ' ' || score || ' ' || due_on || ' ' || version || ' ' || division_name FROM index.actions ORDER BY 1")
                    .map { try $0.decode(String.self, at: 0) }
            }
            #expect(try await actions() == [
                "\(a) share_experience open 98.5 2026-12-02 1 村'201\"", "\(b) reminder_talk open 70 2026-11-17 1 村'202\"",
            ])
            // Now b is summoned instead of talked to, c is talked to, and a stays.
            #expect(try await publish([unit(a, 99), unit(b, 55.25), unit(c, 79.99)], reason: "补录").version == 2)
            #expect(try await actions() == [
                "\(a) share_experience open 98.5 2026-12-02 1 村'201\"", "\(b) reminder_talk withdrawn 70 2026-11-17 1 村'202\"",
                "\(b) summons open 55.25 2026-11-09 2 村'202\"", "\(c) reminder_talk open 79.99 2026-11-17 2 村'203\"",
            ])
            let notices = try await pool.query("SELECT count(*) FROM index.outbox").first?.decode(Int.self, at: 0)
            // Four actions and no county among the units, so no published notices.
            #expect(notices == 4)
        }
    }

    /// A month's scores keep their indicators as `json` (migration 5), `indicators` taking
    /// '[]' for the previous release to read; a score an earlier release wrote, its indicators
    /// in the jsonb column, reads back as it was written.
    @Test func indicatorsAreStoredAsJSONAndEarlierScoresStillRead() async throws {
        try await withMonthStore { pool, store in
            let month = Month(year: 2026, month: 10)
            func indicators(_ at: Int) -> [IndicatorValue] {
                [
                    IndicatorValue(indicator: "screening_coverage", name: "每日排查覆盖率", category: "基础", weight: 10, enoughData: true,
                                   value: 0.75 + Double(at) / 100, normalised: 0.5, points: 5.25),
                    IndicatorValue(indicator: "violence_free", name: "民转刑 \"零\"", category: "平安", weight: 7.5, enoughData: false,
                                   value: 0, normalised: 0, points: 0),
                ]
            }
            let (a, b) = ("430723102201", "430723102202")
            let scored = [a, b].enumerated().map { at, village in
                GovernanceIndex.Scored(code: village, name: "村\(at)", parent: Place.townA, score: 80 - Double(at), enoughData: true, indicators: indicators(at))
            }
            _ = try await store.publish(
                Publication(
                    month: month, catalogueVersion: "test", status: .provisional, computedBy: "user:test",
                    reason: "", mayRecomputeFrozen: false, now: try #require(ISO8601DateFormatter().date(from: "2026-10-20T02:00:00Z"))
                ),
                scored: scored
            )
            let stored = try await pool.query("SELECT indicators::text, indicators_json IS NOT NULL FROM index.scores ORDER BY code")
                .map { "\(try $0.decode(String.self, at: 0)) \(try $0.decode(Bool.self, at: 1))" }
            #expect(stored == ["[] true", "[] true"])
            #expect(try await store.ranking(of: try DivisionCode(validating: Place.townA), in: month).scores.map(\.indicators) == [indicators(0), indicators(1)])
            // b as the release before migration 5 wrote it: the indicators in jsonb only.
            try await pool.query("UPDATE index.scores SET indicators = indicators_json::jsonb, indicators_json = NULL WHERE code = $1", [b])
            #expect(try await store.ranking(of: try DivisionCode(validating: Place.townA), in: month).scores.map(\.indicators) == [indicators(0), indicators(1)])
        }
    }

    /// A fresh database migrated by index-service, and its month store on a pool of its own.
    /// The city's actions page reads its open actions, and a month's, in order from an index
    /// (no sort of the whole table): with sorting and sequential scans priced out, the plan
    /// for the city's range names each index and sorts nothing.
    @Test func theCitysActionsAreReadInOrderFromAnIndex() async throws {
        try await withMonthStore { pool, _ in
            try await pool.withConnection { connection in
                try await connection.query("SET enable_sort = off")
                try await connection.query("SET enable_seqscan = off")
                try await connection.query("PREPARE listing (text, text, text, text, timestamptz, uuid, integer) AS \(PostgresActionStore.listing)")
                for (arguments, index) in [("NULL, 'open'", "actions_open_order"), ("'2026-10', NULL", "actions_month_order")] {
                    let plan = try await connection.query("EXPLAIN EXECUTE listing ('430700000000', '430799999999', \(arguments), NULL, NULL, 201)")
                    let text = try plan.map { try $0.decode(String.self, at: 0) }.joined(separator: "\n")
                    #expect(text.contains(index), "\(text)")
                    #expect(!text.contains("Sort"), "\(text)")
                }
            }
        }
    }

    private func withMonthStore(_ body: @escaping @Sendable (PostgresPool, PostgresMonthStore) async throws -> Void) async throws {
        try await TestDatabase.with { database in
            let app = try IndexApp.build(settings: IndexSettings(service: try TestMesh.settings(databaseURL: database.url)))
            try await app.test(.router) { _ in
                let pool = database.pool()
                do {
                    try await body(pool, PostgresMonthStore(pool: pool, outbox: Outbox(schema: IndexMigrations.schema)))
                } catch {
                    await pool.close()
                    throw error
                }
                await pool.close()
            }
        }
    }

    // MARK: The plain versions, as they were before the fast paths

    static func plainIntervals(_ catalogue: IndicatorCatalogue, seed: String, _ units: [(code: String, facts: FactSheet)]) -> [(low: Int, high: Int)] {
        guard units.count > 1 else { return units.map { _ in (1, 1) } }
        let indicators = catalogue.indicators
        let measured = units.map { unit in indicators.map { $0.measure(unit.facts) } }
        let alternative: [[Double]] = indicators.indices.map { column in
            let values = measured.compactMap { $0[column].enough ? $0[column].value : nil }
            let low = values.min() ?? 0
            let high = values.max() ?? 0
            return measured.map { row in
                guard row[column].enough else { return 0 }
                guard high > low else { return indicators[column].normalise(row[column].value) }
                let share = (row[column].value - low) / (high - low)
                return indicators[column].direction == .positive ? share : 1 - share
            }
        }
        let catalogued = measured.map { row in zip(indicators, row).map { $1.enough ? $0.normalise($1.value) : 0 } }
        var generator = SplitMix64(seed: seed)
        var ranks = Array(repeating: [Int](), count: units.count)
        for _ in 0..<catalogue.monteCarloDraws {
            let weights = indicators.map { indicator in
                indicator.weight * (1 + indicator.weightUncertainty * (2 * generator.unit() - 1))
            }
            let minMax = generator.unit() < 0.5
            let total = weights.reduce(0, +)
            let scores = units.indices.map { unit -> Double in
                var sum = 0.0
                var withData = 0.0
                for column in indicators.indices where measured[unit][column].enough {
                    sum += weights[column] * (minMax ? alternative[column][unit] : catalogued[unit][column])
                    withData += weights[column]
                }
                return withData > 0 && withData >= catalogue.minimumWeightShare * total ? sum / withData : -1
            }
            let ranked = units.indices.sorted { scores[$0] != scores[$1] ? scores[$0] > scores[$1] : units[$0].code < units[$1].code }
            for (position, unit) in ranked.enumerated() { ranks[unit].append(position + 1) }
        }
        return ranks.map { drawn in
            let sorted = drawn.sorted()
            let last = Double(sorted.count - 1)
            return (sorted[Int((0.05 * last).rounded(.down))], sorted[Int((0.95 * last).rounded(.up))])
        }
    }

    static func plainCompute(
        _ index: GovernanceIndex, divisions: [(code: DivisionCode, name: String)], villageFacts: [String: FactSheet], seed: String
    ) -> [GovernanceIndex.Scored] {
        var totals: [String: FactSheet] = [:]
        for (village, facts) in villageFacts {
            guard var code = try? DivisionCode(validating: village) else { continue }
            while true {
                totals[code.rawValue, default: FactSheet()] = totals[code.rawValue, default: FactSheet()] + facts
                guard let parent = code.parent else { break }
                code = parent
            }
        }
        var scored = divisions.map { division in
            let result = index.score(totals[division.code.rawValue] ?? FactSheet())
            return GovernanceIndex.Scored(
                code: division.code.rawValue, name: division.name, parent: division.code.parent?.rawValue,
                score: result.score, enoughData: result.enoughData, indicators: result.indicators
            )
        }
        let groups = Dictionary(grouping: scored.indices, by: { scored[$0].parent ?? "" })
        for (parent, indices) in groups {
            let ranked = indices.filter { scored[$0].enoughData }.sorted { GovernanceIndex.before(scored[$0], scored[$1]) }
            for (position, index) in ranked.enumerated() { scored[index].rank = position + 1 }
            let intervals = plainIntervals(index.catalogue, seed: "\(seed)|\(parent)", ranked.map { (scored[$0].code, totals[scored[$0].code] ?? FactSheet()) })
            for (index, interval) in zip(ranked, intervals) {
                scored[index].rankLow = interval.low
                scored[index].rankHigh = interval.high
            }
        }
        return scored
    }
}
