import Foundation

/// A refused line: its number, the field at fault (`json` for a line that is not a JSON
/// object, `line` for the record as a whole) and why. Printed as `line N: field: reason`.
public struct ImportRefusal: Sendable, Equatable, CustomStringConvertible {
    public let line: Int
    public let field: String
    public let reason: String

    public init(line: Int, field: String, reason: String) {
        self.line = line
        self.field = field
        self.reason = reason
    }

    public var description: String { "line \(line): \(field): \(reason)" }
}

/// What an import did, counted in records (non-blank lines).
public struct ImportSummary: Sendable, Equatable, CustomStringConvertible {
    /// Records read.
    public var read = 0
    /// Records stored by this import.
    public var imported = 0
    /// Records whose old-system id (a screening: its grid and day) was stored already, by an
    /// earlier import or, for a screening, by the grid's own worker; they are left as they are.
    public var alreadyPresent = 0
    /// Records refused, each reported with its line and reason.
    public var refused = 0
    /// Good records not applied because their batch held a refused one.
    public var notApplied = 0
    /// Batches committed, and batches not applied.
    public var batchesApplied = 0
    public var batchesRefused = 0
    /// The first ``keptRefusals`` refusals, in line order per batch (every one goes to the
    /// `refused` callback as well).
    public var refusals: [ImportRefusal] = []
    public static let keptRefusals = 1000

    public init() {}

    public var description: String {
        "read \(read), imported \(imported), already present \(alreadyPresent), refused \(refused)"
            + (batchesRefused > 0 ? " (\(batchesRefused) batch\(batchesRefused == 1 ? "" : "es") not applied: \(notApplied) good records in them were left out; fix the refused lines and import the file again)" : "")
    }
}
