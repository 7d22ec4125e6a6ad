import Foundation
import PinganPostgres
import PinganTestSupport
import Testing

@Suite("libpq types round-trip")
struct TypeRoundTripTests {
    /// Binds `value` as a parameter, stores it in a column of `sqlType`, reads it back.
    private func roundTrip<T: PostgresEncodable & PostgresDecodable>(
        _ pool: PostgresPool, _ value: T, as sqlType: String
    ) async throws -> T {
        try await pool.withConnection { connection in
            try await connection.query("CREATE TEMP TABLE IF NOT EXISTS cell_\(sqlType.filter(\.isLetter)) (v \(sqlType))")
            try await connection.query("DELETE FROM cell_\(sqlType.filter(\.isLetter))")
            try await connection.query("INSERT INTO cell_\(sqlType.filter(\.isLetter)) (v) VALUES ($1)", [value])
            let rows = try await connection.query("SELECT v FROM cell_\(sqlType.filter(\.isLetter))")
            #expect(rows.count == 1)
            return try rows[0].decode(T.self, at: 0)
        }
    }

    @Test func integers() async throws {
        try await TestDatabase.with { database in
            let pool = database.pool()
            for value in [0, 1, -1, Int.max, Int.min, 4_307_000_000_00, -987_654_321] {
                do { let got = try await roundTrip(pool, value, as: "bigint"); #expect(got == value) }
            }
            for value: Int32 in [.max, .min, 0, -5] {
                do { let got = try await roundTrip(pool, value, as: "integer"); #expect(got == value) }
            }
            // An int4 column decodes into Int as well.
            let rows = try await pool.query("SELECT 2147483647::int4 AS a, (-32768)::int2 AS b")
            #expect(try rows[0].decode("a", as: Int.self) == 2_147_483_647)
            #expect(try rows[0].decode("b", as: Int.self) == -32768)
            await pool.close()
        }
    }

    @Test func text() async throws {
        try await TestDatabase.with { database in
            let pool = database.pool()
            let values = ["", "常德市武陵区府坪街道", "tab\there", "line\nbreak", "quote\"back\\slash", "emoji 🏮", String(repeating: "长", count: 10_000)]
            for value in values {
                do { let got = try await roundTrip(pool, value, as: "text"); #expect(got == value) }
            }
            await pool.close()
        }
    }

    @Test func nulls() async throws {
        try await TestDatabase.with { database in
            let pool = database.pool()
            do { let got = try await roundTrip(pool, String?.none, as: "text"); #expect(got == nil) }
            do { let got = try await roundTrip(pool, Int?.none, as: "bigint"); #expect(got == nil) }
            do { let got = try await roundTrip(pool, Date?.none, as: "timestamptz"); #expect(got == nil) }
            do { let got = try await roundTrip(pool, String?.some(""), as: "text"); #expect(got == "") }
            // A NULL is refused by a non-optional decode, with a message naming the column.
            let rows = try await pool.query("SELECT NULL::text AS missing")
            #expect(throws: PostgresError.self) { try rows[0].decode("missing", as: String.self) }
            await pool.close()
        }
    }

    @Test func booleansAndDoubles() async throws {
        try await TestDatabase.with { database in
            let pool = database.pool()
            do { let got = try await roundTrip(pool, true, as: "boolean"); #expect(got == true) }
            do { let got = try await roundTrip(pool, false, as: "boolean"); #expect(got == false) }
            for value in [0.0, -0.5, 3.141592653589793, 1e-300, -1.7976931348623157e308, .infinity, -.infinity] {
                do { let got = try await roundTrip(pool, value, as: "double precision"); #expect(got == value) }
            }
            do { let got = try await roundTrip(pool, Double.nan, as: "double precision").isNaN; #expect(got) }
            await pool.close()
        }
    }

    @Test func timestamps() async throws {
        try await TestDatabase.with { database in
            let pool = database.pool()
            let dates = [
                Date(timeIntervalSince1970: 0),
                Date(timeIntervalSince1970: 1_795_000_000.123456),  // 2026, with microseconds
                Date(timeIntervalSince1970: -1_000_000_000.5),  // 1938, before PostgreSQL's epoch
                Date(timeIntervalSince1970: 946_684_800),  // exactly 2000-01-01
            ]
            for date in dates {
                let back = try await roundTrip(pool, date, as: "timestamptz")
                #expect(abs(back.timeIntervalSince1970 - date.timeIntervalSince1970) < 0.000_001)
            }
            // The server reads the value as the same instant.
            let rows = try await pool.query("SELECT extract(epoch FROM $1::timestamptz)::float8", [Date(timeIntervalSince1970: 1_700_000_000)])
            #expect(try rows[0].decode(Double.self, at: 0) == 1_700_000_000)
            await pool.close()
        }
    }

    @Test func uuidsJSONAndBytes() async throws {
        try await TestDatabase.with { database in
            let pool = database.pool()
            let id = UUID()
            do { let got = try await roundTrip(pool, id, as: "uuid"); #expect(got == id) }
            let json = PostgresJSON(#"{"名称": "澧县", "levels": [1, 2], "ok": true}"#)
            let back = try await roundTrip(pool, json, as: "jsonb")
            let decoded = try JSONSerialization.jsonObject(with: Data(back.text.utf8)) as? [String: Any]
            #expect(decoded?["名称"] as? String == "澧县")
            #expect(decoded?["levels"] as? [Int] == [1, 2])
            let bytes = Data([0, 1, 2, 254, 255])
            do { let got = try await roundTrip(pool, bytes, as: "bytea"); #expect(got == bytes) }
            await pool.close()
        }
    }

    @Test func textArrays() async throws {
        try await TestDatabase.with { database in
            let pool = database.pool()
            let values: [[String]] = [
                [], [""], ["a", "b"], ["NULL", "null"], ["comma,here", "{brace}", "quote\"", "back\\slash", " spaced "],
                ["民警", "司法所", "心理咨询师"],
            ]
            for value in values {
                do { let got = try await roundTrip(pool, value, as: "text[]"); #expect(got == value) }
            }
            // Server-side array functions see the elements one by one.
            let rows = try await pool.query("SELECT cardinality($1::text[])", [["x", "y,z"]])
            #expect(try rows[0].decode(Int.self, at: 0) == 2)
            await pool.close()
        }
    }

    /// A record's children read in the same statement: each record decodes like a row, in the
    /// subquery's order, NULL fields included; no children is no rows.
    @Test func arraysOfRecords() async throws {
        try await TestDatabase.with { database in
            let pool = database.pool()
            try await pool.query("CREATE TABLE rungs (case_id int, seq int, lead text, bodies text[], ended_at timestamptz)")
            try await pool.query(
                """
                INSERT INTO rungs VALUES (1, 2, '调委会', '{司法所,"派出所"}', NULL), (1, 1, '网格员', '{}', '2026-12-07 08:00:00+08'),
                                         (2, 1, 'x', NULL, NULL)
                """
            )
            let sql = """
                SELECT c.id, ARRAY(SELECT ROW(r.seq, r.lead, r.bodies, r.ended_at) FROM rungs r WHERE r.case_id = c.id ORDER BY r.seq) AS rungs
                FROM (VALUES (1), (3)) AS c(id) ORDER BY c.id
                """
            let rows = try await pool.query(sql)
            let first = try rows[0].records(at: 1)
            #expect(first.count == 2)
            #expect(try first.map { try $0.decode(Int.self, at: 0) } == [1, 2])
            #expect(try first[0].decode(String.self, at: 1) == "网格员")
            #expect(try first[0].decode([String].self, at: 2) == [])
            #expect(try first[0].decode(Date?.self, at: 3) == Date(timeIntervalSince1970: 1_796_601_600))
            #expect(try first[1].decode([String].self, at: 2) == ["司法所", "派出所"])
            #expect(try first[1].decode(Date?.self, at: 3) == nil)
            #expect(try rows[1].records(at: 1).isEmpty)
            // A NULL field decodes only into an Optional, and the error names the field.
            let lone = try await pool.query("SELECT ARRAY(SELECT ROW(r.lead, r.bodies) FROM rungs r WHERE r.case_id = 2) AS rungs")
            #expect { try lone[0].records(at: 0)[0].decode([String].self, at: 1) } throws: { error in
                (error as? PostgresError)?.code == .decoding && "\(error)".contains("rungs.2")
            }
            // Only an array of records is read as records.
            #expect { try rows[0].records(at: 0) } throws: { error in (error as? PostgresError)?.code == .decoding }
            await pool.close()
        }
    }

    @Test func wrongTypeIsADecodingError() async throws {
        try await TestDatabase.with { database in
            let pool = database.pool()
            let rows = try await pool.query("SELECT 'text'::text AS t, 5::int8 AS n")
            #expect { try rows[0].decode("t", as: Int.self) } throws: { error in
                (error as? PostgresError)?.code == .decoding
            }
            #expect { try rows[0].decode("n", as: Bool.self) } throws: { error in
                (error as? PostgresError)?.code == .decoding
            }
            #expect { try rows[0].decode("nope", as: Int.self) } throws: { error in
                (error as? PostgresError)?.code == .decoding
            }
            await pool.close()
        }
    }

    @Test func nulCharacterIsRefusedNotTruncated() async throws {
        try await TestDatabase.with { database in
            let pool = database.pool()
            await #expect { try await pool.query("SELECT $1::text", ["before\u{0}after"]) } throws: { error in
                (error as? PostgresError)?.code == .invalidParameter
            }
            await pool.close()
        }
    }
}
