import Foundation

/// One of the four centre levels; the level of a division follows from its code.
public enum DivisionLevel: String, Sendable, CaseIterable, Comparable, Codable {
    case city, county, township, village

    /// Digits of the code that identify a division at this level (the rest are zero).
    public var prefixLength: Int {
        switch self {
        case .city: 4
        case .county: 6
        case .township: 9
        case .village: 12
        }
    }

    public static func < (lhs: DivisionLevel, rhs: DivisionLevel) -> Bool {
        lhs.prefixLength < rhs.prefixLength
    }
}

/// A 12-digit statistical division code (统计用区划代码): `PPCCDDTTTVVV`, province, city,
/// county, township, village.
///
/// Codes nest by prefix, so the subtree of a division is one contiguous range of codes and
/// "everything under this county" is a single index range scan.
public struct DivisionCode: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let rawValue: String
    public let level: DivisionLevel

    /// Validates `text`; the error says what is wrong with it.
    public init(validating text: String) throws(DivisionCodeError) {
        let digits = Array(text.utf8)
        guard digits.count == 12, digits.allSatisfy({ (48...57).contains($0) }) else {
            throw .malformed(text, "must be exactly 12 digits")
        }
        func isZero(_ range: Range<Int>) -> Bool { digits[range].allSatisfy { $0 == 48 } }
        if isZero(2..<4) {
            throw .malformed(text, "province-level codes (city digits 00) are not served; use a city code such as 430700000000")
        }
        if !isZero(9..<12) {
            guard !isZero(6..<9), !isZero(4..<6) else { throw .malformed(text, "a village code needs non-zero county and township digits") }
            level = .village
        } else if !isZero(6..<9) {
            guard !isZero(4..<6) else { throw .malformed(text, "a township code needs non-zero county digits") }
            level = .township
        } else if !isZero(4..<6) {
            level = .county
        } else {
            level = .city
        }
        rawValue = text
    }

    /// The division one level up; `nil` for a city, the root of a deployment.
    public var parent: DivisionCode? {
        let parentLevel: DivisionLevel
        switch level {
        case .city: return nil
        case .county: parentLevel = .city
        case .township: parentLevel = .county
        case .village: parentLevel = .township
        }
        return DivisionCode(trusted: Self.padded(rawValue.prefix(parentLevel.prefixLength), with: "0"), level: parentLevel)
    }

    /// The centre that owns what happens in this division: a village's township (or street),
    /// which the seed's centres warn and which coordinates its cases; any other division itself.
    public var owningCentre: DivisionCode {
        level == .village ? (parent ?? self) : self
    }

    /// This division and every one above it, up to the city: the centres that see it.
    public var selfAndAncestors: [DivisionCode] {
        var codes = [self]
        while let parent = codes[codes.count - 1].parent { codes.append(parent) }
        return codes
    }

    /// The county this division is or lies in; `nil` for the city. A county that runs its own
    /// platform owns every record under it.
    public var county: DivisionCode? {
        selfAndAncestors.first { $0.level == .county }
    }

    /// The largest code inside this division's subtree; the subtree is `self...lastInSubtree`.
    public var lastInSubtree: String {
        Self.padded(rawValue.prefix(level.prefixLength), with: "9")
    }

    /// True if `other` is this division or lies anywhere below it.
    public func contains(_ other: DivisionCode) -> Bool {
        other.rawValue.hasPrefix(rawValue.prefix(level.prefixLength))
    }

    /// `prefix` filled out to twelve digits with `digit` (NSString's padding was a visible
    /// share of the jurisdiction checks every call makes).
    private static func padded(_ prefix: Substring, with digit: Character) -> String {
        String(prefix) + String(repeating: digit, count: max(0, 12 - prefix.count))
    }

    private init(trusted rawValue: String, level: DivisionLevel) {
        self.rawValue = rawValue
        self.level = level
    }

    public var description: String { rawValue }

    public static func < (lhs: DivisionCode, rhs: DivisionCode) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// Why a string is not a usable division code.
public enum DivisionCodeError: Error, Sendable, Equatable, CustomStringConvertible {
    case malformed(String, String)

    public var description: String {
        switch self {
        case let .malformed(text, reason): "\"\(text)\" is not a division code: \(reason)"
        }
    }
}

extension DivisionCode: Codable {
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        do {
            self = try DivisionCode(validating: text)
        } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.description))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}
