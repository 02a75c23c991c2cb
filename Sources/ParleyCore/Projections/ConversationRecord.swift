/// Where a conversation stands.
public enum ConversationStatus: String, Sendable, Hashable, Codable, ByteCodedEnum {
    /// A customer-initiated chat request no agent has accepted yet.
    case pending
    /// Owned by an agent; new SMS from the customer join it.
    case open
    /// Ended by its owner; new SMS from the customer do not join it.
    case ended

    /// The stored byte.
    public var byteCode: UInt8 {
        switch self {
        case .pending: 0
        case .open: 1
        case .ended: 2
        }
    }
}

/// A conversation between a local number (service or DID) and a customer.
public struct ConversationRecord: Sendable, Hashable, Codable, BinaryCodable {
    public var conversationId: String
    public var kind: ConversationKind
    public var origin: ConversationOrigin
    public var serviceId: String?
    /// The owning agent; nil while pending.
    public var agentId: String?
    public var localNumber: String
    public var customerNumber: String
    public var status: ConversationStatus
    /// Position of the `ConversationOpened` event.
    public var openedAt: UInt64
    /// The latest outbound message, which the next inbound SMS answers.
    public var lastOutbound: String?
    /// Messages in the transcript, which is also the last message's sequence number (they count from 1).
    public var messageCount: UInt64

    /// Creates a record.
    public init(
        conversationId: String, kind: ConversationKind, origin: ConversationOrigin, serviceId: String?,
        agentId: String?, localNumber: String, customerNumber: String, status: ConversationStatus,
        openedAt: UInt64, lastOutbound: String? = nil, messageCount: UInt64 = 0
    ) {
        self.conversationId = conversationId
        self.kind = kind
        self.origin = origin
        self.serviceId = serviceId
        self.agentId = agentId
        self.localNumber = localNumber
        self.customerNumber = customerNumber
        self.status = status
        self.openedAt = openedAt
        self.lastOutbound = lastOutbound
        self.messageCount = messageCount
    }

    /// Writes the fields in declaration order.
    public func encode(to writer: inout BinaryWriter) {
        writer.write(conversationId)
        writer.write(kind)
        writer.write(origin)
        writer.write(serviceId)
        writer.write(agentId)
        writer.write(localNumber)
        writer.write(customerNumber)
        writer.write(status)
        writer.writeVarint(openedAt)
        writer.write(lastOutbound)
        writer.writeVarint(messageCount)
    }

    /// Reads the fields in declaration order.
    public init(from reader: inout BinaryReader) throws(BinaryDecodingError) {
        conversationId = try reader.readString()
        kind = try reader.read()
        origin = try reader.read()
        serviceId = try reader.readOptionalString()
        agentId = try reader.readOptionalString()
        localNumber = try reader.readString()
        customerNumber = try reader.readString()
        status = try reader.read()
        openedAt = try reader.readVarint()
        lastOutbound = try reader.readOptionalString()
        messageCount = try reader.readVarint()
    }
}
