/// A customer's standing with a local number changed by a keyword they texted: the data of
/// both ``CustomerOptedOut`` (STOP and the like: from now on no agent may text them from that
/// number) and ``CustomerOptedIn`` (START and the like: agents may again).
public struct OptOutChange: Sendable, Hashable, Codable, BinaryCodable {
    /// The service number or DID the customer texted.
    public var localNumber: String
    /// The customer's number.
    public var customerNumber: String
    /// The keyword, as the daemon matched it (upper case, without surrounding spaces).
    public var keyword: String
    /// The inbound SMS that carried it.
    public var messageId: String
    /// The conversation that SMS joined, if it joined one.
    public var conversationId: String?

    /// Creates the event.
    public init(localNumber: String, customerNumber: String, keyword: String, messageId: String, conversationId: String?)
    {
        self.localNumber = localNumber
        self.customerNumber = customerNumber
        self.keyword = keyword
        self.messageId = messageId
        self.conversationId = conversationId
    }

    /// Writes the fields in declaration order.
    public func encode(to writer: inout BinaryWriter) {
        writer.write(localNumber)
        writer.write(customerNumber)
        writer.write(keyword)
        writer.write(messageId)
        writer.write(conversationId)
    }

    /// Reads the fields in declaration order.
    public init(from reader: inout BinaryReader) throws(BinaryDecodingError) {
        localNumber = try reader.readString()
        customerNumber = try reader.readString()
        keyword = try reader.readString()
        messageId = try reader.readString()
        conversationId = try reader.readOptionalString()
    }
}

/// A customer texted an opt-out keyword to a local number.
public typealias CustomerOptedOut = OptOutChange
/// A customer who had opted out texted an opt-in keyword to that local number.
public typealias CustomerOptedIn = OptOutChange

/// Why the daemon itself texted a customer.
public enum SystemMessageReason: String, Sendable, Hashable, Codable, ByteCodedEnum {
    /// The answer to HELP: the number's help text.
    case help
    /// The confirmation of a STOP, where the number's settings send one.
    case optOutConfirmation
    /// The confirmation of a START, where the number's settings send one.
    case optInConfirmation

    /// The stored byte.
    public var byteCode: UInt8 {
        switch self {
        case .help: 0
        case .optOutConfirmation: 1
        case .optInConfirmation: 2
        }
    }
}

/// The daemon itself texted a customer in their conversation (the answer to HELP, or a
/// confirmation of STOP or START): an outbound message like an agent's, queued for the
/// connectors, but sent by no agent.
public struct SystemMessageSent: Sendable, Hashable, Codable, BinaryCodable {
    public var conversationId: String
    public var messageId: String
    public var reason: SystemMessageReason
    /// The local number the customer texted.
    public var from: String
    /// The customer's number.
    public var to: String
    public var text: String
    public var encoding: SMSEncoding
    /// Grapheme clusters, as a person counts them.
    public var characters: Int
    /// Septets (GSM-7) or UTF-16 code units (UCS-2).
    public var units: Int
    public var segments: Int

    /// The event for `text`, counted.
    public init(
        conversationId: String, messageId: String, reason: SystemMessageReason, from: String, to: String, text: String
    ) {
        let count = SegmentCounter.count(text)
        self.conversationId = conversationId
        self.messageId = messageId
        self.reason = reason
        self.from = from
        self.to = to
        self.text = text
        encoding = count.encoding
        characters = count.characters
        units = count.units
        segments = count.segments
    }

    /// Writes the fields in declaration order; the encoding as one byte (0 GSM-7, 1 UCS-2).
    public func encode(to writer: inout BinaryWriter) {
        writer.write(conversationId)
        writer.write(messageId)
        writer.write(reason)
        writer.write(from)
        writer.write(to)
        writer.write(text)
        writer.write(UInt8(encoding == .gsm7 ? 0 : 1))
        writer.writeVarint(characters)
        writer.writeVarint(units)
        writer.writeVarint(segments)
    }

    /// Reads the fields in declaration order.
    public init(from reader: inout BinaryReader) throws(BinaryDecodingError) {
        conversationId = try reader.readString()
        messageId = try reader.readString()
        reason = try reader.read()
        from = try reader.readString()
        to = try reader.readString()
        text = try reader.readString()
        encoding = try reader.readEncoding()
        characters = try reader.readCount()
        units = try reader.readCount()
        segments = try reader.readCount()
    }
}

/// A number's opt-out settings changed: its keywords, its help text, and whether the daemon
/// confirms a STOP or a START. For a service (`serviceId`), or the directory's defaults
/// (`serviceId` absent), which agents' DIDs and services without settings of their own follow.
public struct OptOutConfigured: Sendable, Hashable, Codable, BinaryCodable {
    /// The service, or nil for the directory's defaults.
    public var serviceId: String?
    /// Whole texts that opt out, upper case.
    public var stopKeywords: [String]
    /// Whole texts that opt back in, upper case.
    public var startKeywords: [String]
    /// Whole texts answered with ``helpText``, upper case.
    public var helpKeywords: [String]
    /// The answer to a help keyword.
    public var helpText: String
    /// Whether a STOP or START that changes the customer's standing is confirmed by text.
    public var confirmations: Bool
    /// The confirmation of a STOP (sent while the customer is already opted out: carriers
    /// allow exactly this one message).
    public var stopConfirmation: String
    /// The confirmation of a START.
    public var startConfirmation: String

    /// The settings every number has until the directory says otherwise: the keywords carriers
    /// and the CTIA's guidelines expect, a generic help text, no confirmations.
    public static let builtIn = OptOutConfigured(
        serviceId: nil, stopKeywords: ["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"],
        startKeywords: ["START", "YES", "UNSTOP"], helpKeywords: ["HELP"],
        helpText: "Reply STOP to stop texts from this number, START to get them again.", confirmations: false,
        stopConfirmation: "You will get no more texts from this number. Reply START to get them again.",
        startConfirmation: "You will get texts from this number again. Reply STOP to stop them."
    )

    /// Creates the event.
    public init(
        serviceId: String?, stopKeywords: [String], startKeywords: [String], helpKeywords: [String], helpText: String,
        confirmations: Bool, stopConfirmation: String, startConfirmation: String
    ) {
        self.serviceId = serviceId
        self.stopKeywords = stopKeywords
        self.startKeywords = startKeywords
        self.helpKeywords = helpKeywords
        self.helpText = helpText
        self.confirmations = confirmations
        self.stopConfirmation = stopConfirmation
        self.startConfirmation = startConfirmation
    }

    /// Writes the fields in declaration order.
    public func encode(to writer: inout BinaryWriter) {
        writer.write(serviceId)
        writer.write(stopKeywords)
        writer.write(startKeywords)
        writer.write(helpKeywords)
        writer.write(helpText)
        writer.write(confirmations)
        writer.write(stopConfirmation)
        writer.write(startConfirmation)
    }

    /// Reads the fields in declaration order.
    public init(from reader: inout BinaryReader) throws(BinaryDecodingError) {
        serviceId = try reader.readOptionalString()
        stopKeywords = try reader.readStrings()
        startKeywords = try reader.readStrings()
        helpKeywords = try reader.readStrings()
        helpText = try reader.readString()
        confirmations = try reader.readBool()
        stopConfirmation = try reader.readString()
        startConfirmation = try reader.readString()
    }
}
