/// Checks the values of an event beyond its binary structure: the constraints the JSON
/// Schemas in `schemas/events/` state (E.164 numbers, identifiers, counts that match the text).
public enum EventValidation {
    /// What is wrong with `event`'s values, for a person; empty when nothing is.
    public static func violations(of event: Event) -> [String] {
        var problems: [String] = []
        func number(_ value: String?, _ field: String) {
            if let value, !PhoneNumber.isValid(value) { problems.append("\(field) \"\(value)\" is not E.164") }
        }
        func identifier(_ value: String, _ field: String) {
            if !Identifier.isValid(value) { problems.append("\(field) \"\(value)\" is not a valid identifier") }
        }
        func nonEmpty(_ value: String, _ field: String) {
            if value.isEmpty { problems.append("\(field) is empty") }
        }
        switch event {
        case .agentConfigured(let e):
            identifier(e.agentId, "agentId")
            number(e.did, "did")
            e.services.forEach { identifier($0, "services") }
        case .serviceConfigured(let e):
            identifier(e.serviceId, "serviceId")
            number(e.smsNumber, "smsNumber")
            if (e.smsEnabled || e.inboundChats) && e.smsNumber == nil {
                problems.append("SMS or inbound chats without an SMS number")
            }
        case .templateConfigured(let e):
            identifier(e.templateId, "templateId")
            nonEmpty(e.text, "text")
        case .settingsConfigured(let e):
            if !(1...255).contains(e.maxSegments) { problems.append("maxSegments \(e.maxSegments) is outside 1...255") }
        case .agentLoggedIn(let e):
            identifier(e.agentId, "agentId")
            if e.state != .ready && e.state != .notReady { problems.append("login to \(e.state.rawValue)") }
        case .agentLoggedOut(let e): identifier(e.agentId, "agentId")
        case .agentStateChanged(let e):
            identifier(e.agentId, "agentId")
            if e.state.hasCall != (e.call != nil) {
                problems.append("\(e.state.rawValue) with\(e.call == nil ? "out" : "") a call")
            }
            if e.state == .loggedOut { problems.append("state change to LoggedOut") }
            number(e.call?.customerNumber, "call.customerNumber")
        case .recentRead(let e):
            identifier(e.agentId, "agentId")
            if e.upTo == 0 { problems.append("upTo is 0") }
        case .conversationOpened(let e):
            nonEmpty(e.conversationId, "conversationId")
            number(e.localNumber, "localNumber")
            number(e.customerNumber, "customerNumber")
            if (e.kind == .service) != (e.serviceId != nil) {
                problems.append("serviceId does not match kind \(e.kind.rawValue)")
            }
        case .messageSent(let e):
            nonEmpty(e.messageId, "messageId")
            number(e.from, "from")
            number(e.to, "to")
            let count = SegmentCounter.count(e.text)
            if count.encoding != e.encoding || count.characters != e.characters || count.units != e.units
                || count.segments != e.segments
            {
                problems.append(
                    "recorded count (\(e.encoding.rawValue), \(e.units) units, \(e.segments) segments) does not match the text (\(count.encoding.rawValue), \(count.units), \(count.segments))"
                )
            }
            if e.text.isEmpty && e.attachments.isEmpty { problems.append("empty message") }
        case .deliveryReported(let e): nonEmpty(e.messageId, "messageId")
        case .partReported(let e):
            nonEmpty(e.messageId, "messageId")
            if !(1...Limits.parts).contains(e.part) { problems.append("part \(e.part) is outside 1...\(Limits.parts)") }
        case .customerOptedOut(let e), .customerOptedIn(let e):
            number(e.localNumber, "localNumber")
            number(e.customerNumber, "customerNumber")
            nonEmpty(e.keyword, "keyword")
            nonEmpty(e.messageId, "messageId")
        case .optOutConfigured(let e):
            if let serviceId = e.serviceId { identifier(serviceId, "serviceId") }
            for list in [e.stopKeywords, e.startKeywords, e.helpKeywords] {
                for keyword in list where keyword.isEmpty || keyword != keyword.uppercased() {
                    problems.append("keyword \"\(keyword)\" is empty or not upper case")
                }
            }
            if Set(e.stopKeywords).count + Set(e.startKeywords).count + Set(e.helpKeywords).count
                != Set(e.stopKeywords + e.startKeywords + e.helpKeywords).count
            {
                problems.append("a keyword is in two lists")
            }
            nonEmpty(e.helpText, "helpText")
        case .systemMessageSent(let e):
            nonEmpty(e.messageId, "messageId")
            number(e.from, "from")
            number(e.to, "to")
            nonEmpty(e.text, "text")
            let count = SegmentCounter.count(e.text)
            if count.encoding != e.encoding || count.units != e.units || count.segments != e.segments {
                problems.append("recorded count does not match the text")
            }
        case .messageSubmitted(let e):
            nonEmpty(e.messageId, "messageId")
            identifier(e.connector, "connector")
            if e.attempt < 1 { problems.append("attempt \(e.attempt) is below 1") }
        case .inboundReceived(let e):
            number(e.from, "from")
            number(e.to, "to")
        case .inboundIgnored(let e):
            number(e.from, "from")
            number(e.to, "to")
            if (e.reason == .conversationEnded) != (e.conversationId != nil) {
                problems.append("conversationId does not match reason")
            }
        case .chatAccepted(let e): identifier(e.agentId, "agentId")
        case .chatEnded(let e): identifier(e.agentId, "agentId")
        }
        return problems
    }
}
