import PinganAccess
import PinganDomain
import Foundation
import PinganRuntime

/// A division file in the format of `changde-divisions.csv`: the header
/// `code,name,level,parent_code`, then one division per line.
///
/// Parsing checks each row on its own (code, level, parent, name); whether a parent exists is
/// for the store to decide, since it may be in the database rather than the file.
public struct DivisionCSV: Sendable {
    static let header = ["code", "name", "level", "parent_code"]
    static let maxNameLength = 100

    /// A checked row and the line it came from, for error messages.
    public struct Row: Sendable, Equatable {
        public let line: Int
        public let division: Division
    }

    public let rows: [Row]

    /// Parses and checks `text`; the first bad line is reported by number.
    public init(parsing text: String) throws(DivisionImportError) {
        // "\r\n" is one Character in Swift, so splitting on newlines handles both endings.
        var lines = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline)
        if let first = lines.first, first.hasPrefix("\u{FEFF}") { lines[0] = first.dropFirst() }
        guard let headerLine = lines.first, !headerLine.isEmpty else {
            throw .file("the CSV is empty; it needs the header \(Self.header.joined(separator: ","))")
        }
        let header = try Self.fields(of: headerLine, line: 1)
        guard header == Self.header else {
            throw .line(1, "the header must be \(Self.header.joined(separator: ",")), got \(headerLine)")
        }
        var rows: [Row] = []
        var seen: [String: Row] = [:]
        for (index, line) in lines.enumerated().dropFirst() where !line.allSatisfy(\.isWhitespace) {
            let number = index + 1
            let row = try Self.row(try Self.fields(of: line, line: number), line: number)
            if let earlier = seen[row.division.code.rawValue] {
                guard earlier.division == row.division else {
                    throw .line(number, "code \(row.division.code) is also on line \(earlier.line) with other values")
                }
                continue
            }
            seen[row.division.code.rawValue] = row
            rows.append(row)
        }
        guard !rows.isEmpty else { throw .file("the CSV has a header but no divisions") }
        // Parents sort before their children, so inserting in code order satisfies the tree.
        self.rows = rows.sorted { $0.division.code < $1.division.code }
    }

    private static func row(_ fields: [String], line: Int) throws(DivisionImportError) -> Row {
        guard fields.count == 4 else {
            throw .line(line, "expected 4 fields (code,name,level,parent_code), found \(fields.count)")
        }
        let code: DivisionCode
        do {
            code = try DivisionCode(validating: fields[0])
        } catch {
            throw .line(line, "code \(error)")
        }
        let name = fields[1].trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty else { throw .line(line, "name is empty") }
        guard name.count <= maxNameLength else { throw .line(line, "name is longer than \(maxNameLength) characters") }
        guard !name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw .line(line, "name contains a control character")
        }
        guard let level = DivisionLevel(rawValue: fields[2]) else {
            throw .line(line, "level \"\(fields[2])\" is not one of city, county, township, village")
        }
        guard level == code.level else {
            throw .line(line, "level is \(level.rawValue) but code \(code) is a \(code.level.rawValue) code")
        }
        let expectedParent = code.parent?.rawValue ?? ""
        guard fields[3] == expectedParent else {
            let expected = expectedParent.isEmpty ? "empty (a city has no parent)" : expectedParent
            throw .line(line, "parent_code is \"\(fields[3])\" but the parent of \(code) is \(expected)")
        }
        return Row(line: line, division: Division(code: code, name: name))
    }

    /// Splits one line into fields (``CSVFields``).
    private static func fields(of line: Substring, line number: Int) throws(DivisionImportError) -> [String] {
        guard let fields = CSVFields.split(line) else { throw .line(number, "a quoted field is not closed") }
        return fields
    }
}

/// Why an import was refused; nothing of the file was applied.
public enum DivisionImportError: Error, Sendable, Equatable, CustomStringConvertible {
    case file(String)
    case line(Int, String)

    public var description: String {
        switch self {
        case .file(let problem): problem
        case let .line(line, problem): "line \(line): \(problem)"
        }
    }
}
