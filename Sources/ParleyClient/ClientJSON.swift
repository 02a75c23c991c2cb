import Foundation

/// Reading loosely typed JSON values from `JSONSerialization`.
public enum ClientJSON {
    /// Parses one JSON object.
    public static func object(_ text: String) throws(ClientError) -> [String: Any] {
        let parsed: Any
        do {
            parsed = try JSONSerialization.jsonObject(with: Data(text.utf8), options: [])
        } catch {
            throw .connection("the server sent a line that is not JSON: \(text.prefix(200))")
        }
        guard let object = parsed as? [String: Any] else {
            throw .connection("the server sent a line that is not a JSON object: \(text.prefix(200))")
        }
        return object
    }

    /// Parses a JSON value given on the command line.
    public static func value(_ text: String) -> Any? {
        try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
    }

    /// One compact line with sorted keys.
    public static func compact(_ value: Any) -> String {
        guard
            let data = try? JSONSerialization.data(
                withJSONObject: value, options: [.sortedKeys, .withoutEscapingSlashes, .fragmentsAllowed]
            )
        else { return "null" }
        return String(decoding: data, as: UTF8.self)
    }

    public static func int(_ value: Any?) -> Int? {
        if let n = value as? NSNumber { return isBool(n) ? nil : Int(exactly: n.int64Value) }
        return value as? Int
    }

    public static func uint64(_ value: Any?) -> UInt64? {
        if let n = value as? NSNumber {
            if isBool(n) { return nil }
            return String(cString: n.objCType) == "Q" ? n.uint64Value : (n.int64Value >= 0 ? UInt64(n.int64Value) : nil)
        }
        return value as? UInt64
    }

    public static func bool(_ value: Any?) -> Bool? {
        if let n = value as? NSNumber { return isBool(n) ? n.boolValue : nil }
        return value as? Bool
    }

    public static func string(_ value: Any?) -> String? { value as? String }

    public static func objects(_ value: Any?) -> [[String: Any]] { value as? [[String: Any]] ?? [] }

    /// Whether a parsed number is a JSON `true`/`false` (Foundation boxes those as char-typed numbers).
    private static func isBool(_ n: NSNumber) -> Bool {
        String(cString: n.objCType) == "c"
    }
}
