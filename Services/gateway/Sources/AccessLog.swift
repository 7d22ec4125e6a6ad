import Foundation
import Logging
import PinganConnect
import PinganPostgres
import ServiceLifecycle

/// The gateway's access log (`gateway.access_log`): who called which method for which centre
/// and records, with what outcome and under which rule.
///
/// An entry is appended to the ``AccessSpool`` on disk as its call ends, and every
/// ``flushInterval`` what the spool holds is written with one `COPY`: the log adds no database
/// round trip to a call, and a gateway killed outright loses none of it. The table is
/// partitioned by month, and months past the retention are dropped whole by
/// ``AccessLogPartitions``, not deleted row by row here. Reads of personal data keep their own
/// audit in dispute-service, written with the read itself.
final class AccessLog: Service, Sendable {
    static let columns = ["at", "subject", "centre_code", "method", "record_ids", "outcome", "rule", "peer", "duration_ms"]

    let pool: PostgresPool
    let logger: Logger
    let spool: AccessSpool
    let flushInterval: Duration

    init(pool: PostgresPool, logger: Logger, spool: AccessSpool, flushInterval: Duration = .seconds(1)) {
        self.pool = pool
        self.logger = logger
        self.spool = spool
        self.flushInterval = flushInterval
    }

    /// Records a call that started at `started` and ended now with `outcome` (`ok` or the
    /// Connect code of `error`).
    func record(
        _ method: String, subject: String, centre: String, records: [String] = [], error: (any Error)?, rule: String,
        peer: String?, started: ContinuousClock.Instant
    ) {
        let outcome = error.map { ($0 as? ConnectError)?.code.rawValue ?? "internal" } ?? "ok"
        let duration = (ContinuousClock.now - started).components
        let millis = Double(duration.seconds) * 1000 + Double(duration.attoseconds) / 1e15
        var line: [UInt8] = []
        line.reserveCapacity(256)
        PostgresConnection.appendCopyRow(
            [Date(), subject, centre, method, records.joined(separator: " "), outcome, rule, peer ?? "", millis],
            to: &line
        )
        spool.append(line)
    }

    /// `text` with control characters (line breaks, NUL) replaced, fit for a log line.
    static func printable(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.map { $0.properties.generalCategory == .control ? "?" : $0 }))
    }

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try? await Task.sleep(for: self.flushInterval)
                await self.flush()
            }
        }
        await flush()
        spool.removeIfDrained()
    }

    /// Writes the spool's sealed files to the database, oldest first, each in a transaction
    /// with its id, and removes them. A file that cannot be written now stays for the next
    /// round, and so do the files after it.
    func flush() async {
        let unwritten = spool.unwrittenBytes
        if unwritten > 0 {
            logger.error("access log spool cannot be written; entries held in memory", metadata: [
                "directory": "\(spool.directory.path)", "bytes": "\(unwritten)",
            ])
        }
        for file in spool.seal() {
            do {
                let contents = try spool.contents(of: file)
                if contents.tornBytes > 0 {
                    logger.warning("access log spool: a line cut short by the gateway's end is left out", metadata: [
                        "file": "\(file.url.path)", "bytes": "\(contents.tornBytes)",
                    ])
                }
                if !contents.lines.isEmpty {
                    try await pool.transaction { transaction in
                        // Claiming the file's id finds it already claimed if its rows committed
                        // before a kill left the file behind.
                        let claimed = try await transaction.query(
                            "INSERT INTO gateway.access_spool_files (file) VALUES ($1) ON CONFLICT DO NOTHING RETURNING file", [file.id]
                        )
                        guard !claimed.isEmpty else { return }
                        let refused = try await Self.copy(contents.lines[...], into: transaction)
                        // Set aside before the commit, so no refused line is lost if it fails;
                        // written again whole if the file is tried again, and removed if then
                        // nothing is refused, so no line reaches the table twice.
                        let aside = try spool.setAside(refused.lines, of: file)
                        guard let reason = refused.reason else { return }
                        logger.error("access log: entries the table refuses were set aside; the others are written", metadata: [
                            "file": "\(aside.path)", "entries": "\(refused.count)", "reason": "\(reason)",
                        ])
                    }
                }
            } catch CocoaError.fileReadNoSuchFile {
                // Removed by hand or by a cleaner of temporary files: what it held is lost, and
                // it must not hold back the files after it.
                logger.error("access log spool: a file vanished before it was written; its entries are lost", metadata: [
                    "file": "\(file.url.path)",
                ])
            } catch {
                logger.warning("access log write failed; its file is kept for the next round", metadata: [
                    "file": "\(file.url.path)", "error": "\(error)",
                ])
                return
            }
            do {
                try spool.remove(file)
                // The id only guards the file against a second copy; with the file gone it
                // guards nothing. If this fails the row stays, and harms nothing.
                _ = try? await pool.query("DELETE FROM gateway.access_spool_files WHERE file = $1", [file.id])
            } catch {
                logger.warning("access log spool: a written file could not be removed", metadata: [
                    "file": "\(file.url.path)", "error": "\(error)",
                ])
            }
        }
    }

    /// The lines a ``copy(_:into:)`` left out, and why the first of them was refused.
    struct Refused {
        var lines: [UInt8] = []
        var reason: PostgresError?
        var count: Int { lines.count { $0 == UInt8(ascii: "\n") } }
    }

    /// Copies `lines` into the log behind a savepoint. If the table refuses them for good (an
    /// entry stamped in a month no partition holds, a line the disk garbled), the halves are
    /// tried in turn until the refused lines are found: they are returned, and every other line
    /// is written, so one bad entry cannot hold back the log for ever. Any other error (the
    /// database away) is thrown, and the file waits for the next round whole.
    static func copy(_ lines: ArraySlice<UInt8>, into transaction: PostgresConnection) async throws -> Refused {
        do {
            try await transaction.savepoint(first: []) { step, _ in
                try await step.copy(into: "gateway.access_log", columns: Self.columns, text: Array(lines))
            }
            return Refused()
        } catch let error as PostgresError where error.sqlState?.refusesTheData == true {
            // `lines` ends with a newline; a line break before it means two lines or more.
            let newline = UInt8(ascii: "\n")
            let body = lines.dropLast()
            let half = lines.startIndex + lines.count / 2
            guard let middle = body[half...].firstIndex(of: newline) ?? body[..<half].lastIndex(of: newline) else {
                return Refused(lines: Array(lines), reason: error)
            }
            var refused = try await copy(lines[...middle], into: transaction)
            let second = try await copy(lines[(middle + 1)...], into: transaction)
            refused.lines += second.lines
            refused.reason = refused.reason ?? second.reason
            return refused
        }
    }

    /// The UUIDs a request names, without knowing the message type: every UUID string of a
    /// JSON body, or the top-level length-delimited fields of protobuf's wire format that hold
    /// a UUID's text.
    static func recordIDs(in body: [UInt8], codec: ConnectCodec) -> [String] {
        var found: [String] = []
        func keep(_ text: String) {
            if text.utf8.count == 36, UUID(uuidString: text) != nil, found.count < 20 { found.append(text.lowercased()) }
        }
        switch codec {
        case .json:
            // Every quoted UUID, found by scanning bytes: parsing each body into objects cost
            // more than the rest of the log.
            var index = 0
            while index + 37 < body.count {
                if body[index] == UInt8(ascii: "\""), body[index + 37] == UInt8(ascii: "\"") {
                    keep(String(decoding: body[(index + 1)...(index + 36)], as: UTF8.self))
                }
                index += 1
            }
        case .proto:
            var index = 0
            func varint() -> UInt64? {
                var value: UInt64 = 0
                var shift: UInt64 = 0
                while index < body.count, shift < 64 {
                    let byte = body[index]
                    index += 1
                    value |= UInt64(byte & 0x7f) << shift
                    if byte & 0x80 == 0 { return value }
                    shift += 7
                }
                return nil
            }
            while index < body.count, let key = varint() {
                switch key & 7 {
                case 0: guard varint() != nil else { return found }
                case 1: index += 8
                case 5: index += 4
                case 2:
                    guard let length = varint(), length <= UInt64(body.count - index) else { return found }
                    let end = index + Int(length)
                    if length == 36 { keep(String(decoding: body[index..<end], as: UTF8.self)) }
                    index = end
                default: return found
                }
            }
        }
        return found
    }
}
