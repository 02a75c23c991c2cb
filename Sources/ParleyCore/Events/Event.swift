/// A fact the engine recorded: one case per ``EventType``.
public enum Event: Sendable, Hashable {
    case agentConfigured(AgentConfigured)
    case serviceConfigured(ServiceConfigured)
    case templateConfigured(TemplateConfigured)
    case settingsConfigured(SettingsConfigured)
    case agentLoggedIn(AgentLoggedIn)
    case agentLoggedOut(AgentLoggedOut)
    case agentStateChanged(AgentStateChanged)
    case conversationOpened(ConversationOpened)
    case messageSent(MessageSent)
    case deliveryReported(DeliveryReported)
    case inboundReceived(InboundReceived)
    case inboundIgnored(InboundIgnored)
    case chatAccepted(ChatAccepted)
    case chatEnded(ChatEnded)
    case recentRead(RecentRead)
    case messageSubmitted(MessageSubmitted)
    case partReported(PartReported)
    case customerOptedOut(CustomerOptedOut)
    case customerOptedIn(CustomerOptedIn)
    case optOutConfigured(OptOutConfigured)
    case systemMessageSent(SystemMessageSent)

    /// The event's type.
    public var type: EventType {
        switch self {
        case .agentConfigured: .agentConfigured
        case .serviceConfigured: .serviceConfigured
        case .templateConfigured: .templateConfigured
        case .settingsConfigured: .settingsConfigured
        case .agentLoggedIn: .agentLoggedIn
        case .agentLoggedOut: .agentLoggedOut
        case .agentStateChanged: .agentStateChanged
        case .conversationOpened: .conversationOpened
        case .messageSent: .messageSent
        case .deliveryReported: .deliveryReported
        case .inboundReceived: .inboundReceived
        case .inboundIgnored: .inboundIgnored
        case .chatAccepted: .chatAccepted
        case .chatEnded: .chatEnded
        case .recentRead: .recentRead
        case .messageSubmitted: .messageSubmitted
        case .partReported: .partReported
        case .customerOptedOut: .customerOptedOut
        case .customerOptedIn: .customerOptedIn
        case .optOutConfigured: .optOutConfigured
        case .systemMessageSent: .systemMessageSent
        }
    }

    /// The stream the event belongs to: `conversation:ID`, `agent:ID`, `service:ID`,
    /// `template:ID`, `settings`, or `unrouted` for inbound SMS (and the opt-outs they carry)
    /// that matched no conversation.
    public var stream: String {
        switch self {
        case .agentConfigured(let e): Stream.agent(e.agentId)
        case .serviceConfigured(let e): Stream.service(e.serviceId)
        case .templateConfigured(let e): Stream.template(e.templateId)
        case .settingsConfigured: Stream.settings
        case .agentLoggedIn(let e): Stream.agent(e.agentId)
        case .agentLoggedOut(let e): Stream.agent(e.agentId)
        case .agentStateChanged(let e): Stream.agent(e.agentId)
        case .recentRead(let e): Stream.agent(e.agentId)
        case .conversationOpened(let e): Stream.conversation(e.conversationId)
        case .messageSent(let e): Stream.conversation(e.conversationId)
        case .deliveryReported(let e): Stream.conversation(e.conversationId)
        case .messageSubmitted(let e): Stream.conversation(e.conversationId)
        case .partReported(let e): Stream.conversation(e.conversationId)
        case .inboundReceived(let e): Stream.conversation(e.conversationId)
        case .chatAccepted(let e): Stream.conversation(e.conversationId)
        case .chatEnded(let e): Stream.conversation(e.conversationId)
        case .inboundIgnored(let e): e.conversationId.map(Stream.conversation) ?? Stream.unrouted
        case .customerOptedOut(let e): e.conversationId.map(Stream.conversation) ?? Stream.unrouted
        case .customerOptedIn(let e): e.conversationId.map(Stream.conversation) ?? Stream.unrouted
        case .optOutConfigured(let e): e.serviceId.map(Stream.service) ?? Stream.settings
        case .systemMessageSent(let e): Stream.conversation(e.conversationId)
        }
    }

    /// Appends the event's data (not its envelope) in the stored layout.
    public func encodeData(to writer: inout BinaryWriter) {
        switch self {
        case .agentConfigured(let e): e.encode(to: &writer)
        case .serviceConfigured(let e): e.encode(to: &writer)
        case .templateConfigured(let e): e.encode(to: &writer)
        case .settingsConfigured(let e): e.encode(to: &writer)
        case .agentLoggedIn(let e): e.encode(to: &writer)
        case .agentLoggedOut(let e): e.encode(to: &writer)
        case .agentStateChanged(let e): e.encode(to: &writer)
        case .conversationOpened(let e): e.encode(to: &writer)
        case .messageSent(let e): e.encode(to: &writer)
        case .deliveryReported(let e): e.encode(to: &writer)
        case .inboundReceived(let e): e.encode(to: &writer)
        case .inboundIgnored(let e): e.encode(to: &writer)
        case .chatAccepted(let e): e.encode(to: &writer)
        case .chatEnded(let e): e.encode(to: &writer)
        case .recentRead(let e): e.encode(to: &writer)
        case .messageSubmitted(let e): e.encode(to: &writer)
        case .partReported(let e): e.encode(to: &writer)
        case .customerOptedOut(let e): e.encode(to: &writer)
        case .customerOptedIn(let e): e.encode(to: &writer)
        case .optOutConfigured(let e): e.encode(to: &writer)
        case .systemMessageSent(let e): e.encode(to: &writer)
        }
    }

    /// Reads an event's data of the given type.
    /// - Throws: ``BinaryDecodingError`` when the bytes do not hold that type's layout.
    public static func decodeData(
        type: EventType, schemaVersion: UInt16, from reader: inout BinaryReader
    ) throws(BinaryDecodingError) -> Event {
        guard schemaVersion == type.schemaVersion else {
            throw BinaryDecodingError(reason: "\(type.name) schema version \(schemaVersion) is not supported")
        }
        switch type {
        case .agentConfigured: return .agentConfigured(try reader.read())
        case .serviceConfigured: return .serviceConfigured(try reader.read())
        case .templateConfigured: return .templateConfigured(try reader.read())
        case .settingsConfigured: return .settingsConfigured(try reader.read())
        case .agentLoggedIn: return .agentLoggedIn(try reader.read())
        case .agentLoggedOut: return .agentLoggedOut(try reader.read())
        case .agentStateChanged: return .agentStateChanged(try reader.read())
        case .conversationOpened: return .conversationOpened(try reader.read())
        case .messageSent: return .messageSent(try reader.read())
        case .deliveryReported: return .deliveryReported(try reader.read())
        case .inboundReceived: return .inboundReceived(try reader.read())
        case .inboundIgnored: return .inboundIgnored(try reader.read())
        case .chatAccepted: return .chatAccepted(try reader.read())
        case .chatEnded: return .chatEnded(try reader.read())
        case .recentRead: return .recentRead(try reader.read())
        case .messageSubmitted: return .messageSubmitted(try reader.read())
        case .partReported: return .partReported(try reader.read())
        case .customerOptedOut: return .customerOptedOut(try reader.read())
        case .customerOptedIn: return .customerOptedIn(try reader.read())
        case .optOutConfigured: return .optOutConfigured(try reader.read())
        case .systemMessageSent: return .systemMessageSent(try reader.read())
        }
    }
}

/// Stream names. A stream groups the events of one conversation or one directory entry.
public enum Stream {
    /// `conversation:ID`
    public static func conversation(_ id: String) -> String { "conversation:" + id }
    /// `agent:ID`
    public static func agent(_ id: String) -> String { "agent:" + id }
    /// `service:ID`
    public static func service(_ id: String) -> String { "service:" + id }
    /// `template:ID`
    public static func template(_ id: String) -> String { "template:" + id }
    /// Contact-center-wide settings.
    public static let settings = "settings"
    /// Inbound SMS that matched no service, DID or conversation.
    public static let unrouted = "unrouted"
}
