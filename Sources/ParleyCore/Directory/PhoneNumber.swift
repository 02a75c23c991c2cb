/// E.164 telephone numbers: `+`, a country code that does not start with 0, at most 15 digits in all.
public enum PhoneNumber {
    /// Whether `text` is a valid E.164 number such as `+14155550100`.
    public static func isValid(_ text: String) -> Bool {
        let utf8 = text.utf8
        guard utf8.count >= 3, utf8.count <= 16, utf8.first == UInt8(ascii: "+") else { return false }
        var digits = 0
        for byte in utf8.dropFirst() {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return false }
            if digits == 0, byte == UInt8(ascii: "0") { return false }
            digits += 1
        }
        return digits >= 2
    }
}

/// Identifiers chosen by administrators (agents, services, templates).
public enum Identifier {
    /// Whether `text` is 1–64 characters of `A-Z a-z 0-9 . _ -`.
    public static func isValid(_ text: String) -> Bool {
        let utf8 = text.utf8
        guard !utf8.isEmpty, utf8.count <= 64 else { return false }
        return utf8.allSatisfy { byte in
            (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
                || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
                || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
                || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
        }
    }
}
