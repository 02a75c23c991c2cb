/// What a client asks the engine to do. A command is decided against the projections
/// and either appends events or is refused with a ``Rejection``, appending nothing.
public enum Command: Sendable, Hashable {
    case putAgent(PutAgent)
    case putService(PutService)
    case putTemplate(PutTemplate)
    case putSettings(PutSettings)
    case putOptOut(PutOptOut)
    case login(Login)
    case logout(Logout)
    case setState(SetState)
    case send(SendMessage)
    case reportDelivery(ReportDelivery)
    case submitMessage(SubmitMessage)
    case receive(ReceiveInbound)
    case acceptChat(AcceptChat)
    case endChat(EndChat)
    case markRecentRead(MarkRecentRead)

    /// Whose idempotency keys this command's key belongs to: the agent for agent commands,
    /// `carrier` for carrier reports, `admin` for the directory.
    public var idempotencyScope: String {
        switch self {
        case .putAgent, .putService, .putTemplate, .putSettings, .putOptOut: "admin"
        case .reportDelivery, .receive, .submitMessage: "carrier"
        case .login(let c): "agent:" + c.agentId
        case .logout(let c): "agent:" + c.agentId
        case .setState(let c): "agent:" + c.agentId
        case .send(let c): "agent:" + c.agentId
        case .acceptChat(let c): "agent:" + c.agentId
        case .endChat(let c): "agent:" + c.agentId
        case .markRecentRead(let c): "agent:" + c.agentId
        }
    }

    /// A 64-bit FNV-1a fingerprint of the command's fields, used to tell a retry (same
    /// fields) from a different command reusing an idempotency key.
    public var fingerprint: UInt64 {
        var hasher = Fingerprint()
        switch self {
        case .putAgent(let c): hasher.add("putAgent", c.agentId, c.displayName, c.did, c.smsAllowed, c.services)
        case .putService(let c):
            hasher.add("putService", c.serviceId, c.name, c.smsNumber, c.smsEnabled, c.inboundChats)
        case .putTemplate(let c): hasher.add("putTemplate", c.templateId, c.title, c.text, c.services)
        case .putSettings(let c): hasher.add("putSettings", c.smsCounterEnabled, c.maxSegments)
        case .putOptOut(let c):
            let s = c.settings
            hasher.add("putOptOut", s.serviceId, s.helpText, s.confirmations, s.stopConfirmation, s.startConfirmation)
            hasher.add(s.stopKeywords, s.startKeywords, s.helpKeywords)
        case .login(let c): hasher.add("login", c.agentId, c.state.rawValue)
        case .logout(let c): hasher.add("logout", c.agentId)
        case .setState(let c):
            hasher.add(
                "setState", c.agentId, c.state.rawValue, c.call?.callId, c.call?.serviceId, c.call?.customerNumber)
        case .send(let c):
            hasher.add("send", c.agentId, c.conversationId, c.serviceId, c.customerNumber, c.fromDid, c.text)
            for a in c.attachments { hasher.add(a.name, a.contentType, a.size, a.reference) }
        case .reportDelivery(let c):
            hasher.add("reportDelivery", c.messageId, c.carrierReference, c.status.rawValue, c.detail)
            // Only when given, so a report without a part keeps the fingerprint it always had.
            if let part = c.part { hasher.add("part", part) }
        case .submitMessage(let c): hasher.add("submitMessage", c.messageId, c.connector)
        case .receive(let c):
            hasher.add("receive", c.from, c.to, c.text, c.carrierReference)
            for a in c.attachments { hasher.add(a.name, a.contentType, a.size, a.reference) }
        case .acceptChat(let c): hasher.add("acceptChat", c.agentId, c.conversationId)
        case .endChat(let c): hasher.add("endChat", c.agentId, c.conversationId)
        case .markRecentRead(let c): hasher.add("markRecentRead", c.agentId, c.upTo)
        }
        return hasher.value
    }
}

/// FNV-1a over a command's fields, each tagged so that adjacent fields cannot run together.
struct Fingerprint {
    private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    private mutating func byte(_ b: UInt8) {
        value ^= UInt64(b)
        value &*= 0x0000_0100_0000_01b3
    }

    mutating func add(_ fields: (any FingerprintField)?...) {
        for field in fields {
            guard let field else {
                byte(0)
                continue
            }
            byte(1)
            for b in field.fingerprintBytes { byte(b) }
            byte(0xFF)
        }
    }
}

/// A field that feeds a ``Fingerprint``.
protocol FingerprintField {
    var fingerprintBytes: [UInt8] { get }
}

extension String: FingerprintField {
    var fingerprintBytes: [UInt8] { Array(utf8) }
}

extension Bool: FingerprintField {
    var fingerprintBytes: [UInt8] { [self ? 1 : 0] }
}

extension Int: FingerprintField {
    var fingerprintBytes: [UInt8] { Key.bigEndian(UInt64(bitPattern: Int64(self))) }
}

extension UInt64: FingerprintField {
    var fingerprintBytes: [UInt8] { Key.bigEndian(self) }
}

extension Array: FingerprintField where Element == String {
    var fingerprintBytes: [UInt8] {
        flatMap { (element: String) -> [UInt8] in Key.bigEndian(UInt64(element.utf8.count)) + [UInt8](element.utf8) }
    }
}
