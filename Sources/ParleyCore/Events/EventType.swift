/// Every kind of event, with its stored 16-bit code and its name in JSON.
///
/// Codes are never reused; a retired type keeps its code forever.
public enum EventType: UInt16, Sendable, Hashable, CaseIterable, Codable {
    case agentConfigured = 1
    case serviceConfigured = 2
    case templateConfigured = 3
    case settingsConfigured = 4
    case agentLoggedIn = 5
    case agentLoggedOut = 6
    case agentStateChanged = 7
    case conversationOpened = 8
    case messageSent = 9
    case deliveryReported = 10
    case inboundReceived = 11
    case inboundIgnored = 12
    case chatAccepted = 13
    case chatEnded = 14
    case recentRead = 15
    case messageSubmitted = 16
    case partReported = 17
    case customerOptedOut = 18
    case customerOptedIn = 19
    case optOutConfigured = 20
    case systemMessageSent = 21

    /// The name used in JSON and in `schemas/events/`, e.g. `MessageSent`.
    public var name: String {
        switch self {
        case .agentConfigured: "AgentConfigured"
        case .serviceConfigured: "ServiceConfigured"
        case .templateConfigured: "TemplateConfigured"
        case .settingsConfigured: "SettingsConfigured"
        case .agentLoggedIn: "AgentLoggedIn"
        case .agentLoggedOut: "AgentLoggedOut"
        case .agentStateChanged: "AgentStateChanged"
        case .conversationOpened: "ConversationOpened"
        case .messageSent: "MessageSent"
        case .deliveryReported: "DeliveryReported"
        case .inboundReceived: "InboundReceived"
        case .inboundIgnored: "InboundIgnored"
        case .chatAccepted: "ChatAccepted"
        case .chatEnded: "ChatEnded"
        case .recentRead: "RecentRead"
        case .messageSubmitted: "MessageSubmitted"
        case .partReported: "PartReported"
        case .customerOptedOut: "CustomerOptedOut"
        case .customerOptedIn: "CustomerOptedIn"
        case .optOutConfigured: "OptOutConfigured"
        case .systemMessageSent: "SystemMessageSent"
        }
    }

    /// The type with this JSON name, if any.
    public init?(name: String) {
        guard let match = Self.allCases.first(where: { $0.name == name }) else { return nil }
        self = match
    }

    /// The version of this type's data layout written today.
    public var schemaVersion: UInt16 { 1 }
}
