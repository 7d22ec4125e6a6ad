/// A mainland mobile number as residents write it (+86 138 1234 5678, 0086-138…), kept as its
/// 11 digits, so the same phone is the same phone however it was typed.
public struct MobilePhone: Sendable, Hashable, CustomStringConvertible {
    public let digits: String

    /// `nil` for anything that is not 11 digits starting with 1 once spaces, hyphens and a
    /// +86, 0086 or 86 prefix are dropped.
    public init?(normalising text: String) {
        var kept = text.filter { !$0.isWhitespace && $0 != "-" }
        if kept.hasPrefix("+86") { kept.removeFirst(3) } else if kept.hasPrefix("0086") { kept.removeFirst(4) } else if kept.count == 13, kept.hasPrefix("86") { kept.removeFirst(2) }
        guard kept.count == 11, kept.first == "1", kept.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        digits = kept
    }

    /// 138****5678.
    public var masked: String { Masking.phone(digits) }

    public var description: String { masked }

    public static let problem = "must be a mobile number of 11 digits starting with 1 (+86, spaces and hyphens allowed)"
}
