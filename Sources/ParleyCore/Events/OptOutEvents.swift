/// A customer texted an opt-out keyword (STOP and the like) to a local number: from now on no
/// agent may text them from that number, until they opt back in.
public struct CustomerOptedOut: Sendable, Hashable, Codable, BinaryCodable {
    /// The service number or DID the customer opted out of.
    public var localNumber: String
    /// The customer's number.
    public var customerNumber: String
    /// The keyword, as the daemon matched it (upper case, without surrounding spaces).
    public var keyword: String
    /// The inbound SMS that carried it.
    public var messageId: String
    /// The conversation that SMS joined, if it joined one.
    public var conversationId: String?

    /// Creates the event.
    public init(
        localNumber: String, customerNumber: String, keyword: String, messageId: String, conversationId: String?
    ) {
        self.localNumber = localNumber
        self.customerNumber = customerNumber
        self.keyword = keyword
        self.messageId = messageId
        self.conversationId = conversationId
    }

    /// Writes the fields in declaration order.
    public func encode(to writer: inout BinaryWriter) {
        writer.write(localNumber)
        writer.write(customerNumber)
        writer.write(keyword)
        writer.write(messageId)
        writer.write(conversationId)
    }

    /// Reads the fields in declaration order.
    public init(from reader: inout BinaryReader) throws(BinaryDecodingError) {
        localNumber = try reader.readString()
        customerNumber = try reader.readString()
        keyword = try reader.readString()
        messageId = try reader.readString()
        conversationId = try reader.readOptionalString()
    }
}

/// A customer who had opted out texted an opt-in keyword (START and the like) to that local
/// number: agents may text them from it again. The same fields as ``CustomerOptedOut``.
public struct CustomerOptedIn: Sendable, Hashable, Codable, BinaryCodable {
    public var localNumber: String
    public var customerNumber: String
    public var keyword: String
    public var messageId: String
    public var conversationId: String?

    /// Creates the event.
    public init(
        localNumber: String, customerNumber: String, keyword: String, messageId: String, conversationId: String?
    ) {
        self.localNumber = localNumber
        self.customerNumber = customerNumber
        self.keyword = keyword
        self.messageId = messageId
        self.conversationId = conversationId
    }

    /// Writes the fields in declaration order.
    public func encode(to writer: inout BinaryWriter) {
        writer.write(localNumber)
        writer.write(customerNumber)
        writer.write(keyword)
        writer.write(messageId)
        writer.write(conversationId)
    }

    /// Reads the fields in declaration order.
    public init(from reader: inout BinaryReader) throws(BinaryDecodingError) {
        localNumber = try reader.readString()
        customerNumber = try reader.readString()
        keyword = try reader.readString()
        messageId = try reader.readString()
        conversationId = try reader.readOptionalString()
    }
}
