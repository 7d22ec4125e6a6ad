import PinganDomain

/// A JSON object written member by member, its keys in alphabetical order whatever the order
/// they were added in: the bodies notify sends are small and fixed, and their bytes are part
/// of the contract (receivers check a signature over them, and the same bytes go on every
/// retry).
///
/// Why not Foundation:
/// - `JSONSerialization` with sorted keys compares the keys through the locale; measured under
///   a steady flow of warnings it was a large share of notify-service's CPU.
/// - `JSONEncoder` with `.sortedKeys` costs about the same as this type, but writes backspace
///   and form feed as `\b` and `\f` where Pingan has always written `\u0008` and `\u000c`,
///   so a body holding them would change.
///
/// Strings are escaped as ``string(_:)`` says; everything else is passed through as UTF-8.
struct JSONObjectText {
    private var members: [(key: String, value: [UInt8])] = []

    mutating func add(_ key: String, _ value: String) {
        members.append((key, Self.string(value)))
    }

    mutating func add(_ key: String, _ value: Int) {
        members.append((key, Array(String(value).utf8)))
    }

    mutating func add(_ key: String, _ values: [String]) {
        members.append((key, Array("[".utf8) + Array(values.map(Self.string).joined(separator: Array(",".utf8))) + Array("]".utf8)))
    }

    mutating func add(_ key: String, objects: [JSONObjectText]) {
        members.append((key, Array("[".utf8) + Array(objects.map { Array($0.text.utf8) }.joined(separator: Array(",".utf8))) + Array("]".utf8)))
    }

    mutating func add(_ key: String, object: JSONObjectText) {
        members.append((key, Array(object.text.utf8)))
    }

    var text: String {
        let sorted = members.sorted { $0.key < $1.key }.map { Self.string($0.key) + Array(":".utf8) + $0.value }
        return String(decoding: Array("{".utf8) + Array(sorted.joined(separator: Array(",".utf8))) + Array("}".utf8), as: UTF8.self)
    }

    /// A JSON string: quotes and backslashes escaped, newline, carriage return and tab as
    /// `\n`, `\r`, `\t`, every other control character as `\u00XX`, the rest as UTF-8.
    static func string(_ value: String) -> [UInt8] {
        var bytes: [UInt8] = [UInt8(ascii: "\"")]
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\""): bytes += [UInt8(ascii: "\\"), UInt8(ascii: "\"")]
            case UInt8(ascii: "\\"): bytes += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
            case UInt8(ascii: "\n"): bytes += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
            case UInt8(ascii: "\r"): bytes += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
            case UInt8(ascii: "\t"): bytes += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
            case 0..<0x20: bytes += Array("\\u00\([byte].hexadecimal)".utf8)
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
        return bytes
    }
}
