/// A conversation began between a local number (service or DID) and a customer.
public struct ConversationOpened: Sendable, Hashable, Codable, BinaryCodable {
    public var conversationId: String
    public var kind: ConversationKind
    public var origin: ConversationOrigin
    /// The service, for service conversations.
    public var serviceId: String?
    /// The owner; absent while a customer-initiated chat request waits for an agent.
    public var agentId: String?
    /// The service number or the agent's DID.
    public var localNumber: String
    public var customerNumber: String

    /// Creates the event.
    public init(
        conversationId: String, kind: ConversationKind, origin: ConversationOrigin, serviceId: String?,
        agentId: String?, localNumber: String, customerNumber: String
    ) {
        self.conversationId = conversationId
        self.kind = kind
        self.origin = origin
        self.serviceId = serviceId
        self.agentId = agentId
        self.localNumber = localNumber
        self.customerNumber = customerNumber
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
    }
}

/// An agent accepted a pending chat request and owns the conversation from now on.
public struct ChatAccepted: Sendable, Hashable, Codable, BinaryCodable {
    public var conversationId: String
    public var agentId: String

    /// Creates the event.
    public init(conversationId: String, agentId: String) {
        self.conversationId = conversationId
        self.agentId = agentId
    }

    /// Writes conversationId, agentId.
    public func encode(to writer: inout BinaryWriter) {
        writer.write(conversationId)
        writer.write(agentId)
    }

    /// Reads conversationId, agentId.
    public init(from reader: inout BinaryReader) throws(BinaryDecodingError) {
        conversationId = try reader.readString()
        agentId = try reader.readString()
    }
}

/// The owning agent ended a chat; later SMS from the customer do not join it.
public struct ChatEnded: Sendable, Hashable, Codable, BinaryCodable {
    public var conversationId: String
    public var agentId: String

    /// Creates the event.
    public init(conversationId: String, agentId: String) {
        self.conversationId = conversationId
        self.agentId = agentId
    }

    /// Writes conversationId, agentId.
    public func encode(to writer: inout BinaryWriter) {
        writer.write(conversationId)
        writer.write(agentId)
    }

    /// Reads conversationId, agentId.
    public init(from reader: inout BinaryReader) throws(BinaryDecodingError) {
        conversationId = try reader.readString()
        agentId = try reader.readString()
    }
}
