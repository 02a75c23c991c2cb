/// An event as the log holds it: the fact plus its envelope.
public struct RecordedEvent: Sendable, Hashable {
    /// Global position in the log, gapless from 1.
    public var position: UInt64
    /// The stream (see ``Stream``).
    public var stream: String
    /// Version within the stream, gapless from 1.
    public var streamVersion: UInt64
    /// Server time of acceptance, milliseconds since the Unix epoch (UTC).
    public var timestamp: Int64
    /// Who caused it.
    public var actor: Actor
    /// The client's idempotency key for the command that produced it, scoped (see ``IdempotencyKey``).
    public var idempotencyKey: IdempotencyKey?
    /// The fact.
    public var event: Event

    /// Creates a recorded event.
    public init(
        position: UInt64, stream: String, streamVersion: UInt64, timestamp: Int64, actor: Actor,
        idempotencyKey: IdempotencyKey?, event: Event
    ) {
        self.position = position
        self.stream = stream
        self.streamVersion = streamVersion
        self.timestamp = timestamp
        self.actor = actor
        self.idempotencyKey = idempotencyKey
        self.event = event
    }

    /// The event's type.
    public var type: EventType { event.type }
}

extension RecordedEvent: BinaryCodable {
    /// Writes the canonical bytes: position (u64), timestamp (i64), stream, stream version (varint),
    /// type (u16), schema version (u16), actor, idempotency key (optional), then the type's data.
    public func encode(to writer: inout BinaryWriter) {
        writer.write(position)
        writer.write(timestamp)
        writer.write(stream)
        writer.writeVarint(streamVersion)
        writer.write(type.rawValue)
        writer.write(type.schemaVersion)
        writer.write(actor)
        writer.write(idempotencyKey)
        event.encodeData(to: &writer)
    }

    /// Reads the canonical bytes written by ``encode(to:)``.
    public init(from reader: inout BinaryReader) throws(BinaryDecodingError) {
        position = try reader.readUInt64()
        timestamp = try reader.readInt64()
        stream = try reader.readString()
        streamVersion = try reader.readVarint()
        let code = try reader.readUInt16()
        guard let type = EventType(rawValue: code) else { throw BinaryDecodingError(reason: "unknown event type \(code)") }
        let schemaVersion = try reader.readUInt16()
        actor = try reader.read()
        idempotencyKey = try reader.readOptional()
        event = try Event.decodeData(type: type, schemaVersion: schemaVersion, from: &reader)
    }
}

/// A client idempotency key within its scope (the agent for agent commands, `carrier` or `admin` otherwise).
public struct IdempotencyKey: Sendable, Hashable, Codable, BinaryCodable {
    /// Whose keys these are.
    public var scope: String
    /// The client's key.
    public var key: String

    /// Creates a scoped key.
    public init(scope: String, key: String) {
        self.scope = scope
        self.key = key
    }

    /// The index key: UTF-8 scope, a 0 byte, UTF-8 key.
    public var indexKey: [UInt8] { Array(scope.utf8) + [0] + Array(key.utf8) }

    /// Writes scope, key.
    public func encode(to writer: inout BinaryWriter) {
        writer.write(scope)
        writer.write(key)
    }

    /// Reads scope, key.
    public init(from reader: inout BinaryReader) throws(BinaryDecodingError) {
        scope = try reader.readString()
        key = try reader.readString()
    }
}
