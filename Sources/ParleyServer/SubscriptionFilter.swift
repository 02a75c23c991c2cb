import ParleyCore
import ParleyProtocol
import ParleyStore

/// Which events a subscription delivers: everything, or those of an agent, a conversation,
/// and/or of some types (all given conditions must hold).
struct SubscriptionFilter: Sendable {
    var agentId: String?
    var conversationId: String?
    var types: Set<EventType>?

    /// Whether the filter passes everything.
    var isEverything: Bool { agentId == nil && conversationId == nil && types == nil }

    /// Reads `filter` params.
    init(_ params: Params?) throws(ProtocolError) {
        guard var p = params else { return }
        agentId = try p.optionalIdentifier("agentId")
        conversationId = try p.optionalServerId("conversationId")
        if let names = try p.optionalStrings("types") {
            var types = Set<EventType>()
            for name in names {
                guard let type = EventType(name: name) else {
                    throw .invalidArgument("filter.types", "names an unknown event type \"\(name)\"")
                }
                types.insert(type)
            }
            self.types = types
        }
        try p.finish()
    }

    /// Whether `event` passes, looking up conversation owners in `view` for agent filters
    /// unless the feed already holds the conversation's state.
    func matches(_ event: FeedEvent, view: some ProjectionReading) throws -> Bool {
        let recorded = event.recorded
        if let types, !types.contains(recorded.type) { return false }
        if let conversationId, recorded.stream != Stream.conversation(conversationId) { return false }
        if let agentId { return try concerns(agentId, recorded, known: event.conversation, view: view) }
        return true
    }

    /// Whether an event is something agent `id`'s front end shows.
    private func concerns(
        _ id: String, _ recorded: RecordedEvent, known: ConversationRecord?, view: some ProjectionReading
    ) throws -> Bool {
        if recorded.stream.utf8.count == id.utf8.count + 6, recorded.stream.hasPrefix("agent:"), recorded.stream.hasSuffix(id) {
            return true  // its own stream, `agent:ID`, without building the name
        }
        let conversationId: String
        switch recorded.event {
        case .conversationOpened(let e):
            if e.agentId == id { return true }
            guard e.agentId == nil, let service = e.serviceId else { return false }
            return try view.agent(id)?.services.contains(service) ?? false
        case .messageSent(let e): conversationId = e.conversationId
        case .deliveryReported(let e): conversationId = e.conversationId
        case .messageSubmitted(let e): conversationId = e.conversationId
        case .inboundReceived(let e): conversationId = e.conversationId
        case .chatAccepted(let e):
            if e.agentId == id { return true }
            conversationId = e.conversationId
        case .chatEnded(let e): conversationId = e.conversationId
        default: return false
        }
        guard let conversation = try Self.conversation(conversationId, known: known, view: view) else { return false }
        if conversation.agentId == id { return true }
        let waitingOrJustTaken = conversation.status == .pending || recorded.type == .chatAccepted
        guard waitingOrJustTaken, let service = conversation.serviceId else { return false }
        return try view.agent(id)?.services.contains(service) ?? false
    }

    /// The agent's unread count to attach when `recorded` changes it.
    func unread(after event: FeedEvent, view: some ProjectionReading) throws -> UInt64? {
        let recorded = event.recorded
        guard let agentId else { return nil }
        switch recorded.event {
        case .recentRead(let e) where e.agentId == agentId: return try view.agent(agentId)?.unread
        case .inboundReceived(let e):
            guard let conversation = try Self.conversation(e.conversationId, known: event.conversation, view: view),
                conversation.kind == .did,
                conversation.agentId == agentId
            else { return nil }
            return try view.agent(agentId)?.unread
        default: return nil
        }
    }

    /// The conversation `id`: the feed's copy when it is that one, else from `view`.
    private static func conversation(
        _ id: String, known: ConversationRecord?, view: some ProjectionReading
    ) throws -> ConversationRecord? {
        if let known, known.conversationId == id { return known }
        return try view.conversation(id)
    }
}
