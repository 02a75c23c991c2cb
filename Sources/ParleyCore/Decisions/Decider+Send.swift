/// Sending an SMS: who may, to where, and which conversation it opens or joins.
extension Decider {
    /// Where a send goes, once resolved.
    private struct Target {
        var conversation: ConversationRecord?
        var kind: ConversationKind
        var serviceId: String?
        var localNumber: String
        var customerNumber: String
    }

    func send(_ c: SendMessage) throws -> [Event] {
        let agent = try existingAgent(c.agentId)
        guard agent.smsAllowed else { throw Rejection.smsNotPermitted(agentId: c.agentId) }
        guard agent.state != .loggedOut else { throw Rejection.agentLoggedOut(agentId: c.agentId) }
        guard !c.text.isEmpty || !c.attachments.isEmpty else { throw Rejection.emptyMessage }
        try requireLength(c.text, field: "text", maxBytes: Limits.messageText)
        try requireAttachments(c.attachments)
        let count = SegmentCounter.count(c.text)
        let maximum = try state.settings().maxSegments
        guard count.segments <= maximum else { throw Rejection.messageTooLong(segments: count.segments, maximum: maximum) }

        let target = try resolveTarget(c, agent: agent)
        if try state.isOptedOut(local: target.localNumber, customer: target.customerNumber) {
            throw Rejection.customerOptedOut(customerNumber: target.customerNumber, localNumber: target.localNumber)
        }
        var events: [Event] = []
        let conversationId: String
        if let conversation = target.conversation {
            conversationId = conversation.conversationId
            if conversation.status == .pending {
                events.append(.chatAccepted(ChatAccepted(conversationId: conversationId, agentId: c.agentId)))
            }
        } else {
            conversationId = ids.next(.conversation)
            events.append(.conversationOpened(ConversationOpened(
                conversationId: conversationId, kind: target.kind, origin: .agent, serviceId: target.serviceId,
                agentId: c.agentId, localNumber: target.localNumber, customerNumber: target.customerNumber
            )))
        }
        let callId = agent.state.hasCall && agent.call?.customerNumber == target.customerNumber ? agent.call?.callId : nil
        events.append(.messageSent(MessageSent(
            conversationId: conversationId, messageId: ids.next(.message), agentId: c.agentId,
            from: target.localNumber, to: target.customerNumber, text: c.text, attachments: c.attachments,
            encoding: count.encoding, characters: count.characters, units: count.units, segments: count.segments,
            callId: callId
        )))
        return events
    }

    private func resolveTarget(_ c: SendMessage, agent: AgentRecord) throws -> Target {
        if let conversationId = c.conversationId {
            return try targetInConversation(conversationId, c, agent: agent)
        }
        let callContext = agent.state.hasCall ? agent.call : nil
        let customer = c.customerNumber ?? callContext?.customerNumber
        if c.fromDid {
            guard let did = agent.did else { throw Rejection.agentWithoutDid(agentId: c.agentId) }
            guard let customer else {
                throw Rejection.invalidArgument(field: "customerNumber", reason: "a DID send needs a customer number")
            }
            try requireNumber(customer, field: "customerNumber")
            // Only the agent's own conversation (the DID may have belonged to another agent before).
            let open = try state.openConversationId(local: did, customer: customer).flatMap { try state.conversation($0) }
                .flatMap { $0.agentId == c.agentId ? $0 : nil }
            return Target(conversation: open, kind: .did, serviceId: nil, localNumber: did, customerNumber: customer)
        }
        guard let serviceId = c.serviceId ?? callContext?.serviceId, let customer else {
            throw Rejection.missingDestination(agentId: c.agentId, state: agent.state)
        }
        let service = try existingService(serviceId)
        guard agent.services.contains(serviceId) else {
            throw Rejection.serviceNotAssigned(agentId: c.agentId, serviceId: serviceId)
        }
        guard service.smsEnabled, let serviceNumber = service.smsNumber else {
            throw Rejection.serviceWithoutSms(serviceId: serviceId)
        }
        try requireNumber(customer, field: "customerNumber")
        // Only a conversation of this service (the number may have belonged to another service before).
        let open = try state.openConversationId(local: serviceNumber, customer: customer).flatMap { try state.conversation($0) }
            .flatMap { $0.serviceId == serviceId ? $0 : nil }
        if let open, let owner = open.agentId, owner != c.agentId {
            throw Rejection.conversationOwnedByAnotherAgent(conversationId: open.conversationId, ownerId: owner)
        }
        return Target(
            conversation: open, kind: .service, serviceId: serviceId, localNumber: serviceNumber, customerNumber: customer
        )
    }

    private func targetInConversation(_ id: String, _ c: SendMessage, agent: AgentRecord) throws -> Target {
        let conversation = try existingConversation(id)
        guard conversation.status != .ended else { throw Rejection.conversationEnded(conversationId: id) }
        if let owner = conversation.agentId, owner != c.agentId {
            throw Rejection.conversationOwnedByAnotherAgent(conversationId: id, ownerId: owner)
        }
        if let number = c.customerNumber, number != conversation.customerNumber {
            throw Rejection.invalidArgument(field: "customerNumber", reason: "does not match conversation \"\(id)\"")
        }
        if let serviceId = c.serviceId, serviceId != conversation.serviceId {
            throw Rejection.invalidArgument(field: "serviceId", reason: "does not match conversation \"\(id)\"")
        }
        if let serviceId = conversation.serviceId {
            let service = try existingService(serviceId)
            guard agent.services.contains(serviceId) else {
                throw Rejection.serviceNotAssigned(agentId: c.agentId, serviceId: serviceId)
            }
            guard service.smsEnabled else { throw Rejection.serviceWithoutSms(serviceId: serviceId) }
        }
        return Target(
            conversation: conversation, kind: conversation.kind, serviceId: conversation.serviceId,
            localNumber: conversation.localNumber, customerNumber: conversation.customerNumber
        )
    }
}
