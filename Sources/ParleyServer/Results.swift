import ParleyCore
import ParleyProtocol
import ParleyStore

/// The greeting, sent as `server.hello` and returned by `session.hello` and `server.info`.
struct Greeting: Encodable {
    struct PeerInfo: Encodable {
        var uid: UInt32
        var gids: [UInt32]
        var roles: [Role]
    }

    var `protocol` = ProtocolInfo.name
    var versions = [ProtocolInfo.version]
    var version = ProtocolInfo.version
    var server = "parleyd " + ProtocolInfo.serverVersion
    var limits: ServerLimits
    var peer: PeerInfo
    var head: UInt64
}

/// An event in a command result: where it landed.
struct AppendedEvent {
    var position: UInt64
    var type: String
    var stream: String
}

/// The result of every command: its last position, whether it is a replay, its events,
/// and the ids and outcome a client needs next.
///
/// Written on every command, so straight into bytes (``write(to:)``), not through `Encodable`.
struct CommandAnswer {
    var position: UInt64
    var replayed: Bool
    var events: [AppendedEvent]
    var conversationId: String?
    var messageId: String?
    var outcome: String?
    /// For `carrier.status`: the message's effective status after the report.
    var status: String?
    /// For `carrier.status`: the status this report carried (it may not move the effective one).
    var reported: String?
    var encoding: String?
    var characters: Int?
    var segments: Int?
    var state: String?
    /// For `carrier.submit`: the message's submission count, this one included.
    var attempt: Int?

    /// The answer to `command`, from its result and the state it left: built once, from what
    /// the write itself read, with no read after the commit.
    init(_ result: CommandResult, command: Command) {
        self.init(events: result)
        let after = result.state
        switch command {
        case .reportDelivery(let c):
            // The report's own status, and the message's effective one (a late report does not
            // move it back; a part's report moves it only as the parts' statuses do).
            if messageId != nil, let message = after.message {
                reported = c.status.rawValue
                status = message.status?.rawValue
            }
        case .receive:
            if outcome == "conversation", let id = conversationId,
                let conversation = after.conversations.last(where: { $0?.conversationId == id }) ?? nil
            {
                if conversation.kind == .did {
                    outcome = "did"
                } else if conversation.status == .pending {
                    outcome = "chatRequest"
                }
            }
        // An agent command always answers `state`: the one its event set (so a replay repeats the
        // original), or, when it appended nothing, the agent's state after it.
        case .login, .logout, .setState: state = state ?? after.agent?.state.rawValue
        case .acceptChat(let c): conversationId = c.conversationId
        default: break
        }
    }

    /// Writes the members, in key order, leaving out those that are `nil`.
    func write(to object: inout JSONObjectWriter) {
        object.integer("attempt", attempt)
        object.integer("characters", characters)
        object.string("conversationId", conversationId)
        object.string("encoding", encoding)
        object.objects("events", events) { event, appended in
            event.integer("position", appended.position)
            event.string("stream", appended.stream)
            event.string("type", appended.type)
        }
        object.string("messageId", messageId)
        object.string("outcome", outcome)
        object.integer("position", position)
        object.bool("replayed", replayed)
        object.string("reported", reported)
        object.integer("segments", segments)
        object.string("state", state)
        object.string("status", status)
    }

    private init(events result: CommandResult) {
        position = result.position
        replayed = result.replayed
        events = result.events.map { AppendedEvent(position: $0.position, type: $0.type.name, stream: $0.stream) }
        for recorded in result.events {
            switch recorded.event {
            case .messageSent(let e):
                conversationId = e.conversationId
                messageId = e.messageId
                status = DeliveryStatus.queued.rawValue
                encoding = e.encoding.rawValue
                characters = e.characters
                segments = e.segments
            case .conversationOpened(let e):
                conversationId = e.conversationId
                if e.origin == .customer { outcome = e.kind == .did ? "did" : "chatRequest" }
            case .inboundReceived(let e):
                conversationId = e.conversationId
                messageId = e.messageId
                outcome = outcome ?? "conversation"
            case .inboundIgnored(let e):
                messageId = e.messageId
                conversationId = e.conversationId
                outcome = "ignored"
            case .deliveryReported(let e):
                messageId = e.messageId
                status = e.status.rawValue
            case .partReported(let e): messageId = e.messageId
            case .chatAccepted(let e): conversationId = e.conversationId
            case .chatEnded(let e): conversationId = e.conversationId
            case .messageSubmitted(let e):
                conversationId = e.conversationId
                messageId = e.messageId
                attempt = e.attempt
            case .agentLoggedIn(let e): state = e.state.rawValue
            case .agentLoggedOut: state = AgentState.loggedOut.rawValue
            case .agentStateChanged(let e): state = e.state.rawValue
            default: break
            }
        }
    }
}

struct DirectoryList: Encodable {
    var agents: [AgentRecord]
    var services: [ServiceConfigured]
    var templates: [TemplateConfigured]
    var settings: SettingsConfigured
    /// The directory's default opt-out settings (built in until configured).
    var optOut: OptOutConfigured
    /// The services with opt-out settings of their own.
    var serviceOptOuts: [OptOutConfigured]
    var asOf: UInt64
}

struct AgentViewAnswer: Encodable {
    var agent: AgentRecord
    var openChats: [ConversationRecord]
    var pendingRequests: [ConversationRecord]
    /// The open chats and chat requests whose customer opted out of their number.
    var optedOut: [String]
    var unread: UInt64
    var asOf: UInt64
}

struct CountAnswer: Encodable {
    var encoding: String
    var characters: Int
    var units: Int
    var segments: Int
    var remaining: Int
    var nonGsm: [String]
    var display: String
    var maxSegments: Int
    var withinLimit: Bool
    var counterEnabled: Bool
    var asOf: UInt64
}

struct TemplatesAnswer: Encodable {
    var templates: [TemplateConfigured]
    var asOf: UInt64
}

struct ConversationAnswer: Encodable {
    var conversation: ConversationRecord
    var messages: [MessageRecord]
    /// The sequence to pass as `after` for the next page.
    var next: UInt64
    /// Whether the customer opted out of texts from the conversation's local number.
    var customerOptedOut: Bool
    var asOf: UInt64
}

struct PendingAnswer: Encodable {
    /// Outbound messages no carrier has accepted yet, oldest first.
    var messages: [MessageRecord]
    /// The position to pass as `after` for the next page (the last message's position).
    var next: UInt64
    var asOf: UInt64
}

struct RecentItem: Encodable {
    var position: UInt64
    var unread: Bool
    var message: MessageRecord
}

struct RecentAnswer: Encodable {
    var agentId: String
    var unread: UInt64
    var readHorizon: UInt64
    var items: [RecentItem]
    var asOf: UInt64
}

struct HeadAnswer: Encodable {
    var position: UInt64
    var hash: String
    var asOf: UInt64
}

struct SubscribeAnswer: Encodable {
    var subscription: String
    var after: UInt64
    var asOf: UInt64
}

struct UnsubscribeAnswer: Encodable {
    var subscription: String
    var resumeAfter: UInt64
}
