import Foundation

/// The loop every service's import runs: a file's lines parsed into records (or refusals), in
/// batches of `batchSize`, each batch applied whole or refused whole by `apply`, with every
/// refused line reported through `refused` and counted in the summary.
///
/// `apply` gets the batch's records and the refusals of its lines that did not parse; it
/// answers `.refused` with those and any it finds itself, or (only when there are none)
/// writes the batch and answers `.applied`.
public enum ImportBatches {
    /// What became of one batch.
    public enum Outcome: Sendable {
        /// Applied: the records it stored (the rest were stored already).
        case applied(Int)
        /// Refused: none of it was applied.
        case refused([ImportRefusal])
    }

    /// A line read: a record, or why it is not one.
    public enum Parsed<Record> {
        case record(Record)
        case refused([ImportRefusal])
    }

    /// Runs the loop, the next batch read and parsed while `apply` writes the one before, so
    /// the importer's parsing and checking and the database's work on the batch before
    /// overlap, on two cores, instead of taking turns.
    ///
    /// One batch is applied at a time, in the file's order, each whole
    /// or not at all, and a batch is handed to `apply` only once the one before it is
    /// settled (so if `apply` throws, no later batch is applied). Two batches are held in
    /// memory at most.
    public static func run<Record: Sendable>(
        _ lines: ImportLines, by importer: String, batchSize: Int, refused: @Sendable (ImportRefusal) -> Void,
        parse: (String, Int) -> Parsed<Record>,
        apply: @escaping @Sendable ([Record], _ refused: [ImportRefusal]) async throws -> Outcome
    ) async throws -> ImportSummary {
        var reader = BatchReader(lines, batchSize: batchSize)
        _ = try checkedImporter(importer)
        var tally = Tally()
        try await withThrowingTaskGroup(of: Outcome.self) { group in
            var inFlight: BatchCounts?
            func settle() async throws {
                guard let counts = inFlight else { return }
                inFlight = nil
                if let outcome = try await group.next() { tally.add(outcome, of: counts, refused: refused) }
            }
            while true {
                // Batch N+1 is read and parsed here while batch N is applied.
                let next: Batch<Record>?
                do {
                    next = try reader.next(parse)
                } catch {
                    // The file stops the import (a line too long, a read error): the batch
                    // before it is still applied, or refused, as it would be without overlap.
                    try await settle()
                    throw error
                }
                try await settle()
                guard let batch = next else { break }
                group.addTask { try await apply(batch.records, batch.refusals) }
                inFlight = batch.counts
            }
        }
        return tally.summary
    }

    /// `--by`, trimmed, or why it is not a name.
    static func checkedImporter(_ importer: String) throws -> String {
        let importer = importer.trimmingCharacters(in: .whitespaces)
        guard (1...100).contains(importer.unicodeScalars.count) else {
            throw ImportError.badArgument("--by must name who imports (1 to 100 characters)")
        }
        return importer
    }

    /// What the summary needs of a batch once it is settled.
    struct BatchCounts: Sendable {
        let records: Int
        let refusedLines: Int
    }

    /// One batch as read: its records and the refusals of its lines that did not parse.
    struct Batch<Record: Sendable>: Sendable {
        var records: [Record] = []
        var refusals: [ImportRefusal] = []
        var refusedLines = Set<Int>()
        var counts: BatchCounts { BatchCounts(records: records.count, refusedLines: refusedLines.count) }
        var isEmpty: Bool { records.isEmpty && refusals.isEmpty }
    }

    /// Reads a file's non-blank lines into batches of `batchSize` lines.
    struct BatchReader {
        var lines: ImportLines
        let batchSize: Int

        init(_ lines: ImportLines, batchSize: Int) {
            self.lines = lines
            self.batchSize = max(1, batchSize)
        }

        /// The next batch, or `nil` at the end of the file.
        mutating func next<Record>(_ parse: (String, Int) -> Parsed<Record>) throws -> Batch<Record>? {
            var batch = Batch<Record>()
            batch.records.reserveCapacity(batchSize)
            while batch.records.count + batch.refusedLines.count < batchSize, let (number, text) = try lines.next() {
                guard !text.allSatisfy(\.isWhitespace) else { continue }
                switch parse(text, number) {
                case .record(let record): batch.records.append(record)
                case .refused(let found):
                    batch.refusals += found
                    batch.refusedLines.insert(number)
                }
            }
            return batch.isEmpty ? nil : batch
        }
    }

    /// The summary, batch by batch, and the refusals told to the caller.
    struct Tally {
        var summary = ImportSummary()

        mutating func add<Record>(_ outcome: Outcome, of batch: Batch<Record>, refused: (ImportRefusal) -> Void) {
            add(outcome, of: batch.counts, refused: refused)
        }

        mutating func add(_ outcome: Outcome, of batch: BatchCounts, refused: (ImportRefusal) -> Void) {
            summary.read += batch.records + batch.refusedLines
            switch outcome {
            case .applied(let imported):
                summary.imported += imported
                summary.alreadyPresent += batch.records - imported
                summary.batchesApplied += 1
            case .refused(let found):
                // Checked whole even when lines were refused already, so that every fault of
                // the batch is reported in one run; applied only when none was.
                let all = found.sorted { ($0.line, $0.field) < ($1.line, $1.field) }
                all.forEach(refused)
                summary.refusals += all.prefix(max(0, ImportSummary.keptRefusals - summary.refusals.count))
                let lines = Set(all.map(\.line))
                summary.refused += lines.count
                summary.notApplied += batch.records + batch.refusedLines - lines.count
                summary.batchesRefused += 1
            }
        }
    }

    /// Refusals for every record after the first with the same `key` in one batch.
    public static func repeats<R, Key: Hashable>(_ records: [R], key: (R) -> Key, line: (R) -> Int, field: String, what: String) -> [ImportRefusal] {
        var first: [Key: Int] = [:]
        first.reserveCapacity(records.count)
        var refusals: [ImportRefusal] = []
        for record in records {
            if let earlier = first[key(record)] {
                refusals.append(ImportRefusal(line: line(record), field: field, reason: "\(what) is also on line \(earlier)"))
            } else {
                first[key(record)] = line(record)
            }
        }
        return refusals
    }
}

/// An import command's options after its file: `--by WHO [--batch N]`.
public struct ImportOptions: Sendable {
    public let by: String
    public let batch: Int

    /// `nil` when the options are not these.
    public init?(_ arguments: some Collection<String>, defaultBatch: Int) {
        var by: String?
        var batch = defaultBatch
        var rest = Array(arguments)[...]
        while let option = rest.popFirst() {
            guard let value = rest.popFirst() else { return nil }
            switch option {
            case "--by": by = value
            case "--batch":
                guard let size = Int(value), (1...100_000).contains(size) else { return nil }
                batch = size
            default: return nil
            }
        }
        guard let by else { return nil }
        self.by = by
        self.batch = batch
    }
}
