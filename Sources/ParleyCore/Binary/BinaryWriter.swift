/// Appends values in Parley's stored binary layout (see `schemas/storage.md`).
///
/// Fixed-width integers are little-endian, counts and lengths are unsigned LEB128
/// varints, strings are a varint byte length followed by UTF-8, optionals a
/// presence byte (0 or 1) followed by the value.
public struct BinaryWriter: Sendable {
    /// The bytes written so far.
    public private(set) var bytes: [UInt8]

    /// Creates an empty writer.
    /// - Parameter capacity: bytes to reserve up front.
    public init(capacity: Int = 128) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// Appends one byte.
    public mutating func write(_ value: UInt8) { bytes.append(value) }

    /// Appends a boolean as one byte, 0 or 1.
    public mutating func write(_ value: Bool) { bytes.append(value ? 1 : 0) }

    /// Appends a 16-bit unsigned integer, little-endian.
    public mutating func write(_ value: UInt16) {
        bytes.append(UInt8(truncatingIfNeeded: value))
        bytes.append(UInt8(truncatingIfNeeded: value >> 8))
    }

    /// Appends a 64-bit unsigned integer, little-endian.
    public mutating func write(_ value: UInt64) {
        var v = value
        for _ in 0..<8 {
            bytes.append(UInt8(truncatingIfNeeded: v))
            v >>= 8
        }
    }

    /// Appends a 64-bit signed integer, little-endian two's complement.
    public mutating func write(_ value: Int64) { write(UInt64(bitPattern: value)) }

    /// Appends an unsigned LEB128 varint.
    public mutating func writeVarint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    /// Appends a non-negative `Int` as a varint.
    public mutating func writeVarint(_ value: Int) {
        precondition(value >= 0, "varints hold non-negative values")
        writeVarint(UInt64(value))
    }

    /// Appends a string: its UTF-8 byte length as a varint, then the bytes.
    public mutating func write(_ value: String) {
        var s = value
        s.withUTF8 { utf8 in
            writeVarint(utf8.count)
            bytes.append(contentsOf: utf8)
        }
    }

    /// Appends an optional string: a presence byte, then the string when present.
    public mutating func write(_ value: String?) {
        if let value {
            write(UInt8(1))
            write(value)
        } else {
            write(UInt8(0))
        }
    }

    /// Appends raw bytes without a length.
    public mutating func write(raw: some Sequence<UInt8>) { bytes.append(contentsOf: raw) }

    /// Appends an array of strings: a varint count, then each string.
    public mutating func write(_ values: [String]) {
        writeVarint(values.count)
        for value in values { write(value) }
    }

    /// Appends a value that knows its own binary layout.
    public mutating func write(_ value: some BinaryCodable) { value.encode(to: &self) }

    /// Appends an optional value: a presence byte, then the value when present.
    public mutating func write(_ value: (some BinaryCodable)?) {
        if let value {
            write(UInt8(1))
            value.encode(to: &self)
        } else {
            write(UInt8(0))
        }
    }

    /// Appends an array: a varint count, then each element.
    public mutating func write(_ values: [some BinaryCodable]) {
        writeVarint(values.count)
        for value in values { value.encode(to: &self) }
    }
}
