/// What carriers report: delivery status and inbound SMS.
extension Decider {
    func reportDelivery(_ c: ReportDelivery) throws -> [Event] {
        try requireLength(c.carrierReference, field: "carrierReference", maxBytes: Limits.reference)
        try requireLength(c.detail, field: "detail", maxBytes: Limits.shortText)
        if let reference = c.carrierReference { try requireKey(reference, field: "carrierReference") }
        let messageId: String
        if let id = c.messageId {
            try requireKey(id, field: "messageId")
            messageId = id
        } else if let reference = c.carrierReference {
            guard let id = try state.messageId(carrierReference: reference) else { throw Rejection.unknownMessage(reference) }
            messageId = id
        } else {
            throw Rejection.invalidArgument(field: "messageId", reason: "name the message by messageId or carrierReference")
        }
        guard let message = try state.message(messageId) else { throw Rejection.unknownMessage(messageId) }
        guard message.direction == .outbound else { throw Rejection.notOutbound(messageId: messageId) }
        if let reference = c.carrierReference, reference.isEmpty {
            throw Rejection.invalidArgument(field: "carrierReference", reason: "must not be empty")
        }
        if let reference = c.carrierReference, let holder = try state.messageId(carrierReference: reference),
            holder != messageId
        {
            throw Rejection.carrierReferenceInUse(reference: reference, messageId: holder)
        }
        guard let part = c.part else {
            return [.deliveryReported(DeliveryReported(
                conversationId: message.conversationId, messageId: messageId, status: c.status,
                carrierReference: c.carrierReference, detail: c.detail
            ))]
        }
        return try reportPart(part, of: message, c)
    }

    /// A report on one part: `PartReported`, and the message's `DeliveryReported` when the
    /// parts' statuses move the message's (its detail is the part's when the message fails).
    private func reportPart(_ part: Int, of message: MessageRecord, _ c: ReportDelivery) throws -> [Event] {
        guard (1...message.partCount).contains(part) else {
            throw Rejection.invalidArgument(
                field: "part", reason: "must be between 1 and \(message.partCount), the parts of message \(message.messageId)"
            )
        }
        var events: [Event] = [.partReported(PartReported(
            conversationId: message.conversationId, messageId: message.messageId, part: part, status: c.status,
            carrierReference: c.carrierReference, detail: c.detail
        ))]
        var after = message
        after.recordPart(part, status: c.status, reference: c.carrierReference)
        let status = after.statusOfParts
        if let current = message.status, current.advances(to: status) {
            events.append(.deliveryReported(DeliveryReported(
                conversationId: message.conversationId, messageId: message.messageId, status: status,
                carrierReference: nil, detail: status == c.status ? c.detail : nil
            )))
        }
        return events
    }

    func submit(_ c: SubmitMessage) throws -> [Event] {
        try requireKey(c.messageId, field: "messageId")
        try requireIdentifier(c.connector, field: "connector")
        guard let message = try state.message(c.messageId) else { throw Rejection.unknownMessage(c.messageId) }
        guard message.direction == .outbound else { throw Rejection.notOutbound(messageId: c.messageId) }
        guard message.awaitsCarrier else {
            throw Rejection.messageAlreadyAccepted(messageId: c.messageId, status: message.status ?? .queued)
        }
        return [.messageSubmitted(MessageSubmitted(
            conversationId: message.conversationId, messageId: c.messageId, connector: c.connector,
            attempt: (message.submission?.attempt ?? 0) + 1
        ))]
    }

    func receive(_ c: ReceiveInbound) throws -> [Event] {
        let events = try route(c)
        return events + (try optOut(c, in: events))
    }

    /// The opt-out or opt-in an inbound SMS's text asks for, when it is one of its number's
    /// keywords and changes the customer's standing, recorded after the SMS itself wherever it
    /// went; then, in the conversation the SMS joined, the daemon's own reply: the help text
    /// for HELP, a confirmation of the change where the number's settings send one.
    private func optOut(_ c: ReceiveInbound, in events: [Event]) throws -> [Event] {
        let settings = try state.optOutSettings(forNumber: c.to)
        guard let (request, keyword) = OptOutKeywords.request(in: c.text, settings: settings) else { return [] }
        var messageId = ""
        var conversationId: String?
        var joined: String?
        for event in events {
            switch event {
            case .inboundReceived(let e): (messageId, conversationId, joined) = (e.messageId, e.conversationId, e.conversationId)
            case .inboundIgnored(let e): (messageId, conversationId) = (e.messageId, e.conversationId)
            default: break
            }
        }
        let optedOut = try state.isOptedOut(local: c.to, customer: c.from)
        var result: [Event] = []
        var reply: (SystemMessageReason, String)?
        switch request {
        case .stop where !optedOut:
            result.append(.customerOptedOut(CustomerOptedOut(
                localNumber: c.to, customerNumber: c.from, keyword: keyword, messageId: messageId,
                conversationId: conversationId
            )))
            if settings.confirmations { reply = (.optOutConfirmation, settings.stopConfirmation) }
        case .start where optedOut:
            result.append(.customerOptedIn(CustomerOptedIn(
                localNumber: c.to, customerNumber: c.from, keyword: keyword, messageId: messageId,
                conversationId: conversationId
            )))
            if settings.confirmations { reply = (.optInConfirmation, settings.startConfirmation) }
        case .help: reply = (.help, settings.helpText)
        default: break
        }
        if let (reason, text) = reply, let joined {
            result.append(.systemMessageSent(SystemMessageSent(
                conversationId: joined, messageId: ids.next(.message), reason: reason, from: c.to, to: c.from, text: text
            )))
        }
        return result
    }

    /// Where an inbound SMS goes: the conversation it joins or opens, or ignored.
    private func route(_ c: ReceiveInbound) throws -> [Event] {
        try requireNumber(c.from, field: "from")
        try requireNumber(c.to, field: "to")
        try requireLength(c.text, field: "text", maxBytes: Limits.messageText)
        try requireLength(c.carrierReference, field: "carrierReference", maxBytes: Limits.reference)
        try requireAttachments(c.attachments)

        if let agentId = try state.agentId(forDid: c.to) {
            // Only a conversation of the DID's current holder (the DID may have moved since).
            if let open = try state.openConversationId(local: c.to, customer: c.from).flatMap({ try state.conversation($0) }),
                open.agentId == agentId
            {
                return [inbound(c, into: open.conversationId, answering: open.lastOutbound)]
            }
            let id = ids.next(.conversation)
            return [
                .conversationOpened(ConversationOpened(
                    conversationId: id, kind: .did, origin: .customer, serviceId: nil, agentId: agentId,
                    localNumber: c.to, customerNumber: c.from
                )),
                inbound(c, into: id, answering: nil),
            ]
        }
        guard let serviceId = try state.serviceId(forNumber: c.to), let service = try state.service(serviceId) else {
            return [ignored(c, reason: .unknownNumber, conversationId: nil)]
        }
        guard service.smsEnabled else {
            return [ignored(c, reason: .smsDisabled, conversationId: nil)]
        }
        // Only a conversation of the number's current service (the number may have moved since).
        if let open = try state.openConversationId(local: c.to, customer: c.from).flatMap({ try state.conversation($0) }),
            open.serviceId == serviceId
        {
            return [inbound(c, into: open.conversationId, answering: open.lastOutbound)]
        }
        if service.inboundChats {
            let id = ids.next(.conversation)
            return [
                .conversationOpened(ConversationOpened(
                    conversationId: id, kind: .service, origin: .customer, serviceId: serviceId, agentId: nil,
                    localNumber: c.to, customerNumber: c.from
                )),
                inbound(c, into: id, answering: nil),
            ]
        }
        if let ended = try state.lastConversationId(local: c.to, customer: c.from),
            try state.conversation(ended)?.serviceId == serviceId
        {
            return [ignored(c, reason: .conversationEnded, conversationId: ended)]
        }
        return [ignored(c, reason: .noInboundChats, conversationId: nil)]
    }

    private func inbound(_ c: ReceiveInbound, into conversationId: String, answering: String?) -> Event {
        .inboundReceived(InboundReceived(
            conversationId: conversationId, messageId: ids.next(.message), from: c.from, to: c.to, text: c.text,
            attachments: c.attachments, inReplyTo: answering, carrierReference: c.carrierReference
        ))
    }

    private func ignored(_ c: ReceiveInbound, reason: IgnoreReason, conversationId: String?) -> Event {
        .inboundIgnored(InboundIgnored(
            messageId: ids.next(.message), from: c.from, to: c.to, text: c.text, attachments: c.attachments,
            reason: reason, conversationId: conversationId, carrierReference: c.carrierReference
        ))
    }
}
