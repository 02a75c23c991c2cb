/// Applies recorded events to the projection tables. The only code that writes them,
/// so live projections and a rebuild from the log are the same function of the log.
public struct Projector<Store: ProjectionWriting> {
    /// The tables written.
    public let store: Store

    /// Creates a projector writing to `store`.
    public init(store: Store) { self.store = store }

    /// Applies events in log order, then records the last position as the checkpoint.
    /// - Throws: storage errors, or ``ProjectionError`` when an event contradicts the projections.
    public func apply(_ events: some Sequence<RecordedEvent>) throws {
        var last: UInt64?
        for event in events {
            try apply(event)
            last = event.position
        }
        if let last { try store.put(.meta, MetaKey.checkpoint, Key.bigEndian(last)) }
    }

    /// Applies one event (without moving the checkpoint).
    public func apply(_ recorded: RecordedEvent) throws {
        try store.put(.streamVersions, Key.of(recorded.stream), Key.bigEndian(recorded.streamVersion))
        switch recorded.event {
        case .agentConfigured(let e): try agentConfigured(e)
        case .serviceConfigured(let e): try serviceConfigured(e)
        case .templateConfigured(let e): try store.put(.templates, Key.of(e.templateId), e.binaryEncoded)
        case .settingsConfigured(let e): try store.put(.meta, MetaKey.settings, e.binaryEncoded)
        case .agentLoggedIn(let e): try updateAgent(e.agentId, recorded) { $0.state = e.state; $0.call = nil }
        case .agentLoggedOut(let e): try updateAgent(e.agentId, recorded) { $0.state = .loggedOut; $0.call = nil }
        case .agentStateChanged(let e): try updateAgent(e.agentId, recorded) { $0.state = e.state; $0.call = e.call }
        case .recentRead(let e):
            let unread = try store.recentCount(e.agentId, after: e.upTo)
            try updateAgent(e.agentId, recorded) { $0.readHorizon = e.upTo; $0.unread = unread }
        case .conversationOpened(let e): try conversationOpened(e, at: recorded.position)
        case .messageSent(let e): try messageSent(e, recorded)
        case .deliveryReported(let e): try deliveryReported(e, recorded)
        case .messageSubmitted(let e): try messageSubmitted(e, recorded)
        case .partReported(let e): try partReported(e, recorded)
        case .inboundReceived(let e): try inboundReceived(e, recorded)
        case .inboundIgnored: break
        case .chatAccepted(let e): try chatAccepted(e, recorded)
        case .chatEnded(let e): try chatEnded(e, recorded)
        case .customerOptedOut(let e):
            try store.put(.optOuts, Key.pair(e.localNumber, e.customerNumber), Key.bigEndian(recorded.position))
        case .customerOptedIn(let e): try store.delete(.optOuts, Key.pair(e.localNumber, e.customerNumber))
        case .optOutConfigured(let e):
            if let serviceId = e.serviceId {
                try store.put(.optOutSettings, Key.of(serviceId), e.binaryEncoded)
            } else {
                try store.put(.meta, MetaKey.optOut, e.binaryEncoded)
            }
        case .systemMessageSent(let e): try systemMessageSent(e, recorded)
        }
    }

    // MARK: Directory

    private func agentConfigured(_ e: AgentConfigured) throws {
        var agent = try store.agent(e.agentId)
            ?? AgentRecord(agentId: e.agentId, displayName: e.displayName, did: nil, smsAllowed: e.smsAllowed, services: [])
        if let old = agent.did, old != e.did, try store.agentId(forDid: old) == e.agentId {
            try store.delete(.dids, Key.of(old))
        }
        if let did = e.did { try store.put(.dids, Key.of(did), Key.of(e.agentId)) }
        agent.displayName = e.displayName
        agent.did = e.did
        agent.smsAllowed = e.smsAllowed
        agent.services = e.services
        try store.put(.agents, Key.of(e.agentId), agent.binaryEncoded)
    }

    private func serviceConfigured(_ e: ServiceConfigured) throws {
        if let old = try store.service(e.serviceId)?.smsNumber, old != e.smsNumber,
            try store.serviceId(forNumber: old) == e.serviceId
        {
            try store.delete(.serviceNumbers, Key.of(old))
        }
        if let number = e.smsNumber { try store.put(.serviceNumbers, Key.of(number), Key.of(e.serviceId)) }
        try store.put(.services, Key.of(e.serviceId), e.binaryEncoded)
    }

    private func updateAgent(_ id: String, _ recorded: RecordedEvent, _ change: (inout AgentRecord) -> Void) throws {
        guard var agent = try store.agent(id) else { throw ProjectionError.missing("agent \(id)", at: recorded.position) }
        change(&agent)
        try store.put(.agents, Key.of(id), agent.binaryEncoded)
    }

    // MARK: Conversations

    private func conversationOpened(_ e: ConversationOpened, at position: UInt64) throws {
        let record = ConversationRecord(
            conversationId: e.conversationId, kind: e.kind, origin: e.origin, serviceId: e.serviceId,
            agentId: e.agentId, localNumber: e.localNumber, customerNumber: e.customerNumber,
            status: e.agentId == nil ? .pending : .open, openedAt: position
        )
        try store.put(.conversations, Key.of(e.conversationId), record.binaryEncoded)
        let pair = Key.pair(e.localNumber, e.customerNumber)
        try store.put(.openConversations, pair, Key.of(e.conversationId))
        try store.put(.lastConversations, pair, Key.of(e.conversationId))
        if let agentId = e.agentId {
            try store.put(.agentChats, Key.pair(agentId, e.conversationId), [])
        } else if let serviceId = e.serviceId {
            try store.put(.pendingRequests, Key.pair(serviceId, e.conversationId), [])
        }
    }

    private func conversation(_ id: String, _ recorded: RecordedEvent) throws -> ConversationRecord {
        guard let record = try store.conversation(id) else {
            throw ProjectionError.missing("conversation \(id)", at: recorded.position)
        }
        return record
    }

    private func chatAccepted(_ e: ChatAccepted, _ recorded: RecordedEvent) throws {
        var record = try conversation(e.conversationId, recorded)
        if let serviceId = record.serviceId { try store.delete(.pendingRequests, Key.pair(serviceId, e.conversationId)) }
        record.agentId = e.agentId
        record.status = .open
        try store.put(.conversations, Key.of(e.conversationId), record.binaryEncoded)
        try store.put(.agentChats, Key.pair(e.agentId, e.conversationId), [])
    }

    private func chatEnded(_ e: ChatEnded, _ recorded: RecordedEvent) throws {
        var record = try conversation(e.conversationId, recorded)
        record.status = .ended
        try store.put(.conversations, Key.of(e.conversationId), record.binaryEncoded)
        let pair = Key.pair(record.localNumber, record.customerNumber)
        if try store.openConversationId(local: record.localNumber, customer: record.customerNumber) == e.conversationId {
            try store.delete(.openConversations, pair)
        }
        try store.delete(.agentChats, Key.pair(e.agentId, e.conversationId))
    }

    // MARK: Messages

    private func appendMessage(_ message: MessageRecord, to record: inout ConversationRecord) throws {
        record.messageCount += 1
        try store.put(.conversations, Key.of(record.conversationId), record.binaryEncoded)
        try store.put(.transcripts, message.location.transcriptKey, message.binaryEncoded)
        try store.put(.messages, Key.of(message.messageId), message.location.binaryEncoded)
    }

    /// Like an agent's message, with no agent: the connectors send it the same way.
    private func systemMessageSent(_ e: SystemMessageSent, _ recorded: RecordedEvent) throws {
        var record = try conversation(e.conversationId, recorded)
        let message = MessageRecord(
            messageId: e.messageId, conversationId: e.conversationId, sequence: record.messageCount + 1,
            position: recorded.position, timestamp: recorded.timestamp, direction: .outbound, from: e.from, to: e.to,
            text: e.text, attachments: [], agentId: nil, segments: e.segments, status: .queued, statusDetail: nil,
            carrierReferences: [], inReplyTo: nil
        )
        record.lastOutbound = e.messageId
        try appendMessage(message, to: &record)
        try store.put(.awaitingCarrier, Key.bigEndian(recorded.position), Key.of(e.messageId))
    }

    private func messageSent(_ e: MessageSent, _ recorded: RecordedEvent) throws {
        var record = try conversation(e.conversationId, recorded)
        let message = MessageRecord(
            messageId: e.messageId, conversationId: e.conversationId, sequence: record.messageCount + 1,
            position: recorded.position, timestamp: recorded.timestamp, direction: .outbound, from: e.from, to: e.to,
            text: e.text, attachments: e.attachments, agentId: e.agentId, segments: e.segments, status: .queued,
            statusDetail: nil, carrierReferences: [], inReplyTo: nil
        )
        record.lastOutbound = e.messageId
        try appendMessage(message, to: &record)
        try store.put(.awaitingCarrier, Key.bigEndian(recorded.position), Key.of(e.messageId))
    }

    private func inboundReceived(_ e: InboundReceived, _ recorded: RecordedEvent) throws {
        var record = try conversation(e.conversationId, recorded)
        let message = MessageRecord(
            messageId: e.messageId, conversationId: e.conversationId, sequence: record.messageCount + 1,
            position: recorded.position, timestamp: recorded.timestamp, direction: .inbound, from: e.from, to: e.to,
            text: e.text, attachments: e.attachments, agentId: nil, segments: SegmentCounter.count(e.text).segments,
            status: nil, statusDetail: nil,
            carrierReferences: e.carrierReference.map { [$0] } ?? [], inReplyTo: e.inReplyTo
        )
        try appendMessage(message, to: &record)
        if record.kind == .did, let owner = record.agentId {
            try store.put(.recent, Key.numbered(owner, recorded.position), message.location.binaryEncoded)
            try updateAgent(owner, recorded) { $0.unread += 1 }
        }
    }

    private func deliveryReported(_ e: DeliveryReported, _ recorded: RecordedEvent) throws {
        guard let location = try store.messageLocation(e.messageId), var message = try store.message(at: location) else {
            throw ProjectionError.missing("message \(e.messageId)", at: recorded.position)
        }
        var changed = false
        if let current = message.status, current.advances(to: e.status) {
            message.status = e.status
            message.statusDetail = e.detail
            changed = true
        }
        if try addReference(e.carrierReference, to: &message) { changed = true }
        guard changed else { return }
        try store.put(.transcripts, location.transcriptKey, message.binaryEncoded)
        try updateAwaiting(message)
    }

    private func partReported(_ e: PartReported, _ recorded: RecordedEvent) throws {
        guard let location = try store.messageLocation(e.messageId), var message = try store.message(at: location) else {
            throw ProjectionError.missing("message \(e.messageId)", at: recorded.position)
        }
        // The part keeps every reference given for it; the message's list and index only the
        // ones no other message holds. The message's status moves by the DeliveryReported that
        // follows in the same append, when the parts move it.
        var changed = message.recordPart(e.part, status: e.status, reference: e.carrierReference)
        if try addReference(e.carrierReference, to: &message) { changed = true }
        guard changed else { return }
        try store.put(.transcripts, location.transcriptKey, message.binaryEncoded)
        try updateAwaiting(message)
    }

    /// Adds a reference given for `message` to its references and the reference index. A
    /// reference that already names another message stays with it (logs written before every
    /// reference was indexed may hold one given to two messages). Returns whether it was added.
    private func addReference(_ reference: String?, to message: inout MessageRecord) throws -> Bool {
        guard let reference, !message.carrierReferences.contains(reference),
            try store.messageId(carrierReference: reference) == nil
        else { return false }
        message.carrierReferences.append(reference)
        try store.put(.carrierReferences, Key.of(reference), Key.of(message.messageId))
        return true
    }

    /// Puts an outbound message in `awaitingCarrier` or `awaitingReport` as it now is, or in neither.
    private func updateAwaiting(_ message: MessageRecord) throws {
        let key = Key.bigEndian(message.position)
        if message.awaitsCarrier {
            try store.put(.awaitingCarrier, key, Key.of(message.messageId))
        } else {
            try store.delete(.awaitingCarrier, key)
        }
        if message.awaitsReport {
            try store.put(.awaitingReport, key, Key.of(message.messageId))
        } else {
            try store.delete(.awaitingReport, key)
        }
    }

    private func messageSubmitted(_ e: MessageSubmitted, _ recorded: RecordedEvent) throws {
        guard let location = try store.messageLocation(e.messageId), var message = try store.message(at: location) else {
            throw ProjectionError.missing("message \(e.messageId)", at: recorded.position)
        }
        message.submission = Submission(connector: e.connector, attempt: e.attempt, position: recorded.position)
        try store.put(.transcripts, location.transcriptKey, message.binaryEncoded)
    }
}

/// An event that the projections cannot apply: the log and projections disagree.
public enum ProjectionError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The event refers to something the projections do not hold.
    case missing(String, at: UInt64)

    /// For a person.
    public var description: String {
        switch self {
        case .missing(let what, let position): "event at position \(position) refers to unknown \(what)"
        }
    }
}
