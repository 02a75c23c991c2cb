/// The key-value tables that hold Parley's projections. Each is one LMDB database
/// named ``name``; keys and values are documented in `schemas/storage.md`.
public enum Table: UInt8, Sendable, CaseIterable {
    /// `checkpoint` → u64 last applied position; `settings` → ``SettingsConfigured``.
    case meta
    /// agent id → ``AgentRecord``.
    case agents
    /// service id → ``ServiceConfigured``.
    case services
    /// service SMS number → service id.
    case serviceNumbers
    /// DID number → agent id.
    case dids
    /// template id → ``TemplateConfigured``.
    case templates
    /// conversation id → ``ConversationRecord``.
    case conversations
    /// local number 0x00 customer number → id of the conversation open between them.
    case openConversations
    /// local number 0x00 customer number → id of the latest conversation between them, open or ended.
    case lastConversations
    /// message id → ``MessageLocation``.
    case messages
    /// conversation id 0x00 u64-BE sequence → ``MessageRecord``: the transcript in order.
    case transcripts
    /// carrier reference → message id.
    case carrierReferences
    /// agent id 0x00 u64-BE position → ``MessageLocation``: Recent items (DID SMS).
    case recent
    /// agent id 0x00 conversation id → empty: the agent's open chats.
    case agentChats
    /// service id 0x00 conversation id → empty: chat requests waiting for an agent.
    case pendingRequests
    /// u64-BE position of the `MessageSent` → message id: outbound messages no carrier has
    /// accepted yet (``MessageRecord/awaitsCarrier``), in the order they were sent.
    case awaitingCarrier
    /// u64-BE position of the `MessageSent` → message id: outbound messages a carrier accepted
    /// (or that left `queued`) with no final status yet (``MessageRecord/awaitsReport``).
    case awaitingReport
    /// UTF-8 stream → u64-BE version of its last event: what numbers the stream's next event.
    case streamVersions
    /// local number 0x00 customer number → u64-BE position of the `CustomerOptedOut`: the
    /// customers who opted out of a number and have not opted back in.
    case optOuts
    /// service id → ``OptOutConfigured``: services' own opt-out settings (the directory's
    /// defaults are `meta` `optOut`).
    case optOutSettings

    /// The LMDB database name.
    public var name: String {
        switch self {
        case .meta: "meta"
        case .agents: "agents"
        case .services: "services"
        case .serviceNumbers: "serviceNumbers"
        case .dids: "dids"
        case .templates: "templates"
        case .conversations: "conversations"
        case .openConversations: "openConversations"
        case .lastConversations: "lastConversations"
        case .messages: "messages"
        case .transcripts: "transcripts"
        case .carrierReferences: "carrierReferences"
        case .recent: "recent"
        case .agentChats: "agentChats"
        case .pendingRequests: "pendingRequests"
        case .awaitingCarrier: "awaitingCarrier"
        case .awaitingReport: "awaitingReport"
        case .streamVersions: "streamVersions"
        case .optOuts: "optOuts"
        case .optOutSettings: "optOutSettings"
        }
    }
}

/// Builds projection keys.
public enum Key {
    /// UTF-8 bytes of a string.
    public static func of(_ text: String) -> [UInt8] { Array(text.utf8) }

    /// Two strings joined by a 0 byte.
    public static func pair(_ first: String, _ second: String) -> [UInt8] {
        var key = Array(first.utf8)
        key.append(0)
        key.append(contentsOf: second.utf8)
        return key
    }

    /// A string, a 0 byte, then `number` as 8 big-endian bytes (so keys sort by number).
    public static func numbered(_ prefix: String, _ number: UInt64) -> [UInt8] {
        var key = Array(prefix.utf8)
        key.append(0)
        key.append(contentsOf: bigEndian(number))
        return key
    }

    /// The prefix every key of `owner` starts with in a pair or numbered table.
    public static func prefix(_ owner: String) -> [UInt8] {
        var key = Array(owner.utf8)
        key.append(0)
        return key
    }

    /// 8 big-endian bytes.
    public static func bigEndian(_ number: UInt64) -> [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: number >> (56 - 8 * UInt64($0))) }
    }

    /// Reads 8 big-endian bytes at the end of `key`.
    public static func trailingNumber(_ key: some Collection<UInt8>) -> UInt64 {
        key.suffix(8).reduce(0) { $0 << 8 | UInt64($1) }
    }

    /// The part of `key` after the first 0 byte.
    public static func suffix(_ key: [UInt8]) -> String {
        guard let zero = key.firstIndex(of: 0) else { return "" }
        return String(decoding: key[(zero + 1)...], as: UTF8.self)
    }
}
