/// The JSON form of a recorded event, as `schemas/envelope.schema.json` describes it:
/// `position`, `stream`, `streamVersion`, `type` (name), `schemaVersion`, `timestamp`
/// (milliseconds since the Unix epoch), `actor`, optional `idempotencyKey`, and `data`.
extension RecordedEvent: Encodable {
    private enum CodingKeys: String, CodingKey {
        case position, stream, streamVersion, type, schemaVersion, timestamp, actor, idempotencyKey, data
    }

    /// Encodes the envelope with the event's data under `data`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(position, forKey: .position)
        try container.encode(stream, forKey: .stream)
        try container.encode(streamVersion, forKey: .streamVersion)
        try container.encode(type.name, forKey: .type)
        try container.encode(type.schemaVersion, forKey: .schemaVersion)
        try container.encode(timestamp, forKey: .timestamp)
        try container.encode(actor, forKey: .actor)
        try container.encodeIfPresent(idempotencyKey, forKey: .idempotencyKey)
        try event.encodeData(to: &container, forKey: .data)
    }
}

extension Event {
    /// Encodes the event's data under `key`.
    func encodeData<K: CodingKey>(to container: inout KeyedEncodingContainer<K>, forKey key: K) throws {
        switch self {
        case .agentConfigured(let e): try container.encode(e, forKey: key)
        case .serviceConfigured(let e): try container.encode(e, forKey: key)
        case .templateConfigured(let e): try container.encode(e, forKey: key)
        case .settingsConfigured(let e): try container.encode(e, forKey: key)
        case .agentLoggedIn(let e): try container.encode(e, forKey: key)
        case .agentLoggedOut(let e): try container.encode(e, forKey: key)
        case .agentStateChanged(let e): try container.encode(e, forKey: key)
        case .conversationOpened(let e): try container.encode(e, forKey: key)
        case .messageSent(let e): try container.encode(e, forKey: key)
        case .deliveryReported(let e): try container.encode(e, forKey: key)
        case .inboundReceived(let e): try container.encode(e, forKey: key)
        case .inboundIgnored(let e): try container.encode(e, forKey: key)
        case .customerOptedOut(let e): try container.encode(e, forKey: key)
        case .customerOptedIn(let e): try container.encode(e, forKey: key)
        case .optOutConfigured(let e): try container.encode(e, forKey: key)
        case .systemMessageSent(let e): try container.encode(e, forKey: key)
        case .chatAccepted(let e): try container.encode(e, forKey: key)
        case .chatEnded(let e): try container.encode(e, forKey: key)
        case .recentRead(let e): try container.encode(e, forKey: key)
        case .messageSubmitted(let e): try container.encode(e, forKey: key)
        case .partReported(let e): try container.encode(e, forKey: key)
        }
    }
}
