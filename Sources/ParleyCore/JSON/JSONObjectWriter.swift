/// Writes one JSON object straight into bytes, member by member, for the answers built on
/// every request where ``CompactJSONEncoder``'s tree would cost more than the answer itself.
///
/// The text is the one ``CompactJSONEncoder`` writes for the same members: compact, strings
/// escaped by the same function, optional members left out when `nil`. Members must be written
/// in the byte order of their keys, as the encoder sorts them (checked in debug builds).
///
/// ```swift
/// var object = JSONObjectWriter()
/// object.integer("position", 42)
/// object.bool("replayed", false)
/// let text = object.finish()   // {"position":42,"replayed":false}
/// ```
public struct JSONObjectWriter {
    private var bytes: [UInt8]
    private var empty = true
    #if DEBUG
        private var lastKey: [UInt8] = []
    #endif

    /// Starts an object after `prefix` (bytes already written, e.g. an envelope's opening).
    public init(after prefix: [UInt8] = [], capacity: Int = 256) {
        bytes = prefix
        if bytes.capacity < prefix.count + 16 { bytes.reserveCapacity(Swift.max(capacity, prefix.count + 16)) }
        bytes.append(UInt8(ascii: "{"))
    }

    /// Takes over `bytes` (leaving them empty, without copying them) and opens an object at
    /// their end; ``finish()`` hands them back with the object appended.
    public init(continuing bytes: inout [UInt8]) {
        self.bytes = []
        swap(&self.bytes, &bytes)
        self.bytes.append(UInt8(ascii: "{"))
    }

    /// Writes `"key":"value"`, escaped; nothing when `value` is `nil`.
    public mutating func string(_ key: StaticString, _ value: String?) {
        guard let value else { return }
        self.key(key)
        JSONNode.writeQuoted(value, to: &bytes)
    }

    /// Writes `"key":value` for an integer; nothing when `value` is `nil`.
    public mutating func integer<T: BinaryInteger>(_ key: StaticString, _ value: T?) {
        guard let value else { return }
        self.key(key)
        Self.writeInteger(value, to: &bytes)
    }

    /// Writes `"key":true` or `"key":false`.
    public mutating func bool(_ key: StaticString, _ value: Bool) {
        self.key(key)
        bytes.append(contentsOf: (value ? "true" : "false").utf8)
    }

    /// Writes `"key":"…"` from valid UTF-8 bytes, escaped; nothing when `utf8` is `nil`.
    public mutating func string(_ key: StaticString, utf8: UnsafeRawBufferPointer?) {
        guard let utf8 else { return }
        self.key(key)
        JSONNode.writeQuoted(utf8: utf8, to: &bytes)
    }

    /// Writes `"key":"…"` with `value`'s bytes as lowercase hexadecimal digits.
    public mutating func hex(_ key: StaticString, _ value: UnsafeRawBufferPointer) {
        self.key(key)
        bytes.append(UInt8(ascii: "\""))
        for byte in value {
            bytes.append(JSONNode.hexDigit(byte >> 4))
            bytes.append(JSONNode.hexDigit(byte & 0x0F))
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// Writes `"key":[…]` with one element per `count`, each written by `element` into the bytes.
    public mutating func array<E: Error>(_ key: StaticString, count: Int, _ element: (inout [UInt8], Int) throws(E) -> Void)
        throws(E)
    {
        self.key(key)
        bytes.append(UInt8(ascii: "["))
        for index in 0..<count {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            try element(&bytes, index)
        }
        bytes.append(UInt8(ascii: "]"))
    }

    /// Writes `"key":{…}`, the nested object filled by `members` (which may fail, or not: then
    /// the call needs no `try`).
    public mutating func object<E: Error>(_ key: StaticString, _ members: (inout JSONObjectWriter) throws(E) -> Void)
        throws(E)
    {
        self.key(key)
        var nested = JSONObjectWriter(continuing: &bytes)
        do {
            try members(&nested)
        } catch {
            bytes = nested.finish()
            throw error
        }
        bytes = nested.finish()
    }

    /// Writes `"key":"raw value"` of a string-backed enum.
    public mutating func string<E: RawRepresentable>(_ key: StaticString, _ value: E) where E.RawValue == String {
        string(key, value.rawValue)
    }

    /// Writes `"key":["…",…]`, each string escaped.
    public mutating func strings(_ key: StaticString, _ values: [String]) {
        self.key(key)
        bytes.append(UInt8(ascii: "["))
        for (index, value) in values.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            JSONNode.writeQuoted(value, to: &bytes)
        }
        bytes.append(UInt8(ascii: "]"))
    }

    /// Writes `"key":[…]` with one object per element, each filled by `member`.
    public mutating func objects<S: Sequence>(
        _ key: StaticString, _ elements: S, _ member: (inout JSONObjectWriter, S.Element) -> Void
    ) {
        self.key(key)
        bytes.append(UInt8(ascii: "["))
        var first = true
        for element in elements {
            if !first { bytes.append(UInt8(ascii: ",")) }
            first = false
            var nested = JSONObjectWriter(continuing: &bytes)
            member(&nested, element)
            bytes = nested.finish()
        }
        bytes.append(UInt8(ascii: "]"))
    }

    /// Appends the decimal digits of `value` (with `-` when negative), as JSON writes integers.
    public static func writeInteger<T: BinaryInteger>(_ value: T, to bytes: inout [UInt8]) {
        guard var magnitude = UInt64(exactly: value.magnitude) else {
            bytes.append(contentsOf: String(value).utf8)
            return
        }
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        let start = bytes.count
        repeat {
            bytes.append(UInt8(ascii: "0") + UInt8(magnitude % 10))
            magnitude /= 10
        } while magnitude > 0
        bytes[start...].reverse()
    }

    /// Closes the object; returns everything written, prefix included, and leaves the writer
    /// empty. (Mutating rather than consuming: a consumed copy would share the buffer, and
    /// closing it would copy everything written so far.)
    public mutating func finish() -> [UInt8] {
        bytes.append(UInt8(ascii: "}"))
        var written: [UInt8] = []
        swap(&written, &bytes)
        return written
    }

    private mutating func key(_ key: StaticString) {
        #if DEBUG
            let current = key.withUTF8Buffer { Array($0) }
            assert(
                empty || lastKey.lexicographicallyPrecedes(current),
                "JSON members out of key order: \(key) after \(lastKey)")
            lastKey = current
        #endif
        if !empty { bytes.append(UInt8(ascii: ",")) }
        empty = false
        bytes.append(UInt8(ascii: "\""))
        key.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
    }
}
