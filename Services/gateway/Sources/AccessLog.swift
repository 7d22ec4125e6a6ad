import Foundation
import Logging
import PinganConnect
import PinganPostgres
import ServiceLifecycle
import Synchronization

/// One call through the gateway, as the access log keeps it.
struct AccessEntry: Sendable {
    let at: Date
    /// `user:<name>` or `apikey:<name>`; empty when the caller was not authenticated.
    let subject: String
    /// The centre the call acted for, after the gateway narrowed it.
    let centre: String
    let method: String
    /// The record ids the request named (UUIDs among its top-level fields).
    let records: [String]
    /// `ok` or the Connect error code.
    let outcome: String
    /// Why the gateway let the call through, or why it did not.
    let rule: String
    let peer: String
    let duration: Duration
}

/// The gateway's access log (`gateway.access_log`): who called which method for which centre
/// and records, with what outcome and under which rule.
///
/// Entries are buffered and written together every ``flushInterval`` (one COPY), so the log
/// adds no database round trip to a call; a gateway killed outright loses at most that
/// interval of entries. The table is partitioned by month, and months past the retention
/// are dropped whole by ``AccessLogPartitions``, not deleted row by row here. Reads of
/// personal data keep their own audit in dispute-service, written with the read itself.
final class AccessLog: Service, Sendable {
    let pool: PostgresPool
    let logger: Logger
    let flushInterval: Duration
    private let buffer = Mutex<[AccessEntry]>([])

    init(pool: PostgresPool, logger: Logger, flushInterval: Duration = .seconds(1)) {
        self.pool = pool
        self.logger = logger
        self.flushInterval = flushInterval
    }

    /// Records a call that started at `started` and ended now with `outcome` (`ok` or the
    /// Connect code of `error`).
    func record(
        _ method: String, subject: String, centre: String, records: [String] = [], error: (any Error)?, rule: String,
        peer: String?, started: ContinuousClock.Instant
    ) {
        let outcome = error.map { ($0 as? ConnectError)?.code.rawValue ?? "internal" } ?? "ok"
        let entry = AccessEntry(
            at: Date(), subject: subject, centre: centre, method: method, records: records, outcome: outcome, rule: rule,
            peer: peer ?? "", duration: ContinuousClock.now - started
        )
        buffer.withLock { $0.append(entry) }
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
    }

    /// Writes what is buffered; on failure the entries go back to the buffer for the next round.
    func flush() async {
        let entries = buffer.withLock { entries -> [AccessEntry] in
            defer { entries.removeAll() }
            return entries
        }
        guard !entries.isEmpty else { return }
        do {
            try await pool.withConnection { connection in
                _ = try await connection.copy(
                    into: "gateway.access_log",
                    columns: ["at", "subject", "centre_code", "method", "record_ids", "outcome", "rule", "peer", "duration_ms"],
                    rows: entries.map { entry in
                        let millis = Double(entry.duration.components.seconds) * 1000 + Double(entry.duration.components.attoseconds) / 1e15
                        return [entry.at, entry.subject, entry.centre, entry.method, entry.records.joined(separator: " "), entry.outcome,
                                entry.rule, entry.peer, millis]
                    }
                )
            }
        } catch {
            logger.warning("access log write failed; kept for the next round", metadata: ["entries": "\(entries.count)", "error": "\(error)"])
            buffer.withLock { $0.insert(contentsOf: entries.suffix(100_000), at: 0) }
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
