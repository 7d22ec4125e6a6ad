/// Masking of personal data in responses: enough for staff to recognise a record, not
/// enough to identify a person from it.
public enum Masking {
    /// 张三丰 → 张**; a one-character name is fully masked.
    public static func name(_ name: String) -> String {
        guard let first = name.first, name.count > 1 else { return name.isEmpty ? "" : "*" }
        return String(first) + String(repeating: "*", count: name.count - 1)
    }

    /// 13812345678 → 138****5678; short numbers are fully masked.
    public static func phone(_ phone: String) -> String {
        guard phone.count >= 7 else { return String(repeating: "*", count: phone.count) }
        return String(phone.prefix(3)) + String(repeating: "*", count: phone.count - 7) + String(phone.suffix(4))
    }
}
