import Foundation

extension UUID {
    /// A version 4 (random) UUID drawn with `getrandom`.
    ///
    /// Foundation's `UUID()` on Linux opens, reads and closes `/dev/urandom` for every UUID:
    /// three system calls and a path lookup for each report, case, warning, delivery and
    /// event, visible in the services' profiles under a steady flow.
    public static func random() -> UUID {
        var generator = SystemRandomNumberGenerator()
        let high = generator.next()
        let low = generator.next()
        func byte(_ word: UInt64, _ index: Int) -> UInt8 { UInt8(truncatingIfNeeded: word >> (8 * index)) }
        return UUID(uuid: (
            byte(high, 0), byte(high, 1), byte(high, 2), byte(high, 3),
            byte(high, 4), byte(high, 5), byte(high, 6) & 0x0f | 0x40, byte(high, 7),
            byte(low, 0) & 0x3f | 0x80, byte(low, 1), byte(low, 2), byte(low, 3),
            byte(low, 4), byte(low, 5), byte(low, 6), byte(low, 7)
        ))
    }
}

extension Sequence<UInt8> {
    /// Lower-case hexadecimal, two digits a byte, written without `String(format:)`.
    public var hexadecimal: String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(underestimatedCount * 2)
        for byte in self {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}
