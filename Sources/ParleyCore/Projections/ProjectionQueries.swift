/// Typed reads of the projection tables: the questions the engine and its clients ask.
extension ProjectionReading {
    private func record<T: BinaryCodable>(_ table: Table, _ key: [UInt8], as type: T.Type = T.self) throws -> T? {
        try withValue(table, key) { bytes in try T(decoding: bytes) }
    }

    private func string(_ table: Table, _ key: [UInt8]) throws -> String? {
        guard let bytes = try get(table, key) else { return nil }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw BinaryDecodingError(reason: "invalid UTF-8 in \(table.name)")
        }
        return text
    }

    /// The last log position applied to these projections (0 when none).
    public func checkpoint() throws -> UInt64 {
        guard let bytes = try get(.meta, MetaKey.checkpoint), bytes.count == 8 else { return 0 }
        return Key.trailingNumber(bytes)
    }

    /// The version of `stream`'s last event (0 for a stream with none).
    public func streamVersion(_ stream: String) throws -> UInt64 {
        let version = try withValue(.streamVersions, Key.of(stream)) { bytes -> UInt64? in
            bytes.count == 8 ? Key.trailingNumber(bytes) : nil
        }
        switch version {
        case .none: return 0
        case .some(.none): throw BinaryDecodingError(reason: "the version of stream \(stream) is not 8 bytes")
        case .some(.some(let version)): return version
        }
    }

    /// Contact-center settings, with defaults (counter on, 10 segments) until configured.
    public func settings() throws -> SettingsConfigured {
        try record(.meta, MetaKey.settings) ?? SettingsConfigured(smsCounterEnabled: true, maxSegments: 10)
    }

    /// An agent, if configured.
    public func agent(_ id: String) throws -> AgentRecord? { try record(.agents, Key.of(id)) }

    /// A service, if configured.
    public func service(_ id: String) throws -> ServiceConfigured? { try record(.services, Key.of(id)) }

    /// A predefined message, if configured.
    public func template(_ id: String) throws -> TemplateConfigured? { try record(.templates, Key.of(id)) }

    /// The service whose SMS number is `number`.
    public func serviceId(forNumber number: String) throws -> String? { try string(.serviceNumbers, Key.of(number)) }

    /// The agent whose DID is `number`.
    public func agentId(forDid number: String) throws -> String? { try string(.dids, Key.of(number)) }

    /// A conversation by id.
    public func conversation(_ id: String) throws -> ConversationRecord? { try record(.conversations, Key.of(id)) }

    /// The conversation open (pending or owned) between a local number and a customer.
    public func openConversationId(local: String, customer: String) throws -> String? {
        try string(.openConversations, Key.pair(local, customer))
    }

    /// The latest conversation between a local number and a customer, whatever its status.
    public func lastConversationId(local: String, customer: String) throws -> String? {
        try string(.lastConversations, Key.pair(local, customer))
    }

    /// Whether the customer opted out of texts from the local number (and has not opted back in).
    public func isOptedOut(local: String, customer: String) throws -> Bool {
        try get(.optOuts, Key.pair(local, customer)) != nil
    }

    /// The opt-out settings the directory gave, for `serviceId` or (nil) its defaults.
    public func configuredOptOut(serviceId: String?) throws -> OptOutConfigured? {
        guard let serviceId else { return try record(.meta, MetaKey.optOut) }
        return try record(.optOutSettings, Key.of(serviceId))
    }

    /// The opt-out settings a local number follows: its service's own, else the directory's
    /// defaults (an agent's DID always follows them), else ``OptOutConfigured/builtIn``.
    public func optOutSettings(forNumber local: String) throws -> OptOutConfigured {
        if let serviceId = try serviceId(forNumber: local), let own = try configuredOptOut(serviceId: serviceId) {
            return own
        }
        return try configuredOptOut(serviceId: nil) ?? .builtIn
    }

    /// Every service's own opt-out settings, by service id.
    public func serviceOptOuts() throws -> [OptOutConfigured] {
        try scan(.optOutSettings, prefix: [], after: nil, limit: .max).map { try OptOutConfigured(decoding: $0.value) }
    }

    /// Where a message sits.
    public func messageLocation(_ id: String) throws -> MessageLocation? { try record(.messages, Key.of(id)) }

    /// A message by location.
    public func message(at location: MessageLocation) throws -> MessageRecord? {
        try record(.transcripts, location.transcriptKey)
    }

    /// A message by id.
    public func message(_ id: String) throws -> MessageRecord? {
        guard let location = try messageLocation(id) else { return nil }
        return try message(at: location)
    }

    /// The message the carrier knows by `reference`.
    public func messageId(carrierReference reference: String) throws -> String? {
        try string(.carrierReferences, Key.of(reference))
    }

    /// Outbound messages no carrier has accepted yet, oldest first, sent after log position
    /// `after` (exclusive) when given: what a carrier connector must still submit.
    public func awaitingCarrier(after: UInt64? = nil, limit: Int = .max) throws -> [MessageRecord] {
        try messages(in: .awaitingCarrier, after: after, limit: limit)
    }

    /// Outbound messages a carrier accepted that have no final status yet, oldest first, sent
    /// after log position `after` (exclusive) when given: what a connector still owes a report for.
    public func awaitingReport(after: UInt64? = nil, limit: Int = .max) throws -> [MessageRecord] {
        try messages(in: .awaitingReport, after: after, limit: limit)
    }

    private func messages(in table: Table, after: UInt64?, limit: Int) throws -> [MessageRecord] {
        try scan(table, prefix: [], after: after.map(Key.bigEndian), limit: limit).map { entry in
            let id = String(decoding: entry.value, as: UTF8.self)
            guard let message = try message(id) else {
                throw BinaryDecodingError(reason: "\(table.name) names unknown message \(id)")
            }
            return message
        }
    }

    /// A conversation's transcript in order, after sequence `after` (exclusive) when given.
    public func transcript(_ conversationId: String, after: UInt64? = nil, limit: Int = .max) throws -> [MessageRecord] {
        try scan(
            .transcripts, prefix: Key.prefix(conversationId), after: after.map { Key.numbered(conversationId, $0) },
            limit: limit
        ).map { entry in try MessageRecord(decoding: entry.value) }
    }

    /// An agent's Recent items (DID SMS), oldest first, with their log positions.
    public func recent(_ agentId: String, after: UInt64? = nil, limit: Int = .max) throws -> [(position: UInt64, message: MessageRecord)] {
        try scan(.recent, prefix: Key.prefix(agentId), after: after.map { Key.numbered(agentId, $0) }, limit: limit)
            .compactMap { entry in
                let location = try MessageLocation(decoding: entry.value)
                guard let message = try message(at: location) else { return nil }
                return (Key.trailingNumber(entry.key), message)
            }
    }

    /// Number of Recent items above `position`.
    public func recentCount(_ agentId: String, after position: UInt64) throws -> UInt64 {
        UInt64(try scan(.recent, prefix: Key.prefix(agentId), after: Key.numbered(agentId, position), limit: .max).count)
    }

    /// Ids of the conversations an agent owns and has not ended.
    public func openChats(_ agentId: String) throws -> [String] {
        try scan(.agentChats, prefix: Key.prefix(agentId), after: nil, limit: .max).map { Key.suffix($0.key) }
    }

    /// Ids of the chat requests waiting on a service.
    public func pendingRequests(_ serviceId: String) throws -> [String] {
        try scan(.pendingRequests, prefix: Key.prefix(serviceId), after: nil, limit: .max).map { Key.suffix($0.key) }
    }

    /// Every configured agent, by id.
    public func agents() throws -> [AgentRecord] {
        try scan(.agents, prefix: [], after: nil, limit: .max).map { try AgentRecord(decoding: $0.value) }
    }

    /// Every configured service, by id.
    public func services() throws -> [ServiceConfigured] {
        try scan(.services, prefix: [], after: nil, limit: .max).map { try ServiceConfigured(decoding: $0.value) }
    }

    /// Every predefined message, by id; limited to those usable in `serviceId` when given.
    public func templates(for serviceId: String? = nil) throws -> [TemplateConfigured] {
        try scan(.templates, prefix: [], after: nil, limit: .max)
            .map { try TemplateConfigured(decoding: $0.value) }
            .filter { template in
                guard let serviceId else { return true }
                return template.services.isEmpty || template.services.contains(serviceId)
            }
    }

    /// The per-agent view: state, call, open chats, pending requests of its services, unread count.
    public func agentView(_ agentId: String) throws -> AgentView? {
        guard let agent = try agent(agentId) else { return nil }
        let chats = try openChats(agentId).compactMap { try conversation($0) }
        var pending: [ConversationRecord] = []
        for serviceId in agent.services {
            pending += try pendingRequests(serviceId).compactMap { try conversation($0) }
        }
        return AgentView(agent: agent, openChats: chats, pendingRequests: pending)
    }
}

/// Keys of the `meta` table.
public enum MetaKey {
    /// The last applied position.
    public static let checkpoint = Key.of("checkpoint")
    /// The settings record.
    public static let settings = Key.of("settings")
    /// The directory's default opt-out settings (``OptOutConfigured`` without a service).
    public static let optOut = Key.of("optOut")
}

/// What an agent's front end shows at a glance.
public struct AgentView: Sendable, Hashable, Codable {
    public var agent: AgentRecord
    /// Conversations the agent owns and has not ended.
    public var openChats: [ConversationRecord]
    /// Chat requests waiting on the agent's services.
    public var pendingRequests: [ConversationRecord]
    /// Unread Recent items.
    public var unread: UInt64 { agent.unread }
}
