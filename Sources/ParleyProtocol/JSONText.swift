import ParleyCore

/// Small helpers for writing and checking JSON text.
public enum JSONText {
    /// The deepest nesting of arrays and objects in `bytes`, ignoring brackets inside strings.
    public static func depth(of bytes: [UInt8]) -> Int {
        var depth = 0
        var deepest = 0
        var inString = false
        var escaped = false
        for byte in bytes {
            if inString {
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                depth += 1
                deepest = max(deepest, depth)
            case UInt8(ascii: "]"), UInt8(ascii: "}"): depth -= 1
            default: break
            }
        }
        return deepest
    }

    /// A JSON string literal for `text`, escaped as every other string Parley writes
    /// (``CompactJSONEncoder/quote(_:)``).
    public static func quote(_ text: String) -> String { CompactJSONEncoder.quote(text) }
}
