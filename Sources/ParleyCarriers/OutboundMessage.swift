public import ParleyProtocol

/// An outbound message as a connector needs it: from a `carrier.pending` record or a live
/// `MessageSent` event.
public struct OutboundMessage: Sendable, Hashable {
    public var messageId: String
    /// The service number or DID it is sent from.
    public var from: String
    /// The customer's number.
    public var to: String
    public var text: String
    /// The position of its `MessageSent`.
    public var position: UInt64
    /// The connector of its latest recorded submission, if any.
    public var submittedBy: String?
    /// The parts a carrier already accepted (that have a reference), for a message sent in parts.
    public var acceptedParts: Set<Int>

    /// Creates a message.
    public init(
        messageId: String, from: String, to: String, text: String, position: UInt64, submittedBy: String? = nil,
        acceptedParts: Set<Int> = []
    ) {
        self.messageId = messageId
        self.from = from
        self.to = to
        self.text = text
        self.position = position
        self.submittedBy = submittedBy
        self.acceptedParts = acceptedParts
    }

    /// From a `carrier.pending` message record; nil when it is not an outbound message record.
    public init?(record: JSONValue) {
        guard let id = record["messageId"]?.string, let from = record["from"]?.string, let to = record["to"]?.string,
            let text = record["text"]?.string, let position = record["position"]?.uint64
        else { return nil }
        self.init(messageId: id, from: from, to: to, text: text, position: position)
        submittedBy = record["submission"]?["connector"]?.string
        for part in record["parts"]?.array ?? [] {
            guard let number = part["part"]?.uint64, let references = part["carrierReferences"]?.array,
                !references.isEmpty
            else { continue }
            acceptedParts.insert(Int(number))
        }
    }

    /// From the recorded event of an `events.event` notification, when it is a `MessageSent`
    /// or a `SystemMessageSent` (the daemon's own reply to HELP, STOP or START).
    public init?(sentEvent event: JSONValue, position: UInt64) {
        guard let type = event["type"]?.string, type == "MessageSent" || type == "SystemMessageSent", let data = event["data"], let id = data["messageId"]?.string,
            let from = data["from"]?.string, let to = data["to"]?.string, let text = data["text"]?.string
        else { return nil }
        self.init(messageId: id, from: from, to: to, text: text, position: position)
    }
}
