/// Reads values written by ``BinaryWriter`` from a borrowed buffer.
///
/// The reader never copies the buffer; it must not outlive the memory it reads
/// (for LMDB values, the read transaction).
public struct BinaryReader {
    private let buffer: UnsafeRawBufferPointer
    /// The offset of the next byte to read.
    public private(set) var offset: Int

    /// Creates a reader over `buffer`, starting at `offset`.
    public init(_ buffer: UnsafeRawBufferPointer, offset: Int = 0) {
        self.buffer = buffer
        self.offset = offset
    }

    /// Whether every byte has been read.
    public var isAtEnd: Bool { offset == buffer.count }

    /// The number of bytes left.
    public var remainingCount: Int { buffer.count - offset }

    private mutating func take(_ count: Int) throws(BinaryDecodingError) -> UnsafeRawBufferPointer {
        guard count >= 0, count <= buffer.count - offset else {
            throw BinaryDecodingError(reason: "truncated value: \(count) bytes needed at offset \(offset)")
        }
        let slice = UnsafeRawBufferPointer(rebasing: buffer[offset..<offset + count])
        offset += count
        return slice
    }

    /// Reads one byte.
    public mutating func readUInt8() throws(BinaryDecodingError) -> UInt8 {
        guard offset < buffer.count else { throw BinaryDecodingError(reason: "truncated value at offset \(offset)") }
        let value = buffer[offset]
        offset += 1
        return value
    }

    /// Reads a boolean byte; anything but 0 or 1 is an error.
    public mutating func readBool() throws(BinaryDecodingError) -> Bool {
        switch try readUInt8() {
        case 0: return false
        case 1: return true
        case let other: throw BinaryDecodingError(reason: "invalid boolean byte \(other) at offset \(offset - 1)")
        }
    }

    /// Reads a little-endian 16-bit unsigned integer.
    public mutating func readUInt16() throws(BinaryDecodingError) -> UInt16 {
        let raw = try take(2)
        return UInt16(raw[0]) | UInt16(raw[1]) << 8
    }

    /// Reads a little-endian 64-bit unsigned integer.
    public mutating func readUInt64() throws(BinaryDecodingError) -> UInt64 {
        let raw = try take(8)
        var value: UInt64 = 0
        for index in (0..<8).reversed() { value = value << 8 | UInt64(raw[index]) }
        return value
    }

    /// Reads a little-endian 64-bit signed integer.
    public mutating func readInt64() throws(BinaryDecodingError) -> Int64 { Int64(bitPattern: try readUInt64()) }

    /// Reads an unsigned LEB128 varint of at most ten bytes.
    public mutating func readVarint() throws(BinaryDecodingError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let byte = try readUInt8()
            guard shift < 64 else { throw BinaryDecodingError(reason: "varint too long at offset \(offset)") }
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
        }
    }

    /// Reads a varint that must fit a non-negative `Int`.
    public mutating func readCount() throws(BinaryDecodingError) -> Int {
        let value = try readVarint()
        guard value <= UInt64(Int32.max) else { throw BinaryDecodingError(reason: "count \(value) out of range") }
        return Int(value)
    }

    /// Reads a length-prefixed UTF-8 string; invalid UTF-8 is an error, never replaced.
    public mutating func readString() throws(BinaryDecodingError) -> String {
        let count = try readCount()
        let raw = try take(count)
        // ASCII (most ids, numbers and texts) needs no validation beyond the check itself.
        if Self.isASCII(raw) { return String(decoding: raw, as: UTF8.self) }
        guard let string = String(validating: raw, as: UTF8.self) else {
            throw BinaryDecodingError(reason: "invalid UTF-8 in string at offset \(offset - count)")
        }
        return string
    }

    private static func isASCII(_ raw: UnsafeRawBufferPointer) -> Bool {
        var index = 0
        let count = raw.count
        while index + 8 <= count {
            if raw.loadUnaligned(fromByteOffset: index, as: UInt64.self) & 0x8080_8080_8080_8080 != 0 { return false }
            index += 8
        }
        while index < count {
            if raw[index] & 0x80 != 0 { return false }
            index += 1
        }
        return true
    }

    /// Reads a length-prefixed string's UTF-8 bytes in place, checked as ``readString()``
    /// checks them, without making a `String` (for writing them on, as JSON).
    public mutating func readUTF8() throws(BinaryDecodingError) -> UnsafeRawBufferPointer {
        let count = try readCount()
        let raw = try take(count)
        if !Self.isASCII(raw), String(validating: raw, as: UTF8.self) == nil {
            throw BinaryDecodingError(reason: "invalid UTF-8 in string at offset \(offset - count)")
        }
        return raw
    }

    /// Reads an optional string's UTF-8 bytes in place, as ``readUTF8()``.
    public mutating func readOptionalUTF8() throws(BinaryDecodingError) -> UnsafeRawBufferPointer? {
        try readBool() ? try readUTF8() : nil
    }

    /// Reads an optional string written by ``BinaryWriter/write(_:)-(String?)``.
    public mutating func readOptionalString() throws(BinaryDecodingError) -> String? {
        try readBool() ? try readString() : nil
    }

    /// Reads an array of strings.
    public mutating func readStrings() throws(BinaryDecodingError) -> [String] {
        let count = try readCount()
        var values: [String] = []
        values.reserveCapacity(min(count, 64))
        for _ in 0..<count { values.append(try readString()) }
        return values
    }

    /// Reads `count` raw bytes.
    public mutating func readBytes(_ count: Int) throws(BinaryDecodingError) -> [UInt8] { Array(try take(count)) }

    /// Reads a value that knows its own binary layout.
    public mutating func read<T: BinaryCodable>(_ type: T.Type = T.self) throws(BinaryDecodingError) -> T {
        try T(from: &self)
    }

    /// Reads an optional value written with a presence byte.
    public mutating func readOptional<T: BinaryCodable>(_ type: T.Type = T.self) throws(BinaryDecodingError) -> T? {
        try readBool() ? try T(from: &self) : nil
    }

    /// Reads an array of values.
    public mutating func readArray<T: BinaryCodable>(_ type: T.Type = T.self) throws(BinaryDecodingError) -> [T] {
        let count = try readCount()
        var values: [T] = []
        values.reserveCapacity(min(count, 64))
        for _ in 0..<count { values.append(try T(from: &self)) }
        return values
    }
}
