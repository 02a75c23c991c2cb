/// Why a command was refused. A refused command appends nothing.
///
/// Each case has a stable machine ``code`` (never renamed; clients switch on it) and a
/// ``message`` a person understands.
public enum Rejection: Error, Sendable, Hashable, CustomStringConvertible {
    /// A field is missing, empty, too long or malformed.
    case invalidArgument(field: String, reason: String)
    /// A number is not E.164.
    case invalidNumber(field: String, value: String)
    case unknownAgent(String)
    case unknownService(String)
    case unknownConversation(String)
    /// No message has this server id or carrier reference.
    case unknownMessage(String)
    /// The agent may not send SMS.
    case smsNotPermitted(agentId: String)
    /// The agent is logged out.
    case agentLoggedOut(agentId: String)
    /// The agent does not serve the service.
    case serviceNotAssigned(agentId: String, serviceId: String)
    /// The service has no SMS number or SMS is disabled on it.
    case serviceWithoutSms(serviceId: String)
    /// In Ready/Not Ready a send must name a service and a customer number.
    case missingDestination(agentId: String, state: AgentState)
    /// The agent has no DID to send from.
    case agentWithoutDid(agentId: String)
    case emptyMessage
    case messageTooLong(segments: Int, maximum: Int)
    /// The conversation was ended.
    case conversationEnded(conversationId: String)
    /// Another agent owns the conversation.
    case conversationOwnedByAnotherAgent(conversationId: String, ownerId: String)
    /// The conversation is pending and owned by nobody yet, so it cannot be ended.
    case chatNotAccepted(conversationId: String)
    /// Another agent already accepted the chat request.
    case chatAlreadyAccepted(conversationId: String, ownerId: String)
    /// The number is already used by another service or agent.
    case numberInUse(number: String, holder: String)
    /// The message is inbound and has no delivery status.
    case notOutbound(messageId: String)
    /// The carrier reference already names another message.
    case carrierReferenceInUse(reference: String, messageId: String)
    /// A carrier already accepted the message, so it must not be submitted again.
    case messageAlreadyAccepted(messageId: String, status: DeliveryStatus)
    /// The position is beyond the head of the log.
    case positionOutOfRange(position: UInt64, head: UInt64)
    /// The idempotency key was used before with a different command.
    case idempotencyKeyReused(key: String)
    /// The customer texted STOP (or another opt-out keyword) to the number the send would go from.
    case customerOptedOut(customerNumber: String, localNumber: String)

    /// The stable machine code, e.g. `AgentLoggedOut`.
    public var code: String {
        switch self {
        case .invalidArgument: "InvalidArgument"
        case .invalidNumber: "InvalidNumber"
        case .unknownAgent: "UnknownAgent"
        case .unknownService: "UnknownService"
        case .unknownConversation: "UnknownConversation"
        case .unknownMessage: "UnknownMessage"
        case .smsNotPermitted: "SmsNotPermitted"
        case .agentLoggedOut: "AgentLoggedOut"
        case .serviceNotAssigned: "ServiceNotAssigned"
        case .serviceWithoutSms: "ServiceWithoutSms"
        case .missingDestination: "MissingDestination"
        case .agentWithoutDid: "AgentWithoutDid"
        case .emptyMessage: "EmptyMessage"
        case .messageTooLong: "MessageTooLong"
        case .conversationEnded: "ConversationEnded"
        case .conversationOwnedByAnotherAgent: "ConversationOwnedByAnotherAgent"
        case .chatNotAccepted: "ChatNotAccepted"
        case .chatAlreadyAccepted: "ChatAlreadyAccepted"
        case .numberInUse: "NumberInUse"
        case .notOutbound: "NotOutbound"
        case .carrierReferenceInUse: "CarrierReferenceInUse"
        case .messageAlreadyAccepted: "MessageAlreadyAccepted"
        case .positionOutOfRange: "PositionOutOfRange"
        case .idempotencyKeyReused: "IdempotencyKeyReused"
        case .customerOptedOut: "CustomerOptedOut"
        }
    }

    /// A sentence for a person.
    public var message: String {
        switch self {
        case .invalidArgument(let field, let reason): "Invalid \(field): \(reason)."
        case .invalidNumber(let field, let value):
            "\(field) \"\(value)\" is not a valid E.164 number (a + then 2 to 15 digits, e.g. +14155550100)."
        case .unknownAgent(let id): "There is no agent \"\(id)\"."
        case .unknownService(let id): "There is no service \"\(id)\"."
        case .unknownConversation(let id): "There is no conversation \"\(id)\"."
        case .unknownMessage(let ref): "No message is known by \"\(ref)\"."
        case .smsNotPermitted(let agent): "Agent \"\(agent)\" is not permitted to send SMS."
        case .agentLoggedOut(let agent): "Agent \"\(agent)\" is logged out; log in first."
        case .serviceNotAssigned(let agent, let service): "Agent \"\(agent)\" does not serve service \"\(service)\"."
        case .serviceWithoutSms(let service): "Service \"\(service)\" does not support SMS."
        case .missingDestination(let agent, let state):
            "Agent \"\(agent)\" is \(state.rawValue) with no call, so the send must name a service and a customer number."
        case .agentWithoutDid(let agent): "Agent \"\(agent)\" has no DID number to send from."
        case .emptyMessage: "The message has no text and no attachments."
        case .messageTooLong(let segments, let maximum):
            "The message needs \(segments) SMS segments; at most \(maximum) are allowed."
        case .conversationEnded(let id): "Conversation \"\(id)\" has already been ended."
        case .conversationOwnedByAnotherAgent(let id, let owner):
            "Conversation \"\(id)\" belongs to agent \"\(owner)\"."
        case .chatNotAccepted(let id): "Chat request \"\(id)\" has not been accepted by anyone yet."
        case .chatAlreadyAccepted(let id, let owner): "Chat request \"\(id)\" was already accepted by agent \"\(owner)\"."
        case .numberInUse(let number, let holder): "Number \(number) is already used by \(holder)."
        case .notOutbound(let id): "Message \"\(id)\" is inbound; only outbound messages have a delivery status."
        case .carrierReferenceInUse(let ref, let id): "Carrier reference \"\(ref)\" already names message \"\(id)\"."
        case .messageAlreadyAccepted(let id, let status):
            "Message \"\(id)\" was already accepted by a carrier (status \(status.rawValue)); do not submit it again."
        case .positionOutOfRange(let position, let head): "Position \(position) is beyond the head of the log (\(head))."
        case .idempotencyKeyReused(let key):
            "Idempotency key \"\(key)\" was already used for a different command; use a new key."
        case .customerOptedOut(let customer, let local):
            "The customer \(customer) has opted out of texts from \(local) (they texted STOP); they must text START to \(local) before anyone can text them from it."
        }
    }

    /// `code: message`.
    public var description: String { "\(code): \(message)" }
}
