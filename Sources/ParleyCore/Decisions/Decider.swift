/// Decides commands: checks each against the projections and returns the events it
/// produces, or throws a ``Rejection``. Pure: it reads `state` and asks `ids` for new ids.
public struct Decider<State: ProjectionReading> {
    /// The projections as of the last applied event.
    public let state: State
    /// Source of new conversation and message ids.
    public let ids: any IDSource
    /// The last position in the log (for checking positions clients name).
    public let head: UInt64

    /// Creates a decider over `state`.
    public init(state: State, ids: any IDSource, head: UInt64) {
        self.state = state
        self.ids = ids
        self.head = head
    }

    /// The events `command` produces; empty when it changes nothing (a repeated login, say).
    /// - Throws: ``Rejection`` when refused; storage errors from `state`.
    public func decide(_ command: Command) throws -> [Event] {
        switch command {
        case .putAgent(let c): try putAgent(c)
        case .putService(let c): try putService(c)
        case .putTemplate(let c): try putTemplate(c)
        case .putSettings(let c): try putSettings(c)
        case .putOptOut(let c): try putOptOut(c)
        case .login(let c): try login(c)
        case .logout(let c): try logout(c)
        case .setState(let c): try setState(c)
        case .send(let c): try send(c)
        case .reportDelivery(let c): try reportDelivery(c)
        case .submitMessage(let c): try submit(c)
        case .receive(let c): try receive(c)
        case .acceptChat(let c): try acceptChat(c)
        case .endChat(let c): try endChat(c)
        case .markRecentRead(let c): try markRecentRead(c)
        }
    }

    // MARK: Shared checks

    func existingAgent(_ id: String) throws -> AgentRecord {
        try requireKey(id, field: "agentId")
        guard let agent = try state.agent(id) else { throw Rejection.unknownAgent(id) }
        return agent
    }

    func existingService(_ id: String) throws -> ServiceConfigured {
        try requireKey(id, field: "serviceId")
        guard let service = try state.service(id) else { throw Rejection.unknownService(id) }
        return service
    }

    func existingConversation(_ id: String) throws -> ConversationRecord {
        try requireKey(id, field: "conversationId")
        guard let conversation = try state.conversation(id) else { throw Rejection.unknownConversation(id) }
        return conversation
    }

    /// Ids are looked up as LMDB keys: 1 to `Limits.reference` bytes.
    func requireKey(_ value: String, field: String) throws { try Rejection.checkKey(value, field: field) }

    func requireNumber(_ value: String, field: String) throws {
        guard PhoneNumber.isValid(value) else { throw Rejection.invalidNumber(field: field, value: value) }
    }

    func requireIdentifier(_ value: String, field: String) throws { try Rejection.checkIdentifier(value, field: field) }

    func requireText(_ value: String, field: String, maxBytes: Int) throws {
        guard !value.isEmpty else { throw Rejection.invalidArgument(field: field, reason: "must not be empty") }
        try requireLength(value, field: field, maxBytes: maxBytes)
    }

    func requireLength(_ value: String?, field: String, maxBytes: Int) throws {
        try Rejection.checkLength(value, field: field, maxBytes: maxBytes)
    }

    func requireAttachments(_ attachments: [Attachment]) throws {
        guard attachments.count <= Limits.attachments else {
            throw Rejection.invalidArgument(field: "attachments", reason: "more than \(Limits.attachments)")
        }
        for attachment in attachments {
            try requireText(attachment.name, field: "attachments.name", maxBytes: Limits.shortText)
            try requireText(attachment.contentType, field: "attachments.contentType", maxBytes: Limits.shortText)
            try requireText(attachment.reference, field: "attachments.reference", maxBytes: Limits.reference)
        }
    }
}

/// Size limits on command fields.
public enum Limits {
    /// Names, titles, content types: bytes.
    public static let shortText = 200
    /// Carrier references, attachment references, idempotency keys: bytes (LMDB keys are at most 511).
    public static let reference = 256
    /// Message and template text: bytes (10 UCS-2 segments are far smaller).
    public static let messageText = 16_384
    /// Attachments per message.
    public static let attachments = 10
    /// Services per agent or template.
    public static let services = 256
    /// Parts of one concatenated SMS (its header counts them in a byte).
    public static let parts = 255
}
