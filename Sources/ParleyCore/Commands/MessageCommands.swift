/// Send an SMS.
///
/// Three ways to address it: name a `conversationId` (reply in a chat); set `fromDid` to
/// text from the agent's DID; or name `serviceId` and `customerNumber` — which may be
/// omitted in Busy and After Call Work, where the call supplies them.
public struct SendMessage: Sendable, Hashable, Codable {
    public var agentId: String
    public var conversationId: String?
    public var serviceId: String?
    public var customerNumber: String?
    public var fromDid: Bool
    public var text: String
    public var attachments: [Attachment]

    /// Creates the command.
    public init(
        agentId: String, conversationId: String? = nil, serviceId: String? = nil, customerNumber: String? = nil,
        fromDid: Bool = false, text: String, attachments: [Attachment] = []
    ) {
        self.agentId = agentId
        self.conversationId = conversationId
        self.serviceId = serviceId
        self.customerNumber = customerNumber
        self.fromDid = fromDid
        self.text = text
        self.attachments = attachments
    }
}

/// A carrier's delivery report, naming the message by server id or carrier reference; with
/// `part`, a report on that part of a message its connector submits in parts.
public struct ReportDelivery: Sendable, Hashable, Codable {
    public var messageId: String?
    public var carrierReference: String?
    public var status: DeliveryStatus
    public var detail: String?
    /// The part reported on (1-based), for a message submitted in parts.
    public var part: Int?

    /// Creates the command.
    public init(
        messageId: String? = nil, carrierReference: String? = nil, status: DeliveryStatus, detail: String? = nil,
        part: Int? = nil
    ) {
        self.messageId = messageId
        self.carrierReference = carrierReference
        self.status = status
        self.detail = detail
        self.part = part
    }
}

/// An SMS from a customer, as the carrier delivered it.
public struct ReceiveInbound: Sendable, Hashable, Codable {
    public var from: String
    public var to: String
    public var text: String
    public var attachments: [Attachment]
    public var carrierReference: String?

    /// Creates the command.
    public init(from: String, to: String, text: String, attachments: [Attachment] = [], carrierReference: String? = nil)
    {
        self.from = from
        self.to = to
        self.text = text
        self.attachments = attachments
        self.carrierReference = carrierReference
    }
}

/// A carrier connector records that it is about to submit an outbound message to its
/// carrier, before it does (the connector contract in `schemas/protocol/README.md`).
public struct SubmitMessage: Sendable, Hashable, Codable {
    public var messageId: String
    /// The connector's name: an identifier such as `kannel`, `twilio` or `simulator`.
    public var connector: String

    /// Creates the command.
    public init(messageId: String, connector: String) {
        self.messageId = messageId
        self.connector = connector
    }
}
