import Foundation
@testable import GatewayService
import PinganContracts
import PinganPostgres
import PinganRuntime
import PinganTestSupport
import Testing

extension AccessSpool {
    /// A spool in a new directory of its own.
    static func fresh() throws -> AccessSpool {
        try AccessSpool(directory: TestScratch.path("pingan-spool-test"))
    }
}

/// The access log's entries wait on disk, not in memory, between a call and the database: a
/// gateway killed outright leaves them in its spool, and the next gateway on that disk writes
/// them, once. The end-to-end suite kills a real one (`AccessLogKillTests`).
@Suite("gateway access log spool")
struct AccessSpoolTests {
    static let getCase = DisputeServiceMethods.getCase.path

    /// `count` calls of a mediator reading one case, recorded and not yet flushed.
    static func read(_ log: AccessLog, case id: String, count: Int, as subject: String = "user:xu-mediator") {
        for _ in 0..<count {
            log.record(getCase, subject: subject, centre: Place.townA, records: [id], error: nil, rule: "centre within gateway centre", peer: "10.1.2.3", started: .now)
        }
    }

    static func rows(_ pool: PostgresPool, subject: String) async throws -> [(at: Date, records: String, peer: String)] {
        try await pool.query("SELECT at, record_ids, peer FROM gateway.access_log WHERE subject = $1 ORDER BY id", [subject]).map { row in
            (try row.decode(Date.self, at: 0), try row.decode(String.self, at: 1), try row.decode(String.self, at: 2))
        }
    }

    static func files(in directory: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".copy") }
    }

    /// The files of `spool` as a gateway killed now leaves them, in a directory of their own:
    /// what the next gateway on that disk finds. (Its lock is the kernel's to release, which
    /// only a real process's end does; the end-to-end suite kills one.)
    static func leftBehind(by spool: AccessSpool) throws -> URL {
        let copy = TestScratch.path("pingan-spool-test")
        try FileManager.default.createDirectory(at: copy, withIntermediateDirectories: true)
        for name in try files(in: spool.directory) {
            try FileManager.default.copyItem(at: spool.directory.appendingPathComponent(name), to: copy.appendingPathComponent(name))
        }
        return copy
    }

    /// A fresh spool and log holding two reads, sealed in one file.
    static func twoReadsSealed(_ pool: PostgresPool) throws -> (AccessSpool, AccessLog, AccessSpool.File) {
        let spool = try AccessSpool.fresh()
        let log = AccessLog(pool: pool, logger: TestEnvironment.logger, spool: spool)
        read(log, case: UUID().uuidString.lowercased(), count: 2)
        guard let file = spool.seal().first else { throw TestSetupError("nothing sealed") }
        return (spool, log, file)
    }

    @Test func entriesAGatewayLeftAreWrittenByTheNextOnItsDisk() async throws {
        try await AccessLogPartitionTests.withSchema { pool in
            let caseID = UUID().uuidString.lowercased()
            let readAt = Date()
            let spool = try AccessSpool.fresh()
            let log = AccessLog(pool: pool, logger: TestEnvironment.logger, spool: spool)
            Self.read(log, case: caseID, count: 3)
            let recorded = Date()
            // While it runs the directory is its own: a second gateway there is refused.
            #expect { try AccessSpool(directory: spool.directory) } throws: { error in
                "\(error)".contains("another gateway that is running")
            }
            // Killed before its flush: nothing is in the database, all three are on disk.
            #expect(try await Self.rows(pool, subject: "user:xu-mediator").isEmpty)
            let disk = try Self.leftBehind(by: spool)
            #expect(try Self.files(in: disk).count == 1)

            let next = AccessLog(pool: pool, logger: TestEnvironment.logger, spool: try AccessSpool(directory: disk))
            await next.flush()
            let rows = try await Self.rows(pool, subject: "user:xu-mediator")
            #expect(rows.map(\.records) == [caseID, caseID, caseID])
            #expect(rows.map(\.peer) == ["10.1.2.3", "10.1.2.3", "10.1.2.3"])
            // Each keeps the time of its call, not of the write (a database round trip and
            // more after `recorded`); stored to the microsecond.
            #expect(rows.allSatisfy { $0.at.timeIntervalSince(readAt) > -0.000_002 && $0.at.timeIntervalSince(recorded) < 0.000_002 })
            #expect(try Self.files(in: disk).isEmpty)
            // The id that guarded the file went with it.
            #expect(try await pool.query("SELECT count(*) FROM gateway.access_spool_files")[0].decode(Int.self, at: 0) == 0)
        }
    }

    /// While the disk refuses entries they wait in memory, without a write tried for each
    /// call, and go, in order, at the next flush once the disk takes them again.
    @Test func entriesTheDiskRefusesWaitInMemoryUntilTheNextFlush() async throws {
        try await AccessLogPartitionTests.withSchema { pool in
            let manager = FileManager.default
            let spool = try AccessSpool.fresh()
            let log = AccessLog(pool: pool, logger: TestEnvironment.logger, spool: spool)
            Self.read(log, case: UUID().uuidString.lowercased(), count: 1)
            await log.flush()
            // The spool's place stops taking files (a file where its directory was).
            try manager.removeItem(at: spool.directory)
            #expect(manager.createFile(atPath: spool.directory.path, contents: Data()))
            Self.read(log, case: UUID().uuidString.lowercased(), count: 2)
            #expect(spool.unwrittenBytes > 0)
            await log.flush()
            #expect(try await Self.rows(pool, subject: "user:xu-mediator").count == 1)
            // Room again: the held entries are written at the next flush.
            try manager.removeItem(at: spool.directory)
            await log.flush()
            #expect(spool.unwrittenBytes == 0)
            #expect(try await Self.rows(pool, subject: "user:xu-mediator").count == 3)
            try? manager.removeItem(at: spool.directory)
        }
    }

    /// A gateway stopped cleanly leaves no directory it made, and never removes one the operator
    /// gave or one with entries still waiting.
    @Test func aCleanStopRemovesOnlyAnEmptyDirectoryTheGatewayMade() async throws {
        try await AccessLogPartitionTests.withSchema { pool in
            let manager = FileManager.default
            let (spool, log, _) = try Self.twoReadsSealed(pool)
            spool.removeIfDrained()
            #expect(manager.fileExists(atPath: spool.directory.path))
            await log.flush()
            spool.removeIfDrained()
            #expect(!manager.fileExists(atPath: spool.directory.path))
            // A call still finishing after that keeps its entry.
            Self.read(log, case: UUID().uuidString.lowercased(), count: 1)
            await log.flush()
            #expect(try await Self.rows(pool, subject: "user:xu-mediator").count == 3)
            try? manager.removeItem(at: spool.directory)

            let given = TestScratch.path("pingan-spool-test")
            try manager.createDirectory(at: given, withIntermediateDirectories: true)
            try AccessSpool(directory: given).removeIfDrained()
            #expect(manager.fileExists(atPath: given.appendingPathComponent("lock").path))
            try manager.removeItem(at: given)
        }
    }

    /// Killed between the commit of a file's rows and the file's removal, a gateway leaves a
    /// file whose rows are in the database already: the next one removes it unwritten.
    @Test func aFileFoundAgainAfterItsRowsCommittedIsNotWrittenTwice() async throws {
        try await AccessLogPartitionTests.withSchema { pool in
            let (spool, log, file) = try Self.twoReadsSealed(pool)
            let disk = try Self.leftBehind(by: spool)
            await log.flush()
            #expect(try await Self.rows(pool, subject: "user:xu-mediator").count == 2)

            // The state such a kill leaves: the file on disk and its id beside the rows.
            #expect(try Self.files(in: disk) == [file.url.lastPathComponent])
            try await pool.query("INSERT INTO gateway.access_spool_files (file) VALUES ($1)", [file.id])
            let next = AccessLog(pool: pool, logger: TestEnvironment.logger, spool: try AccessSpool(directory: disk))
            await next.flush()
            #expect(try await Self.rows(pool, subject: "user:xu-mediator").count == 2)
            #expect(try Self.files(in: disk).isEmpty)
        }
    }

    /// A line the gateway's death cut short in the middle of its `write` is left out; the
    /// whole lines before it are written.
    @Test func aLineCutShortIsLeftOutAndTheLinesBeforeItAreWritten() async throws {
        try await AccessLogPartitionTests.withSchema { pool in
            let (spool, log, file) = try Self.twoReadsSealed(pool)
            let handle = try FileHandle(forWritingTo: file.url)
            try handle.seekToEnd()
            let torn = Array("2026-12-07 10:00:00+08\tuser:xu-medi".utf8)
            try handle.write(contentsOf: torn)
            try handle.close()
            #expect(try spool.contents(of: file).tornBytes == torn.count)
            await log.flush()
            #expect(try await Self.rows(pool, subject: "user:xu-mediator").count == 2)
            #expect(try await pool.query("SELECT count(*) FROM gateway.access_log WHERE subject = 'user:xu-medi'")[0].decode(Int.self, at: 0) == 0)
            #expect(try Self.files(in: spool.directory).isEmpty)
        }
    }

    /// While the database is away the files stay, in order, and go once it is back; a NUL
    /// in a path does not hold them back.
    @Test func filesWaitForTheDatabaseAndGoInOrderOnceItIsBack() async throws {
        try await AccessLogPartitionTests.withSchema { pool in
            let spool = try AccessSpool.fresh()
            let log = AccessLog(pool: pool, logger: TestEnvironment.logger, spool: spool)
            // The table the flush needs is away, as it is while PostgreSQL is.
            try await pool.query("ALTER TABLE gateway.access_spool_files RENAME TO access_spool_files_away")
            for round in 0..<3 {
                Self.read(log, case: UUID().uuidString.lowercased(), count: 1, as: "user:round-\(round)")
                if round == 2 {
                    log.record("/pingan.grid.v1.GridService/Odd\u{0}Path", subject: "user:odd", centre: Place.townA, error: nil, rule: "test", peer: nil, started: .now)
                }
                await log.flush()
            }
            #expect(try Self.files(in: spool.directory).count == 3)
            #expect(try await pool.query("SELECT count(*) FROM gateway.access_log")[0].decode(Int.self, at: 0) == 0)

            try await pool.query("ALTER TABLE gateway.access_spool_files_away RENAME TO access_spool_files")
            await log.flush()
            let rows = try await pool.query("SELECT subject, method FROM gateway.access_log ORDER BY id").map { row in
                "\(try row.decode(String.self, at: 0)) \(try row.decode(String.self, at: 1))"
            }
            #expect(rows == [
                "user:round-0 \(Self.getCase)", "user:round-1 \(Self.getCase)", "user:round-2 \(Self.getCase)",
                "user:odd /pingan.grid.v1.GridService/OddPath",
            ])
            #expect(try Self.files(in: spool.directory).isEmpty)
        }
    }

    /// An entry the table refuses for good (a month no partition holds, a garbled line) is set
    /// aside beside its file; the entries around it, and the files after it, are written.
    @Test func entriesTheTableRefusesAreSetAsideAndTheOthersWritten() async throws {
        try await AccessLogPartitionTests.withSchema { pool in
            let spool = try AccessSpool.fresh()
            let log = AccessLog(pool: pool, logger: TestEnvironment.logger, spool: spool)
            var past: [UInt8] = []
            // 2001: no partition holds it (SQLSTATE 23514).
            PostgresConnection.appendCopyRow(
                [Date(timeIntervalSince1970: 978_307_200), "user:past", Place.townA, Self.getCase, "", "ok", "test", "", 1.0], to: &past
            )
            let garbled = Array("not a time\tuser:garbled\t\(Place.townA)\t\(Self.getCase)\t\tok\ttest\t\t1\n".utf8)
            for round in 0..<5 {
                Self.read(log, case: UUID().uuidString.lowercased(), count: 1, as: "user:before-\(round)")
                if round == 1 { spool.append(past) }
                if round == 3 { spool.append(garbled) }
            }
            let first = spool.seal()
            Self.read(log, case: UUID().uuidString.lowercased(), count: 1, as: "user:next-file")
            await log.flush()

            let subjects = try await pool.query("SELECT subject FROM gateway.access_log ORDER BY id").map { try $0.decode(String.self, at: 0) }
            #expect(subjects == ["user:before-0", "user:before-1", "user:before-2", "user:before-3", "user:before-4", "user:next-file"])
            #expect(try Self.files(in: spool.directory).isEmpty)
            let aside = spool.directory.appendingPathComponent("\(first[0].id.uuidString.lowercased()).refused")
            #expect(try [UInt8](Data(contentsOf: aside)) == past + garbled)
            // The refused lines stay for the operator: the directory is not removed.
            spool.removeIfDrained()
            #expect(FileManager.default.fileExists(atPath: aside.path))
            try FileManager.default.removeItem(at: spool.directory)
        }
    }

    /// A file removed from under the gateway (by hand, or by a cleaner of temporary files)
    /// holds back nothing after it; a `.refused` left by a try whose commit failed goes when
    /// the file is written whole, so no entry is both in the table and set aside.
    @Test func aVanishedFileHoldsNothingBackAndAStaleSetAsideGoes() async throws {
        try await AccessLogPartitionTests.withSchema { pool in
            let spool = try AccessSpool.fresh()
            let log = AccessLog(pool: pool, logger: TestEnvironment.logger, spool: spool)
            Self.read(log, case: UUID().uuidString.lowercased(), count: 1, as: "user:vanished")
            let vanished = try #require(spool.seal().first)
            try FileManager.default.removeItem(at: vanished.url)
            Self.read(log, case: UUID().uuidString.lowercased(), count: 2, as: "user:after")
            let after = try #require(spool.seal().last)
            let stale = try spool.setAside(Array("an entry refused on a try whose commit failed\n".utf8), of: after)
            await log.flush()
            #expect(try await Self.rows(pool, subject: "user:after").count == 2)
            #expect(try Self.files(in: spool.directory).isEmpty)
            #expect(!FileManager.default.fileExists(atPath: stale.path))
        }
    }

    /// Where the spool is: `ACCESS_LOG_SPOOL`, or a directory named by the gateway's port, so
    /// a gateway restarted on its port finds what it left.
    @Test func theSpoolIsASettingAndOtherwiseNamedByThePort() throws {
        let base = ["MESH_SECRET": TestMesh.secret, "TOKEN_SECRET": TestMesh.tokenSecret, "PORT": "18080"]
        #expect(try GatewaySettings(SettingsReader(base)).accessLogSpool.lastPathComponent == "pingan-gateway-18080")
        var set = base
        set["ACCESS_LOG_SPOOL"] = "/var/spool/pingan-access"
        #expect(try GatewaySettings(SettingsReader(set)).accessLogSpool.path == "/var/spool/pingan-access")
    }
}
