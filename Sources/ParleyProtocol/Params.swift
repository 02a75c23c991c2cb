import ParleyCore

/// Named parameters with typed accessors that name the field in every error.
///
/// Accessors record which keys were read; ``finish()`` refuses any key left over, so an
/// unknown or misspelled parameter is an error, never silently ignored.
///
/// The rule for errors (`schemas/protocol/README.md`, "Errors"): the shape of the params —
/// a member missing, unknown or of the wrong JSON type — is -32602 (`MissingParam`,
/// `UnknownParam`, `WrongType`); a value of the right type that the method does not accept —
/// outside its enum, out of range, negative, a malformed id — is `InvalidArgument` (-32001)
/// with `data.field` naming it, like every value the domain refuses.
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
            guard number >= 0 else { throw .invalidArgument(name(key), "must not be negative") }
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
            throw .invalidArgument(name(key), "must be between \(range.lowerBound) and \(range.upperBound)")
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

    /// A string that must be the raw value of one of `allowed` (by default every case):
    /// any other string, whether another case of `E` or none, is `InvalidArgument`.
    public mutating func optionalEnum<E: RawRepresentable & CaseIterable & Equatable>(
        _ key: String, _ type: E.Type, among allowed: [E] = Array(E.allCases)
    ) throws(ProtocolError) -> E? where E.RawValue == String {
        guard let raw = try optionalString(key) else { return nil }
        guard let value = E(rawValue: raw), allowed.contains(value) else {
            throw .invalidArgument(name(key), "must be one of " + allowed.map { "\"\($0.rawValue)\"" }.joined(separator: ", "))
        }
        return value
    }

    // MARK: Ids

    /// A required administrator-chosen id (agent, service, template): 1 to 64 characters of
    /// `A-Z a-z 0-9 . _ -` (``ParleyCore/Identifier``); anything else is `InvalidArgument`.
    public mutating func identifier(_ key: String) throws(ProtocolError) -> String {
        guard let value = try optionalIdentifier(key) else { throw .missingParam(name(key)) }
        return value
    }

    /// An optional administrator-chosen id (see ``identifier(_:)``).
    public mutating func optionalIdentifier(_ key: String) throws(ProtocolError) -> String? {
        guard let value = try optionalString(key) else { return nil }
        try Self.checkIdentifier(value, field: name(key))
        return value
    }

    /// An optional array of administrator-chosen ids; a bad element is named `key[index]`.
    public mutating func optionalIdentifiers(_ key: String) throws(ProtocolError) -> [String]? {
        guard let values = try optionalStrings(key) else { return nil }
        for (index, value) in values.enumerated() { try Self.checkIdentifier(value, field: "\(name(key))[\(index)]") }
        return values
    }

    /// A required server-assigned id (conversation, message): 1 to 256 UTF-8 bytes
    /// (`Limits.reference`); an empty or longer one is `InvalidArgument`.
    public mutating func serverId(_ key: String) throws(ProtocolError) -> String {
        guard let value = try optionalServerId(key) else { throw .missingParam(name(key)) }
        return value
    }

    /// An optional server-assigned id (see ``serverId(_:)``).
    public mutating func optionalServerId(_ key: String) throws(ProtocolError) -> String? {
        guard let value = try optionalString(key) else { return nil }
        do { try Rejection.checkKey(value, field: name(key)) } catch { throw .rejected(error) }
        return value
    }

    private static func checkIdentifier(_ value: String, field: String) throws(ProtocolError) {
        do { try Rejection.checkIdentifier(value, field: field) } catch { throw .rejected(error) }
    }

    /// Refuses any parameter no accessor asked for.
    public func finish() throws(ProtocolError) {
        if let unknown = values.keys.filter({ !used.contains($0) }).sorted().first {
            throw .unknownParam(name(unknown))
        }
    }
}
