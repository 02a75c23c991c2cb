/// What the engine knows of an agent: its directory entry, presence, and Recent read horizon.
public struct AgentRecord: Sendable, Hashable, Codable, BinaryCodable {
    public var agentId: String
    public var displayName: String
    public var did: String?
    public var smsAllowed: Bool
    public var services: [String]
    public var state: AgentState
    /// The call being handled in Busy and After Call Work.
    public var call: CallContext?
    /// Recent items at or below this position are read.
    public var readHorizon: UInt64
    /// Recent items above the read horizon.
    public var unread: UInt64

    /// Creates a record.
    public init(
        agentId: String, displayName: String, did: String?, smsAllowed: Bool, services: [String],
        state: AgentState = .loggedOut, call: CallContext? = nil, readHorizon: UInt64 = 0, unread: UInt64 = 0
    ) {
        self.agentId = agentId
        self.displayName = displayName
        self.did = did
        self.smsAllowed = smsAllowed
        self.services = services
        self.state = state
        self.call = call
        self.readHorizon = readHorizon
        self.unread = unread
    }

    /// Writes the fields in declaration order.
    public func encode(to writer: inout BinaryWriter) {
        writer.write(agentId)
        writer.write(displayName)
        writer.write(did)
        writer.write(smsAllowed)
        writer.write(services)
        writer.write(state)
        writer.write(call)
        writer.writeVarint(readHorizon)
        writer.writeVarint(unread)
    }

    /// Reads the fields in declaration order.
    public init(from reader: inout BinaryReader) throws(BinaryDecodingError) {
        agentId = try reader.readString()
        displayName = try reader.readString()
        did = try reader.readOptionalString()
        smsAllowed = try reader.readBool()
        services = try reader.readStrings()
        state = try reader.read()
        call = try reader.readOptional()
        readHorizon = try reader.readVarint()
        unread = try reader.readVarint()
    }
}
