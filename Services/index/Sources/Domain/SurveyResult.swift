import PinganDomain

/// A public-opinion survey's result for one division in one month (群众满意度测评).
struct SurveyResult: Sendable, Equatable {
    let code: DivisionCode
    let respondents: Int
    let satisfied: Int

    static let header = "division_code,respondents,satisfied"
    static let maxRows = 20_000

    /// Parses the CSV a deployment loads: the header, then one row per division. The first
    /// bad line is named with what is wrong.
    static func parse(csv: String) throws(FieldProblem) -> [SurveyResult] {
        var lines = csv.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
        while lines.last?.isEmpty == true { lines.removeLast() }
        guard let first = lines.first?.replacingOccurrences(of: "\u{FEFF}", with: ""), first == header else {
            throw FieldProblem(field: "csv", problem: "must start with the header \(header)")
        }
        guard lines.count > 1 else { throw FieldProblem(field: "csv", problem: "has no rows") }
        guard lines.count - 1 <= maxRows else { throw FieldProblem(field: "csv", problem: "has more than \(maxRows) rows") }
        var seen: Set<DivisionCode> = []
        return try lines.dropFirst().enumerated().map { (offset, line) throws(FieldProblem) -> SurveyResult in
            let number = offset + 2
            let cells = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count == 3 else { throw FieldProblem(field: "csv", problem: "line \(number): needs 3 cells, has \(cells.count)") }
            let code: DivisionCode
            do {
                code = try DivisionCode(validating: cells[0])
            } catch {
                throw FieldProblem(field: "csv", problem: "line \(number): division_code \(error)")
            }
            guard let respondents = Int(cells[1]), (1...1_000_000).contains(respondents) else {
                throw FieldProblem(field: "csv", problem: "line \(number): respondents must be a whole number from 1 to 1000000")
            }
            guard let satisfied = Int(cells[2]), (0...respondents).contains(satisfied) else {
                throw FieldProblem(field: "csv", problem: "line \(number): satisfied must be a whole number from 0 to respondents (\(respondents))")
            }
            guard seen.insert(code).inserted else { throw FieldProblem(field: "csv", problem: "line \(number): \(code) appears twice") }
            return SurveyResult(code: code, respondents: respondents, satisfied: satisfied)
        }
    }
}
