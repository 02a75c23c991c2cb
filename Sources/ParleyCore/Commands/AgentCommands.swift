/// Log an agent in, entering `Ready` or `NotReady`.
public struct Login: Sendable, Hashable, Codable {
    public var agentId: String
    public var state: AgentState

    /// Creates the command.
    public init(agentId: String, state: AgentState = .notReady) {
        self.agentId = agentId
        self.state = state
    }
}

/// Log an agent out.
public struct Logout: Sendable, Hashable, Codable {
    public var agentId: String

    /// Creates the command.
    public init(agentId: String) { self.agentId = agentId }
}

/// Change a logged-in agent's state; `Busy` and `AfterCallWork` need the call.
public struct SetState: Sendable, Hashable, Codable {
    public var agentId: String
    public var state: AgentState
    public var call: CallContext?

    /// Creates the command.
    public init(agentId: String, state: AgentState, call: CallContext? = nil) {
        self.agentId = agentId
        self.state = state
        self.call = call
    }
}

/// Mark an agent's Recent items read up to a log position.
public struct MarkRecentRead: Sendable, Hashable, Codable {
    public var agentId: String
    public var upTo: UInt64

    /// Creates the command.
    public init(agentId: String, upTo: UInt64) {
        self.agentId = agentId
        self.upTo = upTo
    }
}

/// Accept a pending chat request.
public struct AcceptChat: Sendable, Hashable, Codable {
    public var agentId: String
    public var conversationId: String

    /// Creates the command.
    public init(agentId: String, conversationId: String) {
        self.agentId = agentId
        self.conversationId = conversationId
    }
}

/// End a chat the agent owns.
public struct EndChat: Sendable, Hashable, Codable {
    public var agentId: String
    public var conversationId: String

    /// Creates the command.
    public init(agentId: String, conversationId: String) {
        self.agentId = agentId
        self.conversationId = conversationId
    }
}
