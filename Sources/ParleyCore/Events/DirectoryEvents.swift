/// An agent was created or reconfigured. Its presence state is unchanged.
public struct AgentConfigured: Sendable, Hashable, Codable, BinaryCodable {
    public var agentId: String
    public var displayName: String
    /// The agent's personal DID number (E.164), if any.
    public var did: String?
    /// Whether the agent may send SMS.
    public var smsAllowed: Bool
    /// The services the agent serves.
    public var services: [String]

    /// Creates the event.
    public init(agentId: String, displayName: String, did: String?, smsAllowed: Bool, services: [String]) {
        self.agentId = agentId
        self.displayName = displayName
        self.did = did
        self.smsAllowed = smsAllowed
        self.services = services
    }

    /// Writes the fields in declaration order.
    public func encode(to writer: inout BinaryWriter) {
        writer.write(agentId)
        writer.write(displayName)
        writer.write(did)
        writer.write(smsAllowed)
        writer.write(services)
    }

    /// Reads the fields in declaration order.
    public init(from reader: inout BinaryReader) throws(BinaryDecodingError) {
        agentId = try reader.readString()
        displayName = try reader.readString()
        did = try reader.readOptionalString()
        smsAllowed = try reader.readBool()
        services = try reader.readStrings()
    }
}

/// A service was created or reconfigured.
public struct ServiceConfigured: Sendable, Hashable, Codable, BinaryCodable {
    public var serviceId: String
    public var name: String
    /// The service's SMS number (E.164), if it has one.
    public var smsNumber: String?
    /// Whether agents may text through this service.
    public var smsEnabled: Bool
    /// Whether customers may start a chat by texting the service number.
    public var inboundChats: Bool

    /// Creates the event.
    public init(serviceId: String, name: String, smsNumber: String?, smsEnabled: Bool, inboundChats: Bool) {
        self.serviceId = serviceId
        self.name = name
        self.smsNumber = smsNumber
        self.smsEnabled = smsEnabled
        self.inboundChats = inboundChats
    }

    /// Writes the fields in declaration order.
    public func encode(to writer: inout BinaryWriter) {
        writer.write(serviceId)
        writer.write(name)
        writer.write(smsNumber)
        writer.write(smsEnabled)
        writer.write(inboundChats)
    }

    /// Reads the fields in declaration order.
    public init(from reader: inout BinaryReader) throws(BinaryDecodingError) {
        serviceId = try reader.readString()
        name = try reader.readString()
        smsNumber = try reader.readOptionalString()
        smsEnabled = try reader.readBool()
        inboundChats = try reader.readBool()
    }
}

/// A predefined message was created or changed.
public struct TemplateConfigured: Sendable, Hashable, Codable, BinaryCodable {
    public var templateId: String
    public var title: String
    public var text: String
    /// The services it is limited to; empty means every service.
    public var services: [String]

    /// Creates the event.
    public init(templateId: String, title: String, text: String, services: [String]) {
        self.templateId = templateId
        self.title = title
        self.text = text
        self.services = services
    }

    /// Writes the fields in declaration order.
    public func encode(to writer: inout BinaryWriter) {
        writer.write(templateId)
        writer.write(title)
        writer.write(text)
        writer.write(services)
    }

    /// Reads the fields in declaration order.
    public init(from reader: inout BinaryReader) throws(BinaryDecodingError) {
        templateId = try reader.readString()
        title = try reader.readString()
        text = try reader.readString()
        services = try reader.readStrings()
    }
}

/// Contact-center-wide SMS settings changed.
public struct SettingsConfigured: Sendable, Hashable, Codable, BinaryCodable {
    /// Whether front ends show the SMS counter (the count itself is always computed).
    public var smsCounterEnabled: Bool
    /// The most segments one outbound message may take.
    public var maxSegments: Int

    /// Creates the event.
    public init(smsCounterEnabled: Bool, maxSegments: Int) {
        self.smsCounterEnabled = smsCounterEnabled
        self.maxSegments = maxSegments
    }

    /// Writes the fields in declaration order.
    public func encode(to writer: inout BinaryWriter) {
        writer.write(smsCounterEnabled)
        writer.writeVarint(maxSegments)
    }

    /// Reads the fields in declaration order.
    public init(from reader: inout BinaryReader) throws(BinaryDecodingError) {
        smsCounterEnabled = try reader.readBool()
        maxSegments = try reader.readCount()
    }
}
