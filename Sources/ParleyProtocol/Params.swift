/// Named parameters with typed accessors that name the field in every error.
///
/// Accessors record which keys were read; ``finish()`` refuses any key left over, so an
/// unknown or misspelled parameter is an error, never silently ignored.
public struct Params: Sendable {
    private let values: [String: JSONValue]
    private let prefix: String
    private var used: Set<String> = []

    /// Wraps a parameter object; `prefix` names nested objects in errors (`call.`).
    public init(_ values: [String: JSONValue], prefix: String = "") {
        self.values = values
        self.prefix = prefix
    }

    private func name(_ key: String) -> String { prefix + key }

    private mutating func value(_ key: String) -> JSONValue? {
        used.insert(key)
        guard let value = values[key], value != .null else { return nil }
        return value
    }

    /// A required string.
    public mutating func string(_ key: String) throws(ProtocolError) -> String {
        guard let value = try optionalString(key) else { throw .missingParam(name(key)) }
        return value
    }

    /// An optional string.
    public mutating func optionalString(_ key: String) throws(ProtocolError) -> String? {
        switch value(key) {
        case nil: return nil
        case .string(let text): return text
        case .some(let other): throw .wrongType(name(key), expected: "a string", found: other.typeName)
        }
    }

    /// An optional boolean.
    public mutating func optionalBool(_ key: String) throws(ProtocolError) -> Bool? {
        switch value(key) {
        case nil: return nil
        case .bool(let flag): return flag
        case .some(let other): throw .wrongType(name(key), expected: "true or false", found: other.typeName)
        }
    }

    /// A boolean with a default.
    public mutating func bool(_ key: String, default fallback: Bool) throws(ProtocolError) -> Bool {
        try optionalBool(key) ?? fallback
    }

    /// An optional non-negative integer.
    public mutating func optionalUInt64(_ key: String) throws(ProtocolError) -> UInt64? {
        switch value(key) {
        case nil: return nil
        case .integer(let number):
            guard number >= 0 else { throw .invalidParam(name(key), "must not be negative") }
            return UInt64(number)
        case .some(let other): throw .wrongType(name(key), expected: "a non-negative integer", found: other.typeName)
        }
    }

    /// A required non-negative integer.
    public mutating func uint64(_ key: String) throws(ProtocolError) -> UInt64 {
        guard let value = try optionalUInt64(key) else { throw .missingParam(name(key)) }
        return value
    }

    /// An optional integer in `range`.
    public mutating func optionalInt(_ key: String, in range: ClosedRange<Int>) throws(ProtocolError) -> Int? {
        guard let value = try optionalUInt64(key) else { return nil }
        guard value <= UInt64(range.upperBound), Int(value) >= range.lowerBound else {
            throw .invalidParam(name(key), "must be between \(range.lowerBound) and \(range.upperBound)")
        }
        return Int(value)
    }

    /// An optional array of strings.
    public mutating func optionalStrings(_ key: String) throws(ProtocolError) -> [String]? {
        switch value(key) {
        case nil: return nil
        case .array(let items):
            var result: [String] = []
            for (index, item) in items.enumerated() {
                guard case .string(let text) = item else {
                    throw .wrongType("\(name(key))[\(index)]", expected: "a string", found: item.typeName)
                }
                result.append(text)
            }
            return result
        case .some(let other): throw .wrongType(name(key), expected: "an array of strings", found: other.typeName)
        }
    }

    /// An optional array of integers.
    public mutating func optionalIntegers(_ key: String) throws(ProtocolError) -> [Int64]? {
        switch value(key) {
        case nil: return nil
        case .array(let items):
            var result: [Int64] = []
            for (index, item) in items.enumerated() {
                guard case .integer(let number) = item else {
                    throw .wrongType("\(name(key))[\(index)]", expected: "an integer", found: item.typeName)
                }
                result.append(number)
            }
            return result
        case .some(let other): throw .wrongType(name(key), expected: "an array of integers", found: other.typeName)
        }
    }

    /// An optional nested object, as its own ``Params``.
    public mutating func optionalObject(_ key: String) throws(ProtocolError) -> Params? {
        switch value(key) {
        case nil: return nil
        case .object(let object): return Params(object, prefix: name(key) + ".")
        case .some(let other): throw .wrongType(name(key), expected: "an object", found: other.typeName)
        }
    }

    /// An optional array of nested objects.
    public mutating func optionalObjects(_ key: String) throws(ProtocolError) -> [Params]? {
        switch value(key) {
        case nil: return nil
        case .array(let items):
            var result: [Params] = []
            for (index, item) in items.enumerated() {
                guard case .object(let object) = item else {
                    throw .wrongType("\(name(key))[\(index)]", expected: "an object", found: item.typeName)
                }
                result.append(Params(object, prefix: "\(name(key))[\(index)]."))
            }
            return result
        case .some(let other): throw .wrongType(name(key), expected: "an array of objects", found: other.typeName)
        }
    }

    /// A string that must be one of an enum's raw values.
    public mutating func optionalEnum<E: RawRepresentable & CaseIterable>(_ key: String, _ type: E.Type) throws(ProtocolError) -> E?
    where E.RawValue == String {
        guard let raw = try optionalString(key) else { return nil }
        guard let value = E(rawValue: raw) else {
            throw .invalidParam(name(key), "must be one of " + E.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", "))
        }
        return value
    }

    /// Refuses any parameter no accessor asked for.
    public func finish() throws(ProtocolError) {
        if let unknown = values.keys.filter({ !used.contains($0) }).sorted().first {
            throw .unknownParam(name(unknown))
        }
    }
}
