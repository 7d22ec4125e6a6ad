@testable import GridService
import PinganAccess
import PinganDomain
import Testing

@Suite("division codes")
struct DivisionCodeTests {
    @Test(arguments: [
        ("430700000000", DivisionLevel.city, nil),
        ("430723000000", .county, "430700000000"),
        ("430723100000", .township, "430723000000"),
        ("430723100201", .village, "430723100000"),
    ] as [(String, DivisionLevel, String?)])
    func levelAndParentFollowFromTheCode(code: String, level: DivisionLevel, parent: String?) throws {
        let parsed = try DivisionCode(validating: code)
        #expect(parsed.level == level)
        #expect(parsed.parent?.rawValue == parent)
    }

    @Test(arguments: ["", "4307", "43070000000a", "4307000000000", "430000000000", "430700100000", "430700000201", " 430700000000"])
    func malformedCodesAreRefused(code: String) {
        #expect(throws: DivisionCodeError.self) { try DivisionCode(validating: code) }
    }

    @Test func subtreeIsOneCodeRange() throws {
        let county = try DivisionCode(validating: "430723000000")
        #expect(county.lastInSubtree == "430723999999")
        #expect(county.contains(try DivisionCode(validating: "430723100201")))
        #expect(!county.contains(try DivisionCode(validating: "430724100000")))
        let township = try DivisionCode(validating: "430723100000")
        #expect(township.lastInSubtree == "430723100999")
        #expect(!township.contains(try DivisionCode(validating: "430723101000")))
    }

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
