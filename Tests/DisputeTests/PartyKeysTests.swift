import Foundation
@testable import DisputeService
import Testing

/// The keyed hashes dispute-service tells risk-service its parties by (issue 28): one person
/// however the phone or the name was spelt, another under another secret, and never the
/// plain number.
@Suite("party keys")
struct PartyKeysTests {
    let keys = PartyKeys(secret: Array("a-party-key-secret-of-at-least-32-bytes".utf8))

    func party(_ name: String, _ phone: String) -> Party { Party(name: name, phone: phone, minor: false) }

    @Test func spacesDashesAndTheCountryCodeMakeOnePhone() {
        let spellings = ["13907361234", "139 0736 1234", "139-0736-1234", "+86 139 0736 1234", "+8613907361234", "008613907361234", "8613907361234", "１３９０７３６１２３４"]
        let made = Set(spellings.map { keys.keys(of: [party("王建国", $0)]) })
        #expect(made.count == 1)
        #expect(made.first?.count == 2)
        #expect(PartyKeys.normalisedPhone("+86 139 0736 1234") == "13907361234")
        // A landline keeps its area code's 0; eleven digits starting 86 are not a country code.
        #expect(PartyKeys.normalisedPhone("0736-7221234") == "07367221234")
        #expect(PartyKeys.normalisedPhone("86123456789") == "86123456789")
    }

    @Test func aSpacedOrDottedNameIsTheSameNameAndAnotherNameOnlySharesThePhone() {
        let one = keys.keys(of: [party("王建国", "13907361234")])
        #expect(keys.keys(of: [party(" 王 建国 ", "13907361234")]) == one)
        #expect(PartyKeys.normalisedName("阿依古丽·买买提") == PartyKeys.normalisedName("阿依古丽 买买提"))
        let other = keys.keys(of: [party("王建军", "13907361234")])
        #expect(Set(one).intersection(other).map { $0.split(separator: ":")[0] } == ["phone"])
    }

    @Test func keysAreKeyedHexAndNeverThePlainNumber() {
        let made = keys.keys(of: [party("王建国", "13907361234"), party("李四", "")])
        #expect(made.count == 2)
        #expect(made.allSatisfy { $0.wholeMatch(of: /(name_phone|phone):[0-9a-f]{64}/) != nil })
        #expect(!made.joined().contains("13907361234"))
        let elsewhere = PartyKeys(secret: Array("another-secret-entirely-32-bytes-long".utf8))
        #expect(Set(elsewhere.keys(of: [party("王建国", "13907361234")])).isDisjoint(with: made))
        // Without a phone there is nothing to match a person by.
        #expect(keys.keys(of: [party("李四", "")]).isEmpty)
    }
}
