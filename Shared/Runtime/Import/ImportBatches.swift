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

    public static func run<Record: Sendable>(
        _ lines: ImportLines, by importer: String, batchSize: Int, refused: @Sendable (ImportRefusal) -> Void,
        parse: (String, Int) -> Parsed<Record>,
        apply: ([Record], _ refused: [ImportRefusal]) async throws -> Outcome
    ) async throws -> ImportSummary {
        let importer = importer.trimmingCharacters(in: .whitespaces)
        guard (1...100).contains(importer.unicodeScalars.count) else {
            throw ImportError.badArgument("--by must name who imports (1 to 100 characters)")
        }
        var lines = lines
        var summary = ImportSummary()
        var batch: [Record] = []
        var refusals: [ImportRefusal] = []
        var refusedLines = Set<Int>()
        func flush() async throws {
            guard !batch.isEmpty || !refusals.isEmpty else { return }
            summary.read += batch.count + refusedLines.count
            // Checked whole even when lines were refused already, so that every fault of the
            // batch is reported in one run; applied only when none was.
            let outcome = try await apply(batch, refusals)
            switch outcome {
            case .applied(let imported):
                summary.imported += imported
                summary.alreadyPresent += batch.count - imported
                summary.batchesApplied += 1
            case .refused(let found):
                let all = found.sorted { ($0.line, $0.field) < ($1.line, $1.field) }
                all.forEach(refused)
                summary.refusals += all.prefix(max(0, ImportSummary.keptRefusals - summary.refusals.count))
                let lines = Set(all.map(\.line))
                summary.refused += lines.count
                summary.notApplied += batch.count + refusedLines.count - lines.count
                summary.batchesRefused += 1
            }
            batch.removeAll(keepingCapacity: true)
            refusals.removeAll()
            refusedLines.removeAll()
        }
        while let (number, text) = try lines.next() {
            guard !text.allSatisfy(\.isWhitespace) else { continue }
            switch parse(text, number) {
            case .record(let record): batch.append(record)
            case .refused(let found):
                refusals += found
                refusedLines.insert(number)
            }
            if batch.count + refusedLines.count >= max(1, batchSize) { try await flush() }
        }
        try await flush()
        return summary
    }

    /// Refusals for every record after the first with the same `key` in one batch.
    public static func repeats<R>(_ records: [R], key: (R) -> String, line: (R) -> Int, field: String, what: String) -> [ImportRefusal] {
        var first: [String: Int] = [:]
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
