import Foundation
import PinganDomain
import Testing

@Suite("identifiers and hexadecimal without Foundation's per-call costs")
struct RandomUUIDTests {
    @Test("UUID.random is version 4, RFC 4122 variant, and does not repeat")
    func versionAndVariant() {
        let ids = (0..<10_000).map { _ in UUID.random() }
        #expect(Set(ids).count == ids.count)
        for id in ids.prefix(500) {
            let text = id.uuidString
            #expect(Array(text)[14] == "4", "version nibble of \(text)")
            #expect("89AB".contains(Array(text)[19]), "variant of \(text)")
        }
        // Every other bit varies: the or of all ids and the and of all ids differ outside
        // the version and variant bits.
        let bytes = ids.map { id in withUnsafeBytes(of: id.uuid) { Array($0) } }
        let anySet = bytes.reduce(Array(repeating: UInt8(0), count: 16)) { zip($0, $1).map { $0 | $1 } }
        let allSet = bytes.reduce(Array(repeating: UInt8(0xff), count: 16)) { zip($0, $1).map { $0 & $1 } }
        #expect(anySet == [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x4f, 0xff, 0xbf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])
        #expect(allSet == [0, 0, 0, 0, 0, 0, 0x40, 0, 0x80, 0, 0, 0, 0, 0, 0, 0])
    }

    @Test("hexadecimal matches String(format: \"%02x\") for every byte")
    func hexadecimal() {
        let bytes = (0...255).map(UInt8.init)
        #expect(bytes.hexadecimal == bytes.map { String(format: "%02x", $0) }.joined())
        #expect([UInt8]().hexadecimal == "")
    }
}
