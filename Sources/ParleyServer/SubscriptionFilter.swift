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

    /// The agent condition's interest as `view` holds it (the agent and its services), read once
    /// for a batch of ``matches(_:interest:view:)``; `nil` without an agent condition.
    func interest(in view: some ProjectionReading) throws -> Interest? {
        guard let agentId else { return nil }
        return Interest(agentId: agentId, services: Set(try view.agent(agentId)?.services ?? []))
    }

    /// Whether `event` passes; `interest` is ``interest(in:)`` of the same `view`.
    ///
    /// Called for every event and subscription: it reads the event in place (a copy of the
    /// recorded event would retain each of its strings) and rules on the audience first.
    func matches(_ event: FeedEvent, interest: Interest?, view: some ProjectionReading) throws -> Bool {
        if let interest, !event.audience.everyone, !event.audience.reaches(interest) { return false }
        if let types, !types.contains(event.recorded.type) { return false }
        if let conversationId, event.recorded.stream != Stream.conversation(conversationId) { return false }
        guard let interest, event.audience.everyone else { return true }
        // The feed had no state of its conversation: read it. One that is not there concerns
        // only the agents the event itself names.
        let conversation = try Audience.conversationId(of: event.recorded).flatMap { try view.conversation($0) }
        let audience = Audience(of: event.recorded, conversation: conversation)
        return audience.everyone ? audience.agents.contains(interest.agentId) : audience.reaches(interest)
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
