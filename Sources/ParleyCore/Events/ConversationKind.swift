/// Whether a conversation runs through a service number or an agent's personal DID.
public enum ConversationKind: String, Sendable, Hashable, Codable, ByteCodedEnum {
    case service
    case did

    /// The stored byte.
    public var byteCode: UInt8 { self == .service ? 0 : 1 }
}

/// Who started a conversation.
public enum ConversationOrigin: String, Sendable, Hashable, Codable, ByteCodedEnum {
    /// An agent's send opened it.
    case agent
    /// A customer's SMS opened it (a chat request, or a DID message).
    case customer

    /// The stored byte.
    public var byteCode: UInt8 { self == .agent ? 0 : 1 }
}

/// Why an inbound SMS was recorded but shown to nobody.
public enum IgnoreReason: String, Sendable, Hashable, Codable, ByteCodedEnum {
    /// The conversation for this pair was ended and the service takes no customer-initiated chats.
    case conversationEnded
    /// No conversation for this pair, and the service takes no customer-initiated chats.
    case noInboundChats
    /// The service exists but SMS is disabled for it.
    case smsDisabled
    /// No service and no agent DID has this number.
    case unknownNumber

    /// The stored byte.
    public var byteCode: UInt8 {
        switch self {
        case .conversationEnded: 0
        case .noInboundChats: 1
        case .smsDisabled: 2
        case .unknownNumber: 3
        }
    }
}
