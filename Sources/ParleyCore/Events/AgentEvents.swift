/// An agent logged in and entered its first state.
public struct AgentLoggedIn: Sendable, Hashable, Codable, BinaryCodable {
    public var agentId: String
    /// `Ready` or `NotReady`.
    public var state: AgentState

    /// Creates the event.
    public init(agentId: String, state: AgentState) {
        self.agentId = agentId
        self.state = state
    }

    /// Writes agentId, state.
    public func encode(to writer: inout BinaryWriter) {
        writer.write(agentId)
        writer.write(state)
    }

    /// Reads agentId, state.
    public init(from reader: inout BinaryReader) throws(BinaryDecodingError) {
        agentId = try reader.readString()
        state = try reader.read()
    }
}

/// An agent logged out. Its conversations and unread count stay.
public struct AgentLoggedOut: Sendable, Hashable, Codable, BinaryCodable {
    public var agentId: String

    /// Creates the event.
    public init(agentId: String) { self.agentId = agentId }

    /// Writes agentId.
    public func encode(to writer: inout BinaryWriter) { writer.write(agentId) }

    /// Reads agentId.
    public init(from reader: inout BinaryReader) throws(BinaryDecodingError) { agentId = try reader.readString() }
}

/// A logged-in agent changed state; Busy and After Call Work carry the call.
public struct AgentStateChanged: Sendable, Hashable, Codable, BinaryCodable {
    public var agentId: String
    public var state: AgentState
    /// The call being handled, present exactly in Busy and After Call Work.
    public var call: CallContext?

    /// Creates the event.
    public init(agentId: String, state: AgentState, call: CallContext?) {
        self.agentId = agentId
        self.state = state
        self.call = call
    }

    /// Writes agentId, state, call.
    public func encode(to writer: inout BinaryWriter) {
        writer.write(agentId)
        writer.write(state)
        writer.write(call)
    }

    /// Reads agentId, state, call.
    public init(from reader: inout BinaryReader) throws(BinaryDecodingError) {
        agentId = try reader.readString()
        state = try reader.read()
        call = try reader.readOptional()
    }
}

/// An agent visited Recent and read every item up to a log position.
public struct RecentRead: Sendable, Hashable, Codable, BinaryCodable {
    public var agentId: String
    /// The position of the newest Recent item the front end showed.
    public var upTo: UInt64

    /// Creates the event.
    public init(agentId: String, upTo: UInt64) {
        self.agentId = agentId
        self.upTo = upTo
    }

    /// Writes agentId, upTo (varint).
    public func encode(to writer: inout BinaryWriter) {
        writer.write(agentId)
        writer.writeVarint(upTo)
    }

    /// Reads agentId, upTo.
    public init(from reader: inout BinaryReader) throws(BinaryDecodingError) {
        agentId = try reader.readString()
        upTo = try reader.readVarint()
    }
}
