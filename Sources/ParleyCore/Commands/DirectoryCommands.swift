/// Create or change an agent.
public struct PutAgent: Sendable, Hashable, Codable {
    public var agentId: String
    public var displayName: String
    public var did: String?
    public var smsAllowed: Bool
    public var services: [String]

    /// Creates the command.
    public init(agentId: String, displayName: String, did: String? = nil, smsAllowed: Bool = true, services: [String]) {
        self.agentId = agentId
        self.displayName = displayName
        self.did = did
        self.smsAllowed = smsAllowed
        self.services = services
    }
}

/// Create or change a service.
public struct PutService: Sendable, Hashable, Codable {
    public var serviceId: String
    public var name: String
    public var smsNumber: String?
    public var smsEnabled: Bool
    public var inboundChats: Bool

    /// Creates the command.
    public init(serviceId: String, name: String, smsNumber: String?, smsEnabled: Bool, inboundChats: Bool) {
        self.serviceId = serviceId
        self.name = name
        self.smsNumber = smsNumber
        self.smsEnabled = smsEnabled
        self.inboundChats = inboundChats
    }
}

/// Create or change a predefined message.
public struct PutTemplate: Sendable, Hashable, Codable {
    public var templateId: String
    public var title: String
    public var text: String
    public var services: [String]

    /// Creates the command.
    public init(templateId: String, title: String, text: String, services: [String] = []) {
        self.templateId = templateId
        self.title = title
        self.text = text
        self.services = services
    }
}

/// Change contact-center SMS settings.
public struct PutSettings: Sendable, Hashable, Codable {
    public var smsCounterEnabled: Bool
    public var maxSegments: Int

    /// Creates the command.
    public init(smsCounterEnabled: Bool, maxSegments: Int) {
        self.smsCounterEnabled = smsCounterEnabled
        self.maxSegments = maxSegments
    }
}

/// Sets a service's opt-out settings, or (no service) the directory's defaults, which agents'
/// DIDs and services without their own follow. What is not given takes
/// ``OptOutConfigured/builtIn``'s value.
public struct PutOptOut: Sendable, Hashable, Codable {
    /// The settings as asked, before the decider normalises the keywords.
    public var settings: OptOutConfigured

    /// Creates the command.
    public init(settings: OptOutConfigured) { self.settings = settings }
}
