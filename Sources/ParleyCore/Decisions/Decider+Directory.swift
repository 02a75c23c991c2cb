/// Directory commands: agents, services, predefined messages, settings.
extension Decider {
    func putAgent(_ c: PutAgent) throws -> [Event] {
        try requireIdentifier(c.agentId, field: "agentId")
        try requireText(c.displayName, field: "displayName", maxBytes: Limits.shortText)
        guard c.services.count <= Limits.services else {
            throw Rejection.invalidArgument(field: "services", reason: "more than \(Limits.services)")
        }
        for serviceId in c.services { _ = try existingService(serviceId) }
        if let did = c.did {
            try requireNumber(did, field: "did")
            if let holder = try state.agentId(forDid: did), holder != c.agentId {
                throw Rejection.numberInUse(number: did, holder: "agent \"\(holder)\"")
            }
            if let holder = try state.serviceId(forNumber: did) {
                throw Rejection.numberInUse(number: did, holder: "service \"\(holder)\"")
            }
        }
        return [.agentConfigured(AgentConfigured(
            agentId: c.agentId, displayName: c.displayName, did: c.did, smsAllowed: c.smsAllowed,
            services: uniqued(c.services)
        ))]
    }

    func putService(_ c: PutService) throws -> [Event] {
        try requireIdentifier(c.serviceId, field: "serviceId")
        try requireText(c.name, field: "name", maxBytes: Limits.shortText)
        if let number = c.smsNumber {
            try requireNumber(number, field: "smsNumber")
            if let holder = try state.serviceId(forNumber: number), holder != c.serviceId {
                throw Rejection.numberInUse(number: number, holder: "service \"\(holder)\"")
            }
            if let holder = try state.agentId(forDid: number) {
                throw Rejection.numberInUse(number: number, holder: "agent \"\(holder)\"")
            }
        } else if c.smsEnabled || c.inboundChats {
            throw Rejection.invalidArgument(field: "smsNumber", reason: "a service with SMS or inbound chats needs an SMS number")
        }
        return [.serviceConfigured(ServiceConfigured(
            serviceId: c.serviceId, name: c.name, smsNumber: c.smsNumber, smsEnabled: c.smsEnabled,
            inboundChats: c.inboundChats
        ))]
    }

    func putTemplate(_ c: PutTemplate) throws -> [Event] {
        try requireIdentifier(c.templateId, field: "templateId")
        try requireText(c.title, field: "title", maxBytes: Limits.shortText)
        try requireText(c.text, field: "text", maxBytes: Limits.messageText)
        for serviceId in c.services { _ = try existingService(serviceId) }
        return [.templateConfigured(TemplateConfigured(
            templateId: c.templateId, title: c.title, text: c.text, services: uniqued(c.services)
        ))]
    }

    func putSettings(_ c: PutSettings) throws -> [Event] {
        guard (1...255).contains(c.maxSegments) else {
            throw Rejection.invalidArgument(field: "maxSegments", reason: "must be between 1 and 255")
        }
        return [.settingsConfigured(SettingsConfigured(smsCounterEnabled: c.smsCounterEnabled, maxSegments: c.maxSegments))]
    }

    func putOptOut(_ c: PutOptOut) throws -> [Event] {
        var s = c.settings
        if let serviceId = s.serviceId { _ = try existingService(serviceId) }
        func keywords(_ list: [String], field: String) throws -> [String] {
            let normalised = try list.map { keyword -> String in
                guard let normal = OptOutKeywords.normalised(keyword), !normal.isEmpty else {
                    throw Rejection.invalidArgument(field: field, reason: "a keyword must be 1 to 64 bytes")
                }
                return normal
            }
            guard !normalised.isEmpty else { throw Rejection.invalidArgument(field: field, reason: "must not be empty") }
            return uniqued(normalised)
        }
        s.stopKeywords = try keywords(s.stopKeywords, field: "stopKeywords")
        s.startKeywords = try keywords(s.startKeywords, field: "startKeywords")
        s.helpKeywords = try keywords(s.helpKeywords, field: "helpKeywords")
        let all = s.stopKeywords + s.startKeywords + s.helpKeywords
        if let twice = all.first(where: { keyword in all.filter { $0 == keyword }.count > 1 }) {
            throw Rejection.invalidArgument(field: "keywords", reason: "\(twice) is in two lists")
        }
        try requireText(s.helpText, field: "helpText", maxBytes: Limits.messageText)
        try requireText(s.stopConfirmation, field: "stopConfirmation", maxBytes: Limits.messageText)
        try requireText(s.startConfirmation, field: "startConfirmation", maxBytes: Limits.messageText)
        let maximum = try state.settings().maxSegments
        for (field, text) in [
            ("helpText", s.helpText), ("stopConfirmation", s.stopConfirmation), ("startConfirmation", s.startConfirmation),
        ] {
            let segments = SegmentCounter.count(text).segments
            guard segments <= maximum else {
                throw Rejection.invalidArgument(field: field, reason: "needs \(segments) segments; at most \(maximum) are allowed")
            }
        }
        return [.optOutConfigured(s)]
    }

    private func uniqued(_ values: [String]) -> [String] {
        var seen = Set<String>()
        return values.filter { seen.insert($0).inserted }
    }
}
