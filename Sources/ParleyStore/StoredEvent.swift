public import ParleyCore
import Crypto

/// An event as stored in `log.mdb`: the recorded event and its place in the hash chain.
///
/// Stored value: format byte `1` ‖ 32-byte `prevHash` ‖ 32-byte `hash` ‖ canonical body,
/// where `hash = SHA-256(prevHash ‖ body)` and the first event's `prevHash` is 32 zero bytes.
public struct StoredEvent: Sendable, Hashable {
    /// The event.
    public var recorded: RecordedEvent
    /// The hash of the previous event (zeros for position 1).
    public var prevHash: ChainHash
    /// SHA-256 of `prevHash ‖ body`.
    public var hash: ChainHash

    /// Creates a stored event from its parts (the hash is not checked).
    public init(recorded: RecordedEvent, prevHash: ChainHash, hash: ChainHash) {
        self.recorded = recorded
        self.prevHash = prevHash
        self.hash = hash
    }

    /// The stored format version.
    public static let format: UInt8 = 1
    /// Bytes before the body.
    static let headerSize = 1 + 32 + 32

    /// Encodes `recorded` after `prevHash`, computing its hash.
    public static func encode(_ recorded: RecordedEvent, after prevHash: ChainHash) -> (value: [UInt8], hash: ChainHash) {
        var writer = BinaryWriter(capacity: 320)
        writer.write(format)
        writer.write(raw: prevHash.bytes)
        writer.write(raw: ChainHash.zero.bytes)
        let bodyStart = writer.bytes.count
        recorded.encode(to: &writer)
        var value = writer.bytes
        let hash = value.withUnsafeBytes { raw in
            ChainHash.of(prevHash: prevHash, body: UnsafeRawBufferPointer(rebasing: raw[bodyStart...]))
        }
        value.replaceSubrange(33..<65, with: hash.bytes)
        return (value, hash)
    }

    /// Decodes a stored value. Does not check the hash; see ``verifiedHash(of:)``.
    /// - Throws: ``BinaryDecodingError`` when the bytes are not a stored event.
    public init(decoding value: UnsafeRawBufferPointer) throws(BinaryDecodingError) {
        guard value.count > Self.headerSize else { throw BinaryDecodingError(reason: "stored event too short (\(value.count) bytes)") }
        guard value[0] == Self.format else { throw BinaryDecodingError(reason: "unknown stored event format \(value[0])") }
        prevHash = ChainHash(UnsafeRawBufferPointer(rebasing: value[1..<33]))
        hash = ChainHash(UnsafeRawBufferPointer(rebasing: value[33..<65]))
        recorded = try RecordedEvent(decoding: UnsafeRawBufferPointer(rebasing: value[Self.headerSize...]))
    }

    /// Decodes only the event of a stored value, skipping its hashes (for replays that trust
    /// the chain or check it elsewhere).
    /// - Throws: ``StoreError/corrupt(position:reason:)`` naming `position` when it does not decode.
    static func recordedEvent(decoding value: UnsafeRawBufferPointer, at position: UInt64) throws(StoreError) -> RecordedEvent {
        guard value.count > headerSize, value[0] == format else {
            throw StoreError.corrupt(position: position, reason: "not a stored event of format \(format)")
        }
        do {
            return try RecordedEvent(decoding: UnsafeRawBufferPointer(rebasing: value[headerSize...]))
        } catch {
            throw StoreError.corrupt(position: position, reason: "undecodable: \(error)")
        }
    }

    /// The fields the hash chain is checked by, read from the front of a stored value
    /// without decoding the event itself.
    struct ChainFields {
        var position: UInt64
        var stream: String
        var streamVersion: UInt64
        var prevHash: ChainHash
        var hash: ChainHash
    }

    /// Reads ``ChainFields`` from a stored value.
    /// - Throws: ``BinaryDecodingError`` when the value is too short or of another format.
    static func chainFields(of value: UnsafeRawBufferPointer) throws(BinaryDecodingError) -> ChainFields {
        guard value.count > headerSize else { throw BinaryDecodingError(reason: "stored event too short (\(value.count) bytes)") }
        guard value[0] == format else { throw BinaryDecodingError(reason: "unknown stored event format \(value[0])") }
        var reader = BinaryReader(UnsafeRawBufferPointer(rebasing: value[headerSize...]))
        let position = try reader.readUInt64()
        _ = try reader.readInt64()  // timestamp
        let stream = try reader.readString()
        let streamVersion = try reader.readVarint()
        return ChainFields(
            position: position, stream: stream, streamVersion: streamVersion,
            prevHash: ChainHash(UnsafeRawBufferPointer(rebasing: value[1..<33])),
            hash: ChainHash(UnsafeRawBufferPointer(rebasing: value[33..<65]))
        )
    }

    /// Recomputes the hash of a stored value from its own prevHash and body.
    public static func computedHash(of value: UnsafeRawBufferPointer) -> ChainHash? {
        guard value.count > headerSize else { return nil }
        return ChainHash.of(
            prevHash: ChainHash(UnsafeRawBufferPointer(rebasing: value[1..<33])),
            body: UnsafeRawBufferPointer(rebasing: value[headerSize...])
        )
    }
}

/// A SHA-256 digest in the hash chain.
public struct ChainHash: Sendable, Hashable, CustomStringConvertible {
    /// The 32 bytes.
    public let bytes: [UInt8]

    /// Thirty-two zero bytes: the `prevHash` of the first event.
    public static let zero = ChainHash(bytes: [UInt8](repeating: 0, count: 32))

    init(bytes: [UInt8]) { self.bytes = bytes }

    init(_ raw: UnsafeRawBufferPointer) { bytes = Array(raw) }

    /// Parses 64 hex digits.
    public init?(hex: String) {
        guard hex.utf8.count == 64 else { return nil }
        var out: [UInt8] = []
        var iterator = hex.utf8.makeIterator()
        while let high = iterator.next(), let low = iterator.next() {
            guard let h = Self.nibble(high), let l = Self.nibble(low) else { return nil }
            out.append(h << 4 | l)
        }
        bytes = out
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        default: nil
        }
    }

    /// SHA-256 of `prevHash ‖ body`.
    static func of(prevHash: ChainHash, body: UnsafeRawBufferPointer) -> ChainHash {
        var hasher = SHA256()
        hasher.update(data: prevHash.bytes)
        hasher.update(bufferPointer: body)
        return ChainHash(bytes: Array(hasher.finalize()))
    }

    /// 64 lowercase hex digits.
    public var hex: String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The hex form.
    public var description: String { hex }
}

/// The newest event of the log: its position (0 when empty) and hash.
public struct LogHead: Sendable, Hashable {
    /// The last position, 0 for an empty log.
    public var position: UInt64
    /// The last event's hash, ``ChainHash/zero`` for an empty log.
    public var hash: ChainHash

    /// The head of an empty log.
    public static let empty = LogHead(position: 0, hash: .zero)

    /// Creates a head.
    public init(position: UInt64, hash: ChainHash) {
        self.position = position
        self.hash = hash
    }
}
