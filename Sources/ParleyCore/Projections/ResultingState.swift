/// What the projections held right after a command was applied, read in the command's own
/// write transaction: what its answer and the live feed need, so neither reads again after
/// the commit.
public struct ResultingState: Sendable, Hashable {
    /// For each of the command's events, in order: the conversation it concerns, as the whole
    /// command left it (`nil` when it concerns none).
    public var conversations: [ConversationRecord?]
    /// For a delivery report: the message after it (its effective status).
    public var message: MessageRecord?
    /// For an agent's login, logout or state change: the agent after it, also when it
    /// changed nothing.
    public var agent: AgentRecord?

    /// Nothing known.
    public init(conversations: [ConversationRecord?] = [], message: MessageRecord? = nil, agent: AgentRecord? = nil) {
        self.conversations = conversations
        self.message = message
        self.agent = agent
    }

    /// Reads the state `command` left, whose `events` the projections in `view` have applied.
    public static func read(after command: Command, events: [RecordedEvent], in view: some ProjectionReading) throws
        -> Self
    {
        var state = ResultingState()
        var found: [String: ConversationRecord] = [:]
        state.conversations = try events.map { recorded -> ConversationRecord? in
            guard let id = recorded.event.conversationId else { return nil }
            if let known = found[id] { return known }
            let record = try view.conversation(id)
            found[id] = record
            return record
        }
        switch command {
        case .reportDelivery:
            for event in events.map(\.event) {
                switch event {
                case .deliveryReported(let e): state.message = try view.message(e.messageId)
                case .partReported(let e): state.message = try view.message(e.messageId)
                default: break
                }
            }
        case .login(let c): state.agent = try view.agent(c.agentId)
        case .logout(let c): state.agent = try view.agent(c.agentId)
        case .setState(let c): state.agent = try view.agent(c.agentId)
        default: break
        }
        return state
    }
}

extension Event {
    /// The conversation this event concerns, if any.
    public var conversationId: String? {
        switch self {
        case .conversationOpened(let e): e.conversationId
        case .messageSent(let e): e.conversationId
        case .deliveryReported(let e): e.conversationId
        case .messageSubmitted(let e): e.conversationId
        case .partReported(let e): e.conversationId
        case .inboundReceived(let e): e.conversationId
        case .inboundIgnored(let e): e.conversationId
        case .chatAccepted(let e): e.conversationId
        case .chatEnded(let e): e.conversationId
        case .customerOptedOut(let e): e.conversationId
        case .customerOptedIn(let e): e.conversationId
        case .systemMessageSent(let e): e.conversationId
        default: nil
        }
    }
}
