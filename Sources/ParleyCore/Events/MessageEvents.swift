/// An agent sent an SMS; it is `queued` until the carrier reports on it.
public struct MessageSent: Sendable, Hashable, Codable, BinaryCodable {
    public var conversationId: String
    public var messageId: String
    public var agentId: String
    /// The service number or the agent's DID.
    public var from: String
    /// The customer's number.
    public var to: String
    public var text: String
    public var attachments: [Attachment]
    public var encoding: SMSEncoding
    /// Grapheme clusters, as a person counts them.
    public var characters: Int
    /// Septets (GSM-7) or UTF-16 code units (UCS-2).
    public var units: Int
    public var segments: Int
    /// The call the agent was handling, when sent from Busy or After Call Work.
    public var callId: String?

    /// Creates the event.
    public init(
        conversationId: String, messageId: String, agentId: String, from: String, to: String, text: String,
        attachments: [Attachment], encoding: SMSEncoding, characters: Int, units: Int, segments: Int,
        callId: String?
    ) {
        self.conversationId = conversationId
        self.messageId = messageId
        self.agentId = agentId
        self.from = from
        self.to = to
        self.text = text
        self.attachments = attachments
        self.encoding = encoding
        self.characters = characters
        self.units = units
        self.segments = segments
        self.callId = callId
    }

    /// Writes the fields in declaration order; the encoding as one byte (0 GSM-7, 1 UCS-2).
    public func encode(to writer: inout BinaryWriter) {
        writer.write(conversationId)
        writer.write(messageId)
        writer.write(agentId)
        writer.write(from)
        writer.write(to)
        writer.write(text)
        writer.write(attachments)
        writer.write(UInt8(encoding == .gsm7 ? 0 : 1))
        writer.writeVarint(characters)
        writer.writeVarint(units)
        writer.writeVarint(segments)
        writer.write(callId)
    }

    /// Reads the fields in declaration order.
    public init(from reader: inout BinaryReader) throws(BinaryDecodingError) {
        conversationId = try reader.readString()
        messageId = try reader.readString()
        agentId = try reader.readString()
        from = try reader.readString()
        to = try reader.readString()
        text = try reader.readString()
        attachments = try reader.readArray()
        encoding = try reader.readEncoding()
        characters = try reader.readCount()
        units = try reader.readCount()
        segments = try reader.readCount()
        callId = try reader.readOptionalString()
    }
}

/// A carrier reported on an outbound message. Recorded even when it does not move the status.
public struct DeliveryReported: Sendable, Hashable, Codable, BinaryCodable {
    public var conversationId: String
    public var messageId: String
    public var status: DeliveryStatus
    /// The carrier's own id for the message, when the report carries one.
    public var carrierReference: String?
    /// The carrier's error code or explanation, if any.
    public var detail: String?

    /// Creates the event.
    public init(
        conversationId: String, messageId: String, status: DeliveryStatus, carrierReference: String?,
        detail: String?
    ) {
        self.conversationId = conversationId
        self.messageId = messageId
        self.status = status
        self.carrierReference = carrierReference
        self.detail = detail
    }

    /// Writes the fields in declaration order.
    public func encode(to writer: inout BinaryWriter) {
        writer.write(conversationId)
        writer.write(messageId)
        writer.write(status)
        writer.write(carrierReference)
        writer.write(detail)
    }

    /// Reads the fields in declaration order.
    public init(from reader: inout BinaryReader) throws(BinaryDecodingError) {
        conversationId = try reader.readString()
        messageId = try reader.readString()
        status = try reader.read()
        carrierReference = try reader.readOptionalString()
        detail = try reader.readOptionalString()
    }
}

/// A carrier reported on one part of a long outbound message that its connector submits in
/// parts (part `part` of the message's `segments`, as ``SegmentCounter/parts(_:)`` packed it).
/// The message's own status follows from its parts' statuses: when a part report moves it,
/// the same append holds a ``DeliveryReported`` for the message.
public struct PartReported: Sendable, Hashable, Codable, BinaryCodable {
    public var conversationId: String
    public var messageId: String
    /// The part reported on, 1-based.
    public var part: Int
    public var status: DeliveryStatus
    /// The carrier's id for the part, when the report carries one.
    public var carrierReference: String?
    /// The carrier's error code or explanation, if any.
    public var detail: String?

    /// Creates the event.
    public init(
        conversationId: String, messageId: String, part: Int, status: DeliveryStatus, carrierReference: String?,
        detail: String?
    ) {
        self.conversationId = conversationId
        self.messageId = messageId
        self.part = part
        self.status = status
        self.carrierReference = carrierReference
        self.detail = detail
    }

    /// Writes the fields in declaration order.
    public func encode(to writer: inout BinaryWriter) {
        writer.write(conversationId)
        writer.write(messageId)
        writer.writeVarint(part)
        writer.write(status)
        writer.write(carrierReference)
        writer.write(detail)
    }

    /// Reads the fields in declaration order.
    public init(from reader: inout BinaryReader) throws(BinaryDecodingError) {
        conversationId = try reader.readString()
        messageId = try reader.readString()
        part = try reader.readCount()
        status = try reader.read()
        carrierReference = try reader.readOptionalString()
        detail = try reader.readOptionalString()
    }
}

/// A carrier connector is about to hand an outbound message to its carrier: attempt
/// `attempt` of the message. The carrier's acceptance is the ``DeliveryReported`` with its
/// reference that follows; a submission with no acceptance is resubmitted after a restart.
public struct MessageSubmitted: Sendable, Hashable, Codable, BinaryCodable {
    public var conversationId: String
    public var messageId: String
    /// The connector that submits it, e.g. `kannel` or `simulator`.
    public var connector: String
    /// 1 for the first submission of the message, then one more for each resubmission.
    public var attempt: Int

    /// Creates the event.
    public init(conversationId: String, messageId: String, connector: String, attempt: Int) {
        self.conversationId = conversationId
        self.messageId = messageId
        self.connector = connector
        self.attempt = attempt
    }

    /// Writes the fields in declaration order.
    public func encode(to writer: inout BinaryWriter) {
        writer.write(conversationId)
        writer.write(messageId)
        writer.write(connector)
        writer.writeVarint(attempt)
    }

    /// Reads the fields in declaration order.
    public init(from reader: inout BinaryReader) throws(BinaryDecodingError) {
        conversationId = try reader.readString()
        messageId = try reader.readString()
        connector = try reader.readString()
        attempt = try reader.readCount()
    }
}

/// A customer's SMS joined a conversation (a service chat or a DID conversation).
public struct InboundReceived: Sendable, Hashable, Codable, BinaryCodable {
    public var conversationId: String
    public var messageId: String
    /// The customer's number.
    public var from: String
    /// The service number or DID it was sent to.
    public var to: String
    public var text: String
    public var attachments: [Attachment]
    /// The latest outbound message of the conversation when this arrived, which it answers.
    public var inReplyTo: String?
    /// The carrier's id for the inbound message, if given.
    public var carrierReference: String?

    /// Creates the event.
    public init(
        conversationId: String, messageId: String, from: String, to: String, text: String,
        attachments: [Attachment], inReplyTo: String?, carrierReference: String?
    ) {
        self.conversationId = conversationId
        self.messageId = messageId
        self.from = from
        self.to = to
        self.text = text
        self.attachments = attachments
        self.inReplyTo = inReplyTo
        self.carrierReference = carrierReference
    }

    /// Writes the fields in declaration order.
    public func encode(to writer: inout BinaryWriter) {
        writer.write(conversationId)
        writer.write(messageId)
        writer.write(from)
        writer.write(to)
        writer.write(text)
        writer.write(attachments)
        writer.write(inReplyTo)
        writer.write(carrierReference)
    }

    /// Reads the fields in declaration order.
    public init(from reader: inout BinaryReader) throws(BinaryDecodingError) {
        conversationId = try reader.readString()
        messageId = try reader.readString()
        from = try reader.readString()
        to = try reader.readString()
        text = try reader.readString()
        attachments = try reader.readArray()
        inReplyTo = try reader.readOptionalString()
        carrierReference = try reader.readOptionalString()
    }
}

/// A customer's SMS was recorded for audit and shown to nobody.
public struct InboundIgnored: Sendable, Hashable, Codable, BinaryCodable {
    public var messageId: String
    public var from: String
    public var to: String
    public var text: String
    public var attachments: [Attachment]
    public var reason: IgnoreReason
    /// The ended conversation it would have joined, for `conversationEnded`.
    public var conversationId: String?
    public var carrierReference: String?

    /// Creates the event.
    public init(
        messageId: String, from: String, to: String, text: String, attachments: [Attachment],
        reason: IgnoreReason, conversationId: String?, carrierReference: String?
    ) {
        self.messageId = messageId
        self.from = from
        self.to = to
        self.text = text
        self.attachments = attachments
        self.reason = reason
        self.conversationId = conversationId
        self.carrierReference = carrierReference
    }

    /// Writes the fields in declaration order.
    public func encode(to writer: inout BinaryWriter) {
        writer.write(messageId)
        writer.write(from)
        writer.write(to)
        writer.write(text)
        writer.write(attachments)
        writer.write(reason)
        writer.write(conversationId)
        writer.write(carrierReference)
    }

    /// Reads the fields in declaration order.
    public init(from reader: inout BinaryReader) throws(BinaryDecodingError) {
        messageId = try reader.readString()
        from = try reader.readString()
        to = try reader.readString()
        text = try reader.readString()
        attachments = try reader.readArray()
        reason = try reader.read()
        conversationId = try reader.readOptionalString()
        carrierReference = try reader.readOptionalString()
    }
}

extension BinaryReader {
    /// An ``SMSEncoding`` as events store it: one byte, 0 GSM-7, 1 UCS-2.
    mutating func readEncoding() throws(BinaryDecodingError) -> SMSEncoding {
        switch try readUInt8() {
        case 0: .gsm7
        case 1: .ucs2
        case let other: throw BinaryDecodingError(reason: "unknown encoding code \(other)")
        }
    }
}
