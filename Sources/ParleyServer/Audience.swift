import ParleyCore

/// Whom a committed event concerns among agent-filtered subscriptions: the agents it names or
/// whose conversation it is, and the services whose agents it reaches (a chat request waiting,
/// or just taken). The one definition of an agent filter (``SubscriptionFilter`` decides with
/// it), computed once per event when the feed publishes it, so that only the subscriptions it
/// concerns wake up: fan-out costs what is delivered, not subscriptions × events.
struct Audience: Sendable {
    /// The conversation's state was not known where it was computed: it may concern anyone.
    var everyone = false
    var agents: [String] = []
    var services: [String] = []

    /// Whether an agent subscription with `interest` may be concerned.
    func reaches(_ interest: Interest) -> Bool {
        everyone || agents.contains(interest.agentId) || services.contains { interest.services.contains($0) }
    }
}

extension Audience {
    /// The conversation whose state decides the audience of `recorded`, if any: the one it
    /// concerns (``ParleyCore/Event/conversationId``), except for an opening, whose audience
    /// its own data gives, and an ignored inbound, which reaches no agent subscription.
    static func conversationId(of recorded: RecordedEvent) -> String? {
        switch recorded.event {
        case .conversationOpened, .inboundIgnored: nil
        default: recorded.event.conversationId
        }
    }

    /// The audience of `recorded`, from its data and the state of its conversation
    /// (`conversation`; ``everyone`` when it is not that conversation's or `nil`).
    init(of recorded: RecordedEvent, conversation: ConversationRecord?) {
        if recorded.stream.hasPrefix("agent:") { agents.append(String(recorded.stream.dropFirst(6))) }
        switch recorded.event {
        case .conversationOpened(let e):
            if let agent = e.agentId {
                agents.append(agent)
            } else if let service = e.serviceId {
                services.append(service)
            }
        case .chatAccepted(let e): agents.append(e.agentId)
        default: break
        }
        guard let conversationId = Self.conversationId(of: recorded) else { return }
        guard let conversation, conversation.conversationId == conversationId else {
            everyone = true
            return
        }
        if let agent = conversation.agentId { agents.append(agent) }
        if conversation.status == .pending || recorded.type == .chatAccepted, let service = conversation.serviceId {
            services.append(service)
        }
    }
}

/// The audience of a published batch of events: whom any of them can concern, in sets, so
/// that checking a thousand waiters against a large batch stays cheap.
struct BatchAudience: Sendable {
    private var agents: Set<String> = []
    private var services: Set<String> = []

    /// The union of the events' audiences, or `nil` when one of them concerns everyone.
    init?(_ events: [FeedEvent]) {
        for event in events {
            let audience = event.audience
            if audience.everyone { return nil }
            agents.formUnion(audience.agents)
            services.formUnion(audience.services)
        }
    }

    /// Whether an agent subscription with `interest` may be concerned by any of the events.
    func reaches(_ interest: Interest) -> Bool {
        agents.contains(interest.agentId) || !services.isDisjoint(with: interest.services)
    }
}

/// What a waiting agent-filtered subscription may be concerned by: its agent, and the
/// services that agent belongs to (as the projections held them when it began to wait).
struct Interest: Sendable {
    var agentId: String
    var services: Set<String>
}
