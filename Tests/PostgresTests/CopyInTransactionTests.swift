import Foundation
import PinganPostgres
import PinganTestSupport
import Testing

/// `copy(into:columns:rows:)` as a bulk import uses it: inside a transaction, into a temporary
/// staging table, rolled back whole when anything in the transaction fails.
@Suite("COPY inside a transaction")
struct CopyInTransactionTests {
    @Test func aStagedCopyCommitsWithItsTransactionAndRollsBackWithIt() async throws {
        try await TestDatabase.with { database in
            let pool = database.pool(maxConnections: 1)
            try await pool.query("CREATE TABLE target (key text PRIMARY KEY, amount integer NOT NULL CHECK (amount >= 0))")
            func load(_ rows: [[any PostgresEncodable]], failAfter: Bool = false) async throws -> Int {
                try await pool.transaction { transaction in
                    // BEGIN is still queued here: the COPY must send it first.
                    try await transaction.queue("CREATE TEMP TABLE staging (key text, amount integer) ON COMMIT DROP")
                    try await transaction.copy(into: "staging", columns: ["key", "amount"], rows: rows)
                    let inserted = try await transaction.query("INSERT INTO target SELECT key, amount FROM staging ON CONFLICT (key) DO NOTHING").affectedRows
                    if failAfter { throw CancellationError() }
                    return inserted
                }
            }
            #expect(try await load([["a", 1], ["b", 2]]) == 2)
            // Again with one new row: the old ones are skipped, and the staging table of the
            // first transaction is gone (ON COMMIT DROP), so the name is free.
            #expect(try await load([["a", 1], ["b", 2], ["c", 3]]) == 1)
            // A row the target refuses fails the INSERT; nothing of the batch stays.
            await #expect(throws: PostgresError.self) { try await load([["d", 4], ["e", -1]]) }
            // A batch whose caller gives up after the COPY leaves nothing either.
            await #expect(throws: CancellationError.self) { try await load([["f", 6]], failAfter: true) }
            // A value COPY itself cannot read (not an integer) fails the COPY, and the one
            // connection of the pool is idle and usable afterwards.
            await #expect(throws: PostgresError.self) { try await load([["g", "seven"]]) }
            let keys = try await pool.query("SELECT key FROM target ORDER BY key").map { try $0.decode(String.self, at: 0) }
            #expect(keys == ["a", "b", "c"])
            await pool.close()
        }
    }
}
