import Foundation

/// A statement parameter as sent to the server: a type OID and the value in PostgreSQL's
/// text input format, or `nil` for SQL NULL.
///
/// Parameters always travel separately from the SQL text (`PQexecParams`), so no input is
/// ever spliced into a statement.
public struct PostgresParameter: Sendable, Equatable {
    public let typeOID: UInt32
    public let text: String?

    public init(typeOID: UInt32, text: String?) {
        self.typeOID = typeOID
        self.text = text
    }
}

/// A Swift value that can be bound to a statement parameter.
public protocol PostgresEncodable: Sendable {
    var postgresParameter: PostgresParameter { get }
}

/// Type OIDs the layer encodes and decodes (`pg_type.oid`).
enum PostgresType {
    static let bool: UInt32 = 16
    static let bytea: UInt32 = 17
    static let char: UInt32 = 18
    static let name: UInt32 = 19
    static let int8: UInt32 = 20
    static let int2: UInt32 = 21
    static let int4: UInt32 = 23
    static let text: UInt32 = 25
    static let json: UInt32 = 114
    static let float4: UInt32 = 700
    static let float8: UInt32 = 701
    static let unknown: UInt32 = 705
    static let bpchar: UInt32 = 1042
    static let varchar: UInt32 = 1043
    static let timestamp: UInt32 = 1114
    static let timestamptz: UInt32 = 1184
    static let uuid: UInt32 = 2950
    static let jsonb: UInt32 = 3802
    static let int2Array: UInt32 = 1005
    static let int4Array: UInt32 = 1007
    static let textArray: UInt32 = 1009
    static let varcharArray: UInt32 = 1015
    static let int8Array: UInt32 = 1016
    /// `record[]`, what `ARRAY(SELECT ROW(...))` returns.
    static let recordArray: UInt32 = 2287
}

extension Int: PostgresEncodable {
    public var postgresParameter: PostgresParameter { .init(typeOID: PostgresType.int8, text: String(self)) }
}

extension Int64: PostgresEncodable {
    public var postgresParameter: PostgresParameter { .init(typeOID: PostgresType.int8, text: String(self)) }
}

extension Int32: PostgresEncodable {
    public var postgresParameter: PostgresParameter { .init(typeOID: PostgresType.int4, text: String(self)) }
}

extension String: PostgresEncodable {
    public var postgresParameter: PostgresParameter { .init(typeOID: PostgresType.text, text: self) }
}

extension Bool: PostgresEncodable {
    public var postgresParameter: PostgresParameter { .init(typeOID: PostgresType.bool, text: self ? "t" : "f") }
}

extension Double: PostgresEncodable {
    public var postgresParameter: PostgresParameter {
        let text: String
        if isNaN {
            text = "NaN"
        } else if isInfinite {
            text = self < 0 ? "-Infinity" : "Infinity"
        } else {
            text = String(self)
        }
        return .init(typeOID: PostgresType.float8, text: text)
    }
}

extension UUID: PostgresEncodable {
    public var postgresParameter: PostgresParameter { .init(typeOID: PostgresType.uuid, text: uuidString) }
}

extension Date {
    /// This moment as `timestamptz` stores it, to the microsecond: what a row written with it
    /// reads back as.
    public var atPostgresPrecision: Date {
        Date(timeIntervalSince1970: Double(Int64((timeIntervalSince1970 * 1_000_000).rounded())) / 1_000_000)
    }
}

extension Date: PostgresEncodable {
    /// Sent as microseconds in UTC, PostgreSQL's own precision.
    public var postgresParameter: PostgresParameter {
        let micros = Int64((timeIntervalSince1970 * 1_000_000).rounded())
        let seconds = micros.floorDivided(by: 1_000_000)
        let fraction = micros - seconds * 1_000_000
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        // Written digit by digit: String(format:) goes through NSString and was a visible
        // share of a write path's CPU.
        var text: [UInt8] = []
        text.reserveCapacity(29)
        func append(_ value: Int, width: Int, then separator: UInt8?) {
            var divisor = 1
            for _ in 1..<width { divisor *= 10 }
            var rest = value
            while divisor > 0 {
                text.append(UInt8(ascii: "0") + UInt8(rest / divisor % 10))
                rest %= divisor
                divisor /= 10
            }
            if let separator { text.append(separator) }
        }
        append(Int(parts.tm_year) + 1900, width: 4, then: UInt8(ascii: "-"))
        append(Int(parts.tm_mon) + 1, width: 2, then: UInt8(ascii: "-"))
        append(Int(parts.tm_mday), width: 2, then: UInt8(ascii: " "))
        append(Int(parts.tm_hour), width: 2, then: UInt8(ascii: ":"))
        append(Int(parts.tm_min), width: 2, then: UInt8(ascii: ":"))
        append(Int(parts.tm_sec), width: 2, then: UInt8(ascii: "."))
        append(Int(fraction), width: 6, then: UInt8(ascii: "+"))
        append(0, width: 2, then: nil)
        return .init(typeOID: PostgresType.timestamptz, text: String(decoding: text, as: UTF8.self))
    }
}

extension Data: PostgresEncodable {
    public var postgresParameter: PostgresParameter {
        let digits = Array("0123456789abcdef".utf8)
        var hex: [UInt8] = [UInt8(ascii: "\\"), UInt8(ascii: "x")]
        hex.reserveCapacity(2 + count * 2)
        for byte in self {
            hex.append(digits[Int(byte >> 4)])
            hex.append(digits[Int(byte & 0x0F)])
        }
        return .init(typeOID: PostgresType.bytea, text: String(decoding: hex, as: UTF8.self))
    }
}

extension Array: PostgresEncodable where Element == String {
    /// Sent as a `text[]` literal with every element quoted and escaped.
    public var postgresParameter: PostgresParameter {
        let elements = map { element -> String in
            var quoted = "\""
            for character in element {
                if character == "\"" || character == "\\" { quoted.append("\\") }
                quoted.append(character)
            }
            quoted.append("\"")
            return quoted
        }
        return .init(typeOID: PostgresType.textArray, text: "{" + elements.joined(separator: ",") + "}")
    }
}

extension Optional: PostgresEncodable where Wrapped: PostgresEncodable {
    public var postgresParameter: PostgresParameter {
        switch self {
        case .some(let value): value.postgresParameter
        case .none: .init(typeOID: 0, text: nil)
        }
    }
}

/// A JSON document stored in a `jsonb` column, kept as its text.
public struct PostgresJSON: PostgresEncodable, Hashable {
    public var text: String
    public init(_ text: String) { self.text = text }
    public var postgresParameter: PostgresParameter { .init(typeOID: PostgresType.jsonb, text: text) }
}

extension Int64 {
    fileprivate func floorDivided(by divisor: Int64) -> Int64 {
        let quotient = self / divisor
        return (self % divisor < 0) ? quotient - 1 : quotient
    }
}

/// One parameterised statement: SQL text with `$1`, `$2`, … and the values that fill them,
/// as pipelines and read-aheads take them.
public typealias PostgresStatement = (sql: String, parameters: [any PostgresEncodable])
