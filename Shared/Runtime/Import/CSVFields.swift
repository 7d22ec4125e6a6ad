/// The fields of one CSV line, honouring double quotes as RFC 4180 does (a quoted field may
/// hold commas, and `""` is one quote), for the imports that take CSV.
public enum CSVFields {
    /// The fields; `nil` when a quoted field is not closed on the line.
    public static func split(_ line: some StringProtocol) -> [String]? {
        var fields: [String] = []
        var current = ""
        var quoted = false
        var index = line.startIndex
        while index < line.endIndex {
            let character = line[index]
            if quoted {
                if character == "\"" {
                    let next = line.index(after: index)
                    if next < line.endIndex, line[next] == "\"" {
                        current.append("\"")
                        index = next
                    } else {
                        quoted = false
                    }
                } else {
                    current.append(character)
                }
            } else if character == "\"", current.isEmpty {
                quoted = true
            } else if character == "," {
                fields.append(current)
                current = ""
            } else {
                current.append(character)
            }
            index = line.index(after: index)
        }
        guard !quoted else { return nil }
        fields.append(current)
        return fields
    }
}
