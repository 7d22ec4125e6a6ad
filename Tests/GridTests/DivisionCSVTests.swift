@testable import GridService
import Testing

/// The divisions file grid-service ships and loads: the real tree of Changde, and every bad
/// row named by its line.
@Suite("divisions CSV")
struct DivisionCSVTests {
    @Test func shippedCSVIsTheRealChangdeTree() throws {
        let file = try DivisionCSV(parsing: try GridApp.bundledDivisionsCSV())
        let levels = Dictionary(grouping: file.rows, by: \.division.level).mapValues(\.count)
        #expect(levels == [.city: 1, .county: 10, .township: 178])
        #expect(file.rows.contains { $0.division.name == "白衣镇" && $0.division.code.parent?.rawValue == "430781000000" })
    }

    @Test func badRowsAreNamedByLine() {
        let header = "code,name,level,parent_code\n"
        let cases: [(String, String)] = [
            (header + "430723100201,村,village,430723100000\n43072310020x,村,village,430723100000\n", "line 3: code"),
            (header + "430723100201,村,township,430723100000\n", "line 2: level is township"),
            (header + "430723100201,村,village,430723000000\n", "line 2: parent_code"),
            (header + "430723100201,,village,430723100000\n", "line 2: name is empty"),
            (header + "430723100201,村,village\n", "line 2: expected 4 fields"),
            ("code,name\n430723100201,村\n", "line 1: the header"),
            (header + "430723100201,甲村,village,430723100000\n430723100201,乙村,village,430723100000\n", "line 3: code 430723100201 is also on line 2"),
            ("", "empty"),
        ]
        for (text, expected) in cases {
            #expect { try DivisionCSV(parsing: text) } throws: { error in
                "\(error)".contains(expected)
            }
        }
    }

    @Test func quotedFieldsAndWindowsLineEndingsAreRead() throws {
        let file = try DivisionCSV(parsing: "\u{FEFF}code,name,level,parent_code\r\n430723100201,\"村, \"\"新\"\"\",village,430723100000\r\n")
        #expect(file.rows.map(\.division.name) == ["村, \"新\""])
    }
}
