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

/// One line of a transcript. Its JSON (in `conversation.get`, `recent.get`, `carrier.pending`)
/// has its fields by name and, for clients of protocol version 1 written before messages carried
/// several references, `carrierReference`: the first of `carrierReferences` (deprecated).
public struct MessageRecord: Sendable, Hashable, Encodable, BinaryCodable {
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
    /// The carrier's ids for the message: for an outbound one every reference a carrier gave
    /// with its `messageId` (one per part of a long message or per resubmission), in the
    /// order given; for an inbound one the reference it arrived with, if any.
    public var carrierReferences: [String]
    /// The outbound message an inbound one answers.
    public var inReplyTo: String?
    /// The latest recorded submission to a carrier, for outbound messages.
    public var submission: Submission?
    /// For an outbound message its connector submits in parts: each part reported on so far,
    /// by part number. The message's status follows from them (``statusOfParts``).
    public var parts: [PartStatus]

    /// Creates a record.
    public init(
        messageId: String, conversationId: String, sequence: UInt64, position: UInt64, timestamp: Int64,
        direction: Direction, from: String, to: String, text: String, attachments: [Attachment],
        agentId: String?, segments: Int, status: DeliveryStatus?, statusDetail: String?,
        carrierReferences: [String], inReplyTo: String?, submission: Submission? = nil, parts: [PartStatus] = []
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
        self.carrierReferences = carrierReferences
        self.inReplyTo = inReplyTo
        self.submission = submission
        self.parts = parts
    }

    private enum CodingKeys: String, CodingKey {
        case messageId, conversationId, sequence, position, timestamp, direction, from, to, text, attachments
        case agentId, segments, status, statusDetail, carrierReferences, carrierReference, inReplyTo, submission, parts
    }

    /// Encodes the fields by name; absent optionals are left out.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(messageId, forKey: .messageId)
        try c.encode(conversationId, forKey: .conversationId)
        try c.encode(sequence, forKey: .sequence)
        try c.encode(position, forKey: .position)
        try c.encode(timestamp, forKey: .timestamp)
        try c.encode(direction, forKey: .direction)
        try c.encode(from, forKey: .from)
        try c.encode(to, forKey: .to)
        try c.encode(text, forKey: .text)
        try c.encode(attachments, forKey: .attachments)
        try c.encodeIfPresent(agentId, forKey: .agentId)
        try c.encode(segments, forKey: .segments)
        try c.encodeIfPresent(status, forKey: .status)
        try c.encodeIfPresent(statusDetail, forKey: .statusDetail)
        try c.encode(carrierReferences, forKey: .carrierReferences)
        try c.encodeIfPresent(carrierReferences.first, forKey: .carrierReference)
        try c.encodeIfPresent(inReplyTo, forKey: .inReplyTo)
        try c.encodeIfPresent(submission, forKey: .submission)
        if !parts.isEmpty { try c.encode(parts, forKey: .parts) }
    }

    /// Where the record sits.
    public var location: MessageLocation { MessageLocation(conversationId: conversationId, sequence: sequence) }

    /// Whether an outbound message still waits for a carrier to accept it: it is `queued` and
    /// no carrier has given a reference for it, or, sent in parts, not for every part.
    /// Connectors submit exactly these (of a message in parts, the parts with no reference).
    public var awaitsCarrier: Bool { direction == .outbound && status == .queued && !isAccepted }

    /// Whether a carrier accepted the message: gave a reference for it or, when it is sent in
    /// parts, for each of its parts.
    public var isAccepted: Bool {
        parts.isEmpty ? !carrierReferences.isEmpty : parts.count(where: { !$0.carrierReferences.isEmpty }) == partCount
    }

    /// The number of parts the message is sent in: its segments (one for a message without text).
    public var partCount: Int { max(segments, 1) }

    /// The message's status as its parts' statuses make it: `failed` or `undelivered` as soon
    /// as one part is; `delivered` once every part is; `sent` once every part is at least
    /// sent; `queued` until then.
    public var statusOfParts: DeliveryStatus {
        if parts.contains(where: { $0.status == .failed }) { return .failed }
        if parts.contains(where: { $0.status == .undelivered }) { return .undelivered }
        guard parts.count == partCount else { return .queued }
        if parts.allSatisfy({ $0.status == .delivered }) { return .delivered }
        return parts.allSatisfy({ $0.status.rank >= 1 }) ? .sent : .queued
    }

    /// Records a carrier's report on part `part` (1...``partCount``): its status moves up the
    /// lattice, and a new `reference` is added to the part's. The message's own status and
    /// references are not touched. Returns whether the part changed.
    @discardableResult
    public mutating func recordPart(_ part: Int, status: DeliveryStatus, reference: String?) -> Bool {
        let index = parts.firstIndex(where: { $0.part >= part }) ?? parts.endIndex
        if index == parts.endIndex || parts[index].part != part {
            parts.insert(
                PartStatus(part: part, status: status, carrierReferences: reference.map { [$0] } ?? []), at: index)
            return true
        }
        var changed = false
        if parts[index].status.advances(to: status) {
            parts[index].status = status
            changed = true
        }
        if let reference, !parts[index].carrierReferences.contains(reference) {
            parts[index].carrierReferences.append(reference)
            changed = true
        }
        return changed
    }

    /// Whether an outbound message a carrier accepted still waits for its final status
    /// (`delivered`, `undelivered` or `failed`).
    public var awaitsReport: Bool { direction == .outbound && !awaitsCarrier && (status?.rank ?? 2) < 2 }

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
        writer.write(carrierReferences)
        writer.write(inReplyTo)
        writer.write(submission)
        writer.write(parts)
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
        carrierReferences = try reader.readStrings()
        inReplyTo = try reader.readOptionalString()
        submission = try reader.readOptional()
        parts = try reader.readArray()
    }
}

/// A connector's recorded submission of an outbound message to its carrier.
public struct Submission: Sendable, Hashable, Codable, BinaryCodable {
    /// The connector that submitted it.
    public var connector: String
    /// The message's submission count so far (1 for the first).
    public var attempt: Int
    /// Position of the ``MessageSubmitted`` event.
    public var position: UInt64

    /// Creates a submission.
    public init(connector: String, attempt: Int, position: UInt64) {
        self.connector = connector
        self.attempt = attempt
        self.position = position
    }

    /// Writes connector, attempt (varint), position (varint).
    public func encode(to writer: inout BinaryWriter) {
        writer.write(connector)
        writer.writeVarint(attempt)
        writer.writeVarint(position)
    }

    /// Reads connector, attempt, position.
    public init(from reader: inout BinaryReader) throws(BinaryDecodingError) {
        connector = try reader.readString()
        attempt = try reader.readCount()
        position = try reader.readVarint()
    }
}

/// What a carrier reported on one part of a message sent in parts.
public struct PartStatus: Sendable, Hashable, Codable, BinaryCodable {
    /// The part, 1-based.
    public var part: Int
    /// The part's status, on the same lattice as a message's.
    public var status: DeliveryStatus
    /// The carrier's ids for the part, in the order given (the connector's submission
    /// reference first, then, say, the SMSC's id from a report).
    public var carrierReferences: [String]

    /// Creates a part status.
    public init(part: Int, status: DeliveryStatus, carrierReferences: [String]) {
        self.part = part
        self.status = status
        self.carrierReferences = carrierReferences
    }

    /// Writes part (varint), status, carrierReferences.
    public func encode(to writer: inout BinaryWriter) {
        writer.writeVarint(part)
        writer.write(status)
        writer.write(carrierReferences)
    }

    /// Reads part, status, carrierReferences.
    public init(from reader: inout BinaryReader) throws(BinaryDecodingError) {
        part = try reader.readCount()
        status = try reader.read()
        carrierReferences = try reader.readStrings()
    }
}
