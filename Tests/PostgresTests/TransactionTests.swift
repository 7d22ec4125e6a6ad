import Foundation
import PinganPostgres
import PinganTestSupport
import Testing

struct Boom: Error {}

@Suite("transactions, errors and COPY")
struct TransactionTests {
    @Test func throwingBodyLeavesNothingBehind() async throws {
        try await TestDatabase.with { database in
            let pool = database.pool()
            try await pool.query("CREATE TABLE t (id bigint PRIMARY KEY, name text)")
            await #expect(throws: Boom.self) {
                try await pool.transaction { tx in
                    try await tx.query("INSERT INTO t VALUES (1, 'a')")
                    try await tx.query("INSERT INTO t VALUES (2, 'b')")
                    throw Boom()
                }
            }
            do { let got = try await pool.query("SELECT count(*) FROM t")[0].decode(Int.self, at: 0); #expect(got == 0) }
            // A committed transaction keeps its rows, and the connection is reusable after a rollback.
            _ = try await pool.transaction { tx in try await tx.query("INSERT INTO t VALUES (3, 'c')") }
            do { let got = try await pool.query("SELECT name FROM t")[0].decode(String.self, at: 0); #expect(got == "c") }
            await pool.close()
        }
    }

    /// A failed step behind a savepoint rolls back alone; a failure caught without one leaves
    /// the transaction aborted, and committing it throws instead of reporting success for
    /// rows PostgreSQL threw away.
    @Test func savepointsRollBackOneStepAndAnAbortedTransactionDoesNotCommitSilently() async throws {
        try await TestDatabase.with { database in
            let pool = database.pool()
            try await pool.query("CREATE TABLE t (id bigint PRIMARY KEY, name text)")
            try await pool.transaction { tx in
                try await tx.savepoint(first: [("INSERT INTO t VALUES ($1, 'a')", [1])]) { _, rows in #expect(rows[0].affectedRows == 1) }
                await #expect(throws: PostgresError.self) {
                    try await tx.savepoint(first: [("INSERT INTO t VALUES ($1, 'b')", [2])]) { step, _ in try await step.query("INSERT INTO t VALUES (1, 'dup')") }
                }
                try await tx.query("INSERT INTO t VALUES (3, 'c')")
            }
            do { let got = try await pool.query("SELECT string_agg(name, ',' ORDER BY id) FROM t")[0].decode(String.self, at: 0); #expect(got == "a,c") }
            do {
                try await pool.transaction { tx in
                    try await tx.query("INSERT INTO t VALUES (4, 'd')")
                    _ = try? await tx.query("INSERT INTO t VALUES (1, 'dup')")
                }
                Issue.record("an aborted transaction reported a commit")
            } catch let error as PostgresError {
                #expect(error.sqlState == .inFailedTransaction)
            }
            do { let got = try await pool.query("SELECT count(*) FROM t")[0].decode(Int.self, at: 0); #expect(got == 2) }
            await pool.close()
        }
    }

    /// A connection plans its statements afresh from time to time (`DEALLOCATE ALL`), at
    /// whichever call comes first once the time is up; here it is up at every call. A failed
    /// transaction refuses that statement, so running it there made `ROLLBACK TO SAVEPOINT`
    /// (or `ROLLBACK`) fail with 25P02 unsent, and the transaction stayed aborted. On a loaded
    /// machine the time ran out between a failing statement and its rollback now and then.
    @Test func planningAfreshNeverGetsInTheWayOfARollback() async throws {
        try await TestDatabase.with { database in
            let pool = database.pool(maxConnections: 1, replanFirstAfter: .zero)
            try await pool.query("CREATE TABLE t (id bigint PRIMARY KEY, name text)")
            let backend = try await pool.query("SELECT pg_backend_pid()")[0].decode(Int.self, at: 0)
            try await pool.transaction { tx in
                try await tx.savepoint(first: [("INSERT INTO t VALUES ($1, 'a')", [1])]) { _, _ in }
                do {
                    _ = try await tx.savepoint(first: [("INSERT INTO t VALUES ($1, 'b')", [2])]) { step, _ in try await step.query("INSERT INTO t VALUES (1, 'dup')") }
                    Issue.record("a duplicate insert succeeded")
                } catch let error as PostgresError {
                    #expect(error.sqlState == .uniqueViolation)
                }
                try await tx.query("INSERT INTO t VALUES (3, 'c')")
            }
            do { let got = try await pool.query("SELECT string_agg(name, ',' ORDER BY id) FROM t")[0].decode(String.self, at: 0); #expect(got == "a,c") }
            // An aborted transaction is rolled back, so its connection stays in the pool.
            await #expect { try await pool.transaction { tx in _ = try? await tx.query("INSERT INTO t VALUES (1, 'dup')") } } throws: { error in
                (error as? PostgresError)?.sqlState == .inFailedTransaction
            }
            #expect(try await pool.query("SELECT pg_backend_pid()")[0].decode(Int.self, at: 0) == backend)
            await pool.close()
        }
    }

    /// A statement prepared before its table changed shape fails with "cached plan must not
    /// change result type": outside a transaction it runs again unprepared; inside one, that
    /// error is the one thrown, not the 25P02 of a retry in the transaction it aborted.
    @Test func aStatementWhoseTableChangedShapeRunsAgainOrFailsWithItsOwnError() async throws {
        try await TestDatabase.with { database in
            let pool = database.pool(maxConnections: 1, replanFirstAfter: .seconds(3600))
            try await pool.query("CREATE TABLE t (id bigint PRIMARY KEY)")
            try await pool.query("INSERT INTO t VALUES (1)")
            try await pool.query("SELECT * FROM t")
            try await pool.query("ALTER TABLE t ADD COLUMN name text")
            #expect(try await pool.query("SELECT * FROM t")[0].decode(Int.self, at: 0) == 1)
            await #expect { try await pool.transaction { tx in
                try await tx.query("SELECT * FROM t")
                try await tx.query("ALTER TABLE t ADD COLUMN note text")
                try await tx.query("SELECT * FROM t")
            } } throws: { error in
                (error as? PostgresError)?.sqlState == .featureNotSupported
            }
            await pool.close()
        }
    }

    /// Several reads in one round trip come back in order; a failing one throws once every
    /// result is read, and the connection is idle and usable afterwards, also inside a
    /// transaction that locks what it reads.
    @Test func pipelinedReadsComeBackInOrderAndAFailureLeavesTheConnectionUsable() async throws {
        try await TestDatabase.with { database in
            let pool = database.pool(maxConnections: 1)
            try await pool.query("CREATE TABLE t (id bigint PRIMARY KEY, name text)")
            try await pool.query("INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'c')")
            let reads = try await pool.withConnection { connection in
                try await connection.pipeline([
                    ("SELECT name FROM t WHERE id = $1", [2]), ("SELECT count(*) FROM t WHERE id > $1", [0]), ("SELECT name FROM t WHERE id = $1", [9]),
                ])
            }
            #expect(try reads[0][0].decode(String.self, at: 0) == "b")
            #expect(try reads[1][0].decode(Int.self, at: 0) == 3)
            #expect(reads[2].isEmpty)
            await #expect(throws: PostgresError.self) {
                try await pool.withConnection { connection in
                    try await connection.pipeline([("SELECT name FROM t WHERE id = $1", [1]), ("SELECT 1 / $1", [0]), ("SELECT $1::text", ["x"])])
                }
            }
            do { let got = try await pool.query("SELECT name FROM t WHERE id = 3")[0].decode(String.self, at: 0); #expect(got == "c") }
            let locked = try await pool.transaction { tx in
                let rows = try await tx.pipeline([("SELECT name FROM t WHERE id = $1 FOR UPDATE", [1]), ("SELECT name FROM t WHERE id = $1", [3])])
                try await tx.query("UPDATE t SET name = 'z' WHERE id = 1")
                return try rows.map { try $0[0].decode(String.self, at: 0) }
            }
            #expect(locked == ["a", "c"])
            do { let got = try await pool.query("SELECT name FROM t WHERE id = 1")[0].decode(String.self, at: 0); #expect(got == "z") }
            await pool.close()
        }
    }

    /// A queued statement costs no round trip of its own: it reaches the server with the
    /// transaction's next statement (and `BEGIN` with the first), so another session sees
    /// neither its lock nor an open transaction until then. A failing one fails the
    /// transaction with its own error and nothing commits; one queued by a body or a step
    /// that throws is never sent.
    @Test func queuedStatementsTravelWithTheNextOneAndFailTheirTransaction() async throws {
        try await TestDatabase.with { database in
            let pool = database.pool(maxConnections: 2)
            try await pool.query("CREATE TABLE t (id bigint PRIMARY KEY, name text)")
            @Sendable func count() async throws -> Int { try await pool.query("SELECT count(*) FROM t")[0].decode(Int.self, at: 0) }
            @Sendable func observed() async throws -> (locks: Int, openTransactions: Int) {
                let row = try await pool.query("""
                    SELECT (SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
                            WHERE c.relname = 't' AND l.mode = 'AccessExclusiveLock'),
                           (SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND state LIKE 'idle in transaction%')
                    """)[0]
                return (try row.decode(Int.self, at: 0), try row.decode(Int.self, at: 1))
            }
            try await pool.transaction { tx in
                try await tx.queue("LOCK TABLE t IN ACCESS EXCLUSIVE MODE")
                try await tx.queue("INSERT INTO t VALUES (1, 'a')")
                let before = try await observed()
                #expect(before.locks == 0 && before.openTransactions == 0)
                #expect(try await tx.query("SELECT count(*) FROM t")[0].decode(Int.self, at: 0) == 1)
                let after = try await observed()
                #expect(after.locks == 1 && after.openTransactions == 1)
                try await tx.queue("INSERT INTO t VALUES (2, 'b')")
            }
            #expect(try await count() == 2)

            for failsAt in ["a later statement", "COMMIT"] {
                do {
                    try await pool.transaction { tx in
                        try await tx.query("INSERT INTO t VALUES (3, 'c')")
                        try await tx.queue("INSERT INTO t VALUES (1, 'dup')")
                        if failsAt == "a later statement" { try await tx.query("SELECT 1") }
                    }
                    Issue.record("a failing queued statement committed (failing at \(failsAt))")
                } catch let error as PostgresError {
                    #expect(error.sqlState == .uniqueViolation)
                }
                #expect(try await count() == 2)
            }

            await #expect(throws: Boom.self) {
                try await pool.transaction { tx in
                    try await tx.queue("INSERT INTO t VALUES (4, 'd')")
                    throw Boom()
                }
            }
            try await pool.transaction { tx in
                await #expect(throws: Boom.self) {
                    try await tx.savepoint(first: []) { step, _ in
                        try await step.queue("INSERT INTO t VALUES (1, 'dup')")
                        throw Boom()
                    }
                }
                try await tx.queue("INSERT INTO t VALUES (5, 'e')")
            }
            // Outside a transaction there is nothing to travel with: it runs at once.
            try await pool.withConnection { connection in try await connection.queue("INSERT INTO t VALUES (6, 'f')") }
            do { let got = try await pool.query("SELECT string_agg(name, ',' ORDER BY id) FROM t")[0].decode(String.self, at: 0); #expect(got == "a,b,e,f") }
            await pool.close()
        }
    }

    /// A statement that fails when it is prepared (an unknown column here) fails like one
    /// that fails when it runs: whatever was queued before it, and `BEGIN`, reach the server
    /// first, in the transaction they were meant for, and the transaction is lost. Statements
    /// used to be prepared before any was sent, so such a failure dropped the queue and
    /// `BEGIN` unsent: the statements after it ran on their own, outside any transaction, and
    /// `COMMIT` reported success.
    @Test func aStatementThatFailsWhenPreparedFailsItsTransaction() async throws {
        try await TestDatabase.with { database in
            let pool = database.pool(maxConnections: 1)
            try await pool.query("CREATE TABLE t (id bigint PRIMARY KEY, name text)")
            let backend = try await pool.query("SELECT pg_backend_pid()")[0].decode(Int.self, at: 0)
            for queuedFirst in [true, false] {
                do {
                    try await pool.transaction { tx in
                        if queuedFirst { try await tx.queue("INSERT INTO t VALUES (1, 'a')") }
                        _ = try? await tx.query("SELECT no_such_column FROM t")
                        try await tx.query("INSERT INTO t VALUES (2, 'b')")
                    }
                    Issue.record("a transaction whose statement failed when prepared committed (queued first: \(queuedFirst))")
                } catch let error as PostgresError {
                    #expect(error.sqlState == .inFailedTransaction)
                }
                #expect(try await pool.query("SELECT count(*) FROM t")[0].decode(Int.self, at: 0) == 0)
            }
            // Uncaught, it is the statement's own error the transaction throws.
            await #expect { try await pool.transaction { tx in
                try await tx.queue("INSERT INTO t VALUES (1, 'a')")
                try await tx.pipeline([("SELECT name FROM t WHERE id = $1", [1]), ("SELECT no_such_column FROM t WHERE id = $1", [1])])
            } } throws: { error in
                (error as? PostgresError)?.sqlState == SQLState(rawValue: "42703")
            }
            // Sent in order, a statement new to the connection sees what was queued before it.
            try await pool.transaction { tx in
                try await tx.queue("CREATE TABLE u (id bigint)")
                try await tx.queue("INSERT INTO u VALUES (7)")
                #expect(try await tx.query("SELECT id FROM u")[0].decode(Int.self, at: 0) == 7)
            }
            // The connection is idle and usable afterwards, and nothing of the failed ones committed.
            _ = try await pool.transaction { tx in try await tx.query("INSERT INTO t VALUES (3, 'c')") }
            do { let got = try await pool.query("SELECT string_agg(name, ',' ORDER BY id) FROM t")[0].decode(String.self, at: 0); #expect(got == "c") }
            #expect(try await pool.query("SELECT pg_backend_pid()")[0].decode(Int.self, at: 0) == backend)
            await pool.close()
        }
    }

    /// A step whose first statement fails when it is prepared throws that statement's error
    /// and rolls back alone, whether the transaction had sent something before it or only
    /// queued it: its `SAVEPOINT` used to stay unsent, so the rollback found no savepoint
    /// (or, with nothing sent yet, no transaction) and failed instead.
    @Test func aStepWhoseFirstStatementFailsWhenPreparedRollsBackAlone() async throws {
        try await TestDatabase.with { database in
            let pool = database.pool(maxConnections: 1)
            try await pool.query("CREATE TABLE t (id bigint PRIMARY KEY, name text)")
            for queuedBefore in [false, true] {
                try await pool.query("TRUNCATE t")
                try await pool.transaction { tx in
                    if queuedBefore {
                        try await tx.queue("INSERT INTO t VALUES (1, 'a')")
                    } else {
                        try await tx.query("INSERT INTO t VALUES (1, 'a')")
                    }
                    do {
                        _ = try await tx.savepoint(first: [("SELECT no_such_column FROM t WHERE id = $1", [1])]) { step, _ in
                            try await step.query("INSERT INTO t VALUES (2, 'b')")
                        }
                        Issue.record("a step whose statement cannot be prepared succeeded")
                    } catch let error as PostgresError {
                        #expect(error.sqlState == SQLState(rawValue: "42703"), "queued before: \(queuedBefore)")
                    }
                    try await tx.query("INSERT INTO t VALUES (3, 'c')")
                }
                let got = try await pool.query("SELECT string_agg(name, ',' ORDER BY id) FROM t")[0].decode(String?.self, at: 0)
                #expect(got == "a,c", "queued before: \(queuedBefore)")
            }
            await pool.close()
        }
    }

    /// Steps nest (each `SAVEPOINT pingan_step` hides the one before until it is released or
    /// rolled back to): an inner step that fails when prepared rolls back to its own
    /// savepoint, not to the enclosing step's, which keeps what it wrote before and after.
    @Test func aNestedStepThatFailsWhenPreparedRollsBackOnlyItself() async throws {
        try await TestDatabase.with { database in
            let pool = database.pool(maxConnections: 1)
            try await pool.query("CREATE TABLE t (id bigint PRIMARY KEY, name text)")
            try await pool.transaction { tx in
                try await tx.savepoint(first: [("INSERT INTO t VALUES ($1, 'a')", [1])]) { step, _ in
                    await #expect { try await step.savepoint(first: [("SELECT no_such_column FROM t", [])]) { _, _ in } } throws: { error in
                        (error as? PostgresError)?.sqlState == SQLState(rawValue: "42703")
                    }
                    // An inner step that fails when it runs, after a queued statement, too.
                    try await step.queue("INSERT INTO t VALUES (2, 'b')")
                    await #expect { try await step.savepoint(first: [("INSERT INTO t VALUES ($1, 'dup')", [1])]) { _, _ in } } throws: { error in
                        (error as? PostgresError)?.isUniqueViolation == true
                    }
                    try await step.query("INSERT INTO t VALUES (3, 'c')")
                }
                try await tx.query("INSERT INTO t VALUES (4, 'd')")
            }
            do { let got = try await pool.query("SELECT string_agg(name, ',' ORDER BY id) FROM t")[0].decode(String.self, at: 0); #expect(got == "a,b,c,d") }
            await pool.close()
        }
    }

    /// A step rolls back only to the savepoint it set. When its `SAVEPOINT` does not run (a
    /// statement the enclosing step queued fails as it travels with it, or the transaction
    /// had already failed), `ROLLBACK TO SAVEPOINT pingan_step` would reach the enclosing
    /// step's savepoint: its writes were undone, the failure was forgotten, and the
    /// transaction committed without them.
    @Test func aNestedStepNeverRollsBackToTheEnclosingStepsSavepoint() async throws {
        try await TestDatabase.with { database in
            let pool = database.pool(maxConnections: 1)
            try await pool.query("CREATE TABLE t (id bigint PRIMARY KEY, name text)")
            for failure in ["queued by the enclosing step", "caught without a step"] {
                try await pool.query("TRUNCATE t")
                try await pool.transaction { tx in
                    try await tx.query("INSERT INTO t VALUES (1, 'a')")
                    do {
                        try await tx.savepoint(first: [("INSERT INTO t VALUES ($1, 'b')", [2])]) { step, _ in
                            if failure == "queued by the enclosing step" {
                                try await step.queue("INSERT INTO t VALUES (1, 'dup')")
                            } else {
                                _ = try? await step.query("INSERT INTO t VALUES (1, 'dup')")
                            }
                            _ = try? await step.savepoint(first: [("INSERT INTO t VALUES ($1, 'c')", [3])]) { _, _ in }
                            try await step.query("INSERT INTO t VALUES (4, 'd')")
                        }
                        Issue.record("a step whose transaction failed inside it succeeded (\(failure))")
                    } catch let error as PostgresError {
                        #expect(error.sqlState == .inFailedTransaction, "\(failure)")
                    }
                    try await tx.query("INSERT INTO t VALUES (5, 'e')")
                }
                let got = try await pool.query("SELECT string_agg(name, ',' ORDER BY id) FROM t")[0].decode(String.self, at: 0)
                #expect(got == "a,e", "\(failure)")
            }
            await pool.close()
        }
    }

    /// A value libpq cannot send (text with a NUL) is refused before anything queued is
    /// taken: what the transaction queued, and `BEGIN`, go with its next statement and commit
    /// together. The queue used to be emptied first, so they were dropped unsent and the
    /// next statement ran on its own, outside any transaction.
    @Test func aRefusedValueLeavesWhatWasQueuedToCommitInItsTransaction() async throws {
        try await TestDatabase.with { database in
            let pool = database.pool(maxConnections: 1)
            try await pool.query("CREATE TABLE t (id bigint PRIMARY KEY, name text)")
            for refusedBy in ["query", "pipeline", "queue", "savepoint"] {
                try await pool.query("TRUNCATE t")
                try await pool.transaction { tx in
                    try await tx.queue("INSERT INTO t VALUES (1, 'a')")
                    await #expect { () async throws -> Void in
                        switch refusedBy {
                        case "query": try await tx.query("SELECT $1::text", ["a\u{0}b"])
                        case "pipeline": try await tx.pipeline([("SELECT 1", []), ("SELECT $1::text", ["a\u{0}b"])])
                        case "queue": try await tx.queue("INSERT INTO t VALUES (9, $1)", ["a\u{0}b"])
                        default: try await tx.savepoint(first: [("INSERT INTO t VALUES (9, $1)", ["a\u{0}b"])]) { _, _ in }
                        }
                    } throws: { error in
                        (error as? PostgresError)?.code == .invalidParameter
                    }
                    try await tx.query("INSERT INTO t VALUES (2, 'b')")
                }
                let row = try await pool.query("SELECT string_agg(name, ',' ORDER BY id), count(DISTINCT xmin::text) FROM t")[0]
                #expect(try row.decode(String.self, at: 0) == "a,b", "refused by \(refusedBy)")
                #expect(try row.decode(Int.self, at: 1) == 1, "one transaction (refused by \(refusedBy))")
            }
            await pool.close()
        }
    }

    @Test func failedStatementRollsBackTheTransaction() async throws {
        try await TestDatabase.with { database in
            let pool = database.pool()
            try await pool.query("CREATE TABLE t (id bigint PRIMARY KEY)")
            await #expect(throws: PostgresError.self) {
                try await pool.transaction { tx in
                    try await tx.query("INSERT INTO t VALUES (1)")
                    try await tx.query("INSERT INTO t VALUES (1)")
                }
            }
            do { let got = try await pool.query("SELECT count(*) FROM t")[0].decode(Int.self, at: 0); #expect(got == 0) }
            await pool.close()
        }
    }

    @Test func uniqueViolationIsDistinguishable() async throws {
        try await TestDatabase.with { database in
            let pool = database.pool()
            try await pool.query("CREATE TABLE cases (incident_id uuid CONSTRAINT cases_incident_key UNIQUE, note text)")
            let id = UUID()
            try await pool.query("INSERT INTO cases VALUES ($1, 'first')", [id])
            do {
                try await pool.query("INSERT INTO cases VALUES ($1, 'second')", [id])
                Issue.record("a duplicate insert succeeded")
            } catch let error as PostgresError {
                #expect(error.isUniqueViolation)
                #expect(error.sqlState == .uniqueViolation)
                #expect(error.constraint == "cases_incident_key")
                #expect(error.code == .server)
            }
            // Other server errors are not reported as unique violations.
            do {
                try await pool.query("INSERT INTO missing_table VALUES (1)")
                Issue.record("an insert into a missing table succeeded")
            } catch let error as PostgresError {
                #expect(!error.isUniqueViolation)
                #expect(error.sqlState == .undefinedTable)
            }
            await pool.close()
        }
    }

    @Test func copyLoadsAwkwardValuesExactly() async throws {
        try await TestDatabase.with { database in
            let pool = database.pool()
            try await pool.query("CREATE TABLE people (id bigint, name text, tags text[], seen timestamptz, ok boolean)")
            let when = Date(timeIntervalSince1970: 1_790_000_000.25)
            var rows: [[any PostgresEncodable]] = (0..<5000).map { index in
                [index, "居民\(index)", ["t\(index)"], when, index % 2 == 0]
            }
            rows.append([5000, "tab\there\nnewline\\back", ["a,b", "c\"d"], Date?.none, Bool?.none])
            rows.append([5001, String?.none, [String](), when, true])
            // NUL, which no PostgreSQL text holds, is left out rather than failing every row.
            rows.append([5002, "a\u{0}b", ["c\u{0}"], when, true])
            let loaded = try await pool.withConnection { try await $0.copy(into: "people", columns: ["id", "name", "tags", "seen", "ok"], rows: rows) }
            #expect(loaded == 5003)
            let nul = try await pool.query("SELECT name, tags FROM people WHERE id = 5002")[0]
            #expect(try nul.decode(String.self, at: 0) == "ab")
            #expect(try nul.decode([String].self, at: 1) == ["c"])
            let awkward = try await pool.query("SELECT name, tags, seen, ok FROM people WHERE id = 5000")[0]
            #expect(try awkward.decode(String.self, at: 0) == "tab\there\nnewline\\back")
            #expect(try awkward.decode([String].self, at: 1) == ["a,b", "c\"d"])
            #expect(try awkward.decode(Date?.self, at: 2) == nil)
            #expect(try awkward.decode(Bool?.self, at: 3) == nil)
            let null = try await pool.query("SELECT name, tags FROM people WHERE id = 5001")[0]
            #expect(try null.decode(String?.self, at: 0) == nil)
            #expect(try null.decode([String].self, at: 1) == [])
            let sample = try await pool.query("SELECT name, seen FROM people WHERE id = 4321")[0]
            #expect(try sample.decode(String.self, at: 0) == "居民4321")
            #expect(abs(try sample.decode(Date.self, at: 1).timeIntervalSince(when)) < 0.000_001)
            await pool.close()
        }
    }

    @Test func copyRefusesInjectedIdentifiers() async throws {
        try await TestDatabase.with { database in
            let pool = database.pool()
            await #expect { try await pool.withConnection { try await $0.copy(into: "people; DROP TABLE x", columns: ["id"], rows: [[1]]) } } throws: { error in
                (error as? PostgresError)?.code == .invalidIdentifier
            }
            await pool.close()
        }
    }
}
