/// Which way a message went.
public enum Direction: String, Sendable, Hashable, Codable, ByteCodedEnum {
    case outbound
    case inbound

    /// The stored byte.
    public var byteCode: UInt8 { self == .outbound ? 0 : 1 }
}

/// Where a message sits: its conversation and sequence number in the transcript.
public struct MessageLocation: Sendable, Hashable, Codable, BinaryCodable {
    public var conversationId: String
    public var sequence: UInt64

    /// Creates a location.
    public init(conversationId: String, sequence: UInt64) {
        self.conversationId = conversationId
        self.sequence = sequence
    }

    /// The transcript key of the message.
    public var transcriptKey: [UInt8] { Key.numbered(conversationId, sequence) }

    /// Writes conversationId, sequence (varint).
    public func encode(to writer: inout BinaryWriter) {
        writer.write(conversationId)
        writer.writeVarint(sequence)
    }

    /// Reads conversationId, sequence.
    public init(from reader: inout BinaryReader) throws(BinaryDecodingError) {
        conversationId = try reader.readString()
        sequence = try reader.readVarint()
    }
}

/// One line of a transcript.
public struct MessageRecord: Sendable, Hashable, Codable, BinaryCodable {
    public var messageId: String
    public var conversationId: String
    public var sequence: UInt64
    /// Position of the event that recorded it.
    public var position: UInt64
    /// Server time, milliseconds since the Unix epoch.
    public var timestamp: Int64
    public var direction: Direction
    public var from: String
    public var to: String
    public var text: String
    public var attachments: [Attachment]
    /// The sending agent, for outbound messages.
    public var agentId: String?
    public var segments: Int
    /// Effective delivery status, for outbound messages.
    public var status: DeliveryStatus?
    /// The carrier's detail for the effective status.
    public var statusDetail: String?
    public var carrierReference: String?
    /// The outbound message an inbound one answers.
    public var inReplyTo: String?

    /// Creates a record.
    public init(
        messageId: String, conversationId: String, sequence: UInt64, position: UInt64, timestamp: Int64,
        direction: Direction, from: String, to: String, text: String, attachments: [Attachment],
        agentId: String?, segments: Int, status: DeliveryStatus?, statusDetail: String?,
        carrierReference: String?, inReplyTo: String?
    ) {
        self.messageId = messageId
        self.conversationId = conversationId
        self.sequence = sequence
        self.position = position
        self.timestamp = timestamp
        self.direction = direction
        self.from = from
        self.to = to
        self.text = text
        self.attachments = attachments
        self.agentId = agentId
        self.segments = segments
        self.status = status
        self.statusDetail = statusDetail
        self.carrierReference = carrierReference
        self.inReplyTo = inReplyTo
    }

    /// Where the record sits.
    public var location: MessageLocation { MessageLocation(conversationId: conversationId, sequence: sequence) }

    /// Writes the fields in declaration order.
    public func encode(to writer: inout BinaryWriter) {
        writer.write(messageId)
        writer.write(conversationId)
        writer.writeVarint(sequence)
        writer.writeVarint(position)
        writer.write(timestamp)
        writer.write(direction)
        writer.write(from)
        writer.write(to)
        writer.write(text)
        writer.write(attachments)
        writer.write(agentId)
        writer.writeVarint(segments)
        writer.write(status)
        writer.write(statusDetail)
        writer.write(carrierReference)
        writer.write(inReplyTo)
    }

    /// Reads the fields in declaration order.
    public init(from reader: inout BinaryReader) throws(BinaryDecodingError) {
        messageId = try reader.readString()
        conversationId = try reader.readString()
        sequence = try reader.readVarint()
        position = try reader.readVarint()
        timestamp = try reader.readInt64()
        direction = try reader.read()
        from = try reader.readString()
        to = try reader.readString()
        text = try reader.readString()
        attachments = try reader.readArray()
        agentId = try reader.readOptionalString()
        segments = try reader.readCount()
        status = try reader.readOptional()
        statusDetail = try reader.readOptionalString()
        carrierReference = try reader.readOptionalString()
        inReplyTo = try reader.readOptionalString()
    }
}
