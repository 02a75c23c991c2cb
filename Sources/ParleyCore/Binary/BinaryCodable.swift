/// A value with a fixed, documented binary layout in Parley's stored format.
public protocol BinaryCodable {
    /// Appends the value's bytes.
    func encode(to writer: inout BinaryWriter)
    /// Reads the value back.
    /// - Throws: ``BinaryDecodingError`` when the bytes are truncated or invalid.
    init(from reader: inout BinaryReader) throws(BinaryDecodingError)
}

extension BinaryCodable {
    /// The value's bytes on their own.
    public var binaryEncoded: [UInt8] {
        var writer = BinaryWriter()
        encode(to: &writer)
        return writer.bytes
    }

    /// Decodes a whole buffer, refusing trailing bytes.
    public init(decoding buffer: UnsafeRawBufferPointer) throws(BinaryDecodingError) {
        var reader = BinaryReader(buffer)
        self = try Self(from: &reader)
        guard reader.isAtEnd else {
            throw BinaryDecodingError(reason: "\(reader.remainingCount) unexpected trailing bytes")
        }
    }

    /// Decodes a whole byte array, refusing trailing bytes.
    public init(decoding bytes: [UInt8]) throws(BinaryDecodingError) {
        var result: Result<Self, BinaryDecodingError> = .failure(BinaryDecodingError(reason: "empty"))
        bytes.withUnsafeBytes { buffer in
            result = Result { () throws(BinaryDecodingError) -> Self in try Self(decoding: buffer) }
        }
        self = try result.get()
    }
}

/// Stored bytes that do not decode: truncated, out of range or not valid UTF-8.
public struct BinaryDecodingError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong, for a person.
    public let reason: String
    /// Creates an error with its reason.
    public init(reason: String) { self.reason = reason }
    /// The reason.
    public var description: String { reason }
}

/// Enums stored as one byte.
public protocol ByteCodedEnum: BinaryCodable, RawRepresentable, CaseIterable where RawValue == String {
    /// The stored byte of this case. Never reuse a retired byte.
    var byteCode: UInt8 { get }
}

extension ByteCodedEnum {
    /// Writes ``byteCode``.
    public func encode(to writer: inout BinaryWriter) { writer.write(byteCode) }

    /// Reads a byte and maps it back to its case.
    public init(from reader: inout BinaryReader) throws(BinaryDecodingError) {
        let byte = try reader.readUInt8()
        guard let value = Self.allCases.first(where: { $0.byteCode == byte }) else {
            throw BinaryDecodingError(reason: "unknown \(Self.self) code \(byte)")
        }
        self = value
    }
}
