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
}
