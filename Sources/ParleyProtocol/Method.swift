public import ParleyCore

/// Every method of the protocol, with the roles that may call it.
public enum Method: String, Sendable, CaseIterable {
    case sessionHello = "session.hello"
    case serverInfo = "server.info"
    case rpcDiscover = "rpc.discover"
    case directoryPutAgent = "directory.putAgent"
    case directoryPutService = "directory.putService"
    case directoryPutTemplate = "directory.putTemplate"
    case directoryPutSettings = "directory.putSettings"
    case directoryPutOptOut = "directory.putOptOut"
    case directoryList = "directory.list"
    case agentLogin = "agent.login"
    case agentLogout = "agent.logout"
    case agentSetState = "agent.setState"
    case agentView = "agent.view"
    case smsCount = "sms.count"
    case smsSend = "sms.send"
    case templatesList = "templates.list"
    case carrierInbound = "carrier.inbound"
    case carrierStatus = "carrier.status"
    case carrierSubmit = "carrier.submit"
    case carrierPending = "carrier.pending"
    case chatAccept = "chat.accept"
    case chatEnd = "chat.end"
    case conversationGet = "conversation.get"
    case recentGet = "recent.get"
    case recentMarkRead = "recent.markRead"
    case logRead = "log.read"
    case logHead = "log.head"
    case eventsSubscribe = "events.subscribe"
    case eventsUnsubscribe = "events.unsubscribe"

    /// Whether the method appends to the log (only these go through the writer).
    public var isCommand: Bool {
        switch self {
        case .directoryPutAgent, .directoryPutService, .directoryPutTemplate, .directoryPutSettings, .directoryPutOptOut,
            .agentLogin, .agentLogout,
            .agentSetState, .smsSend, .carrierInbound, .carrierStatus, .carrierSubmit, .chatAccept, .chatEnd, .recentMarkRead:
            true
        default: false
        }
    }

    /// Whether the method's answer is read from the projections (and carries their `asOf`).
    public var readsProjections: Bool {
        switch self {
        case .directoryList, .agentView, .smsCount, .templatesList, .conversationGet, .carrierPending, .recentGet: true
        default: false
        }
    }

    /// The roles allowed to call the method. Admin may call everything; an auditor never appends.
    public var roles: Set<Role> {
        switch self {
        case .sessionHello, .serverInfo, .rpcDiscover, .directoryList, .smsCount: Self.everyone
        case .directoryPutAgent, .directoryPutService, .directoryPutTemplate, .directoryPutSettings, .directoryPutOptOut:
            Self.directoryWriters
        case .agentLogin, .agentLogout, .agentSetState, .smsSend, .chatAccept, .chatEnd, .recentMarkRead:
            Self.agentDesks
        case .agentView, .templatesList, .conversationGet, .recentGet: Self.agentReaders
        case .carrierInbound, .carrierStatus, .carrierSubmit, .carrierPending: Self.carriers
        case .logRead, .logHead: Self.logReaders
        case .eventsSubscribe, .eventsUnsubscribe: Self.everyone
        }
    }

    // Built once: every request asks.
    private static let everyone: Set<Role> = [.admin, .frontend, .carrier, .auditor, .system]
    private static let directoryWriters: Set<Role> = [.admin, .system]
    private static let agentDesks: Set<Role> = [.admin, .frontend, .system]
    private static let agentReaders: Set<Role> = [.admin, .frontend, .auditor, .system]
    private static let carriers: Set<Role> = [.admin, .carrier, .system]
    private static let logReaders: Set<Role> = [.admin, .auditor, .system]

    /// Methods open to any peer, even one with no role.
    public var isOpen: Bool { self == .sessionHello || self == .serverInfo || self == .rpcDiscover }

    /// Whether a peer holding `roles` may call the method.
    public func allows(_ roles: some Collection<Role>) -> Bool {
        if isOpen { return true }
        let allowed = self.roles
        return roles.contains { allowed.contains($0) }
    }
}

/// Limits the server enforces and advertises in its greeting.
public struct ServerLimits: Sendable, Hashable, Codable {
    /// Longest request line in bytes (excluding the newline).
    public var maxLineBytes: Int
    /// Deepest JSON nesting.
    public var maxDepth: Int
    /// Requests a connection may have unanswered at once.
    public var maxInFlight: Int
    /// Subscriptions a connection may hold.
    public var maxSubscriptions: Int
    /// Connections the server accepts at once.
    public var maxConnections: Int
    /// Most events one `log.read` returns.
    public var maxReadLimit: Int

    /// The defaults: 1 MiB lines, depth 32, 64 in flight, 16 subscriptions, 1024 connections.
    public init(
        maxLineBytes: Int = 1 << 20, maxDepth: Int = 32, maxInFlight: Int = 64, maxSubscriptions: Int = 16,
        maxConnections: Int = 1024, maxReadLimit: Int = 1000
    ) {
        self.maxLineBytes = maxLineBytes
        self.maxDepth = maxDepth
        self.maxInFlight = maxInFlight
        self.maxSubscriptions = maxSubscriptions
        self.maxConnections = maxConnections
        self.maxReadLimit = maxReadLimit
    }
}
