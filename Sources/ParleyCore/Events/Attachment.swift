/// A file sent with a message. Recorded as a reference; never counted in segments.
public struct Attachment: Sendable, Hashable, Codable, BinaryCodable {
    /// File name shown to people.
    public var name: String
    /// MIME type, e.g. `image/jpeg`.
    public var contentType: String
    /// Size in bytes.
    public var size: UInt64
    /// Where the content lives (a URL or a storage key); Parley does not hold content.
    public var reference: String

    /// Creates an attachment reference.
    public init(name: String, contentType: String, size: UInt64, reference: String) {
        self.name = name
        self.contentType = contentType
        self.size = size
        self.reference = reference
    }

    /// Writes name, contentType, size (varint), reference.
    public func encode(to writer: inout BinaryWriter) {
        writer.write(name)
        writer.write(contentType)
        writer.writeVarint(size)
        writer.write(reference)
    }

    /// Reads name, contentType, size, reference.
    public init(from reader: inout BinaryReader) throws(BinaryDecodingError) {
        name = try reader.readString()
        contentType = try reader.readString()
        size = try reader.readVarint()
        reference = try reader.readString()
    }
}
