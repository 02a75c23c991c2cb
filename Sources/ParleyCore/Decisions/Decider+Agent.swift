/// Agent presence and Recent.
extension Decider {
    func login(_ c: Login) throws -> [Event] {
        let agent = try existingAgent(c.agentId)
        guard c.state == .ready || c.state == .notReady else {
            throw Rejection.invalidArgument(field: "state", reason: "an agent logs in to Ready or NotReady")
        }
        guard agent.state == .loggedOut else { return [] }
        return [.agentLoggedIn(AgentLoggedIn(agentId: c.agentId, state: c.state))]
    }

    func logout(_ c: Logout) throws -> [Event] {
        let agent = try existingAgent(c.agentId)
        guard agent.state != .loggedOut else { return [] }
        return [.agentLoggedOut(AgentLoggedOut(agentId: c.agentId))]
    }

    func setState(_ c: SetState) throws -> [Event] {
        let agent = try existingAgent(c.agentId)
        guard agent.state != .loggedOut else { throw Rejection.agentLoggedOut(agentId: c.agentId) }
        guard c.state != .loggedOut else {
            throw Rejection.invalidArgument(field: "state", reason: "use agent.logout to log out")
        }
        if c.state.hasCall {
            guard let call = c.call else {
                throw Rejection.invalidArgument(field: "call", reason: "\(c.state.rawValue) needs the call's callId, serviceId and customerNumber")
            }
            try requireText(call.callId, field: "call.callId", maxBytes: Limits.shortText)
            _ = try existingService(call.serviceId)
            try requireNumber(call.customerNumber, field: "call.customerNumber")
        } else if c.call != nil {
            throw Rejection.invalidArgument(field: "call", reason: "only Busy and AfterCallWork carry a call")
        }
        guard agent.state != c.state || agent.call != c.call else { return [] }
        return [.agentStateChanged(AgentStateChanged(agentId: c.agentId, state: c.state, call: c.call))]
    }

    func markRecentRead(_ c: MarkRecentRead) throws -> [Event] {
        let agent = try existingAgent(c.agentId)
        guard c.upTo <= head else { throw Rejection.positionOutOfRange(position: c.upTo, head: head) }
        guard c.upTo > agent.readHorizon else { return [] }
        return [.recentRead(RecentRead(agentId: c.agentId, upTo: c.upTo))]
    }

    func acceptChat(_ c: AcceptChat) throws -> [Event] {
        let agent = try existingAgent(c.agentId)
        guard agent.state != .loggedOut else { throw Rejection.agentLoggedOut(agentId: c.agentId) }
        let conversation = try existingConversation(c.conversationId)
        switch conversation.status {
        case .ended: throw Rejection.conversationEnded(conversationId: c.conversationId)
        case .open:
            guard let owner = conversation.agentId, owner != c.agentId else { return [] }
            throw Rejection.chatAlreadyAccepted(conversationId: c.conversationId, ownerId: owner)
        case .pending: break
        }
        if let serviceId = conversation.serviceId, !agent.services.contains(serviceId) {
            throw Rejection.serviceNotAssigned(agentId: c.agentId, serviceId: serviceId)
        }
        return [.chatAccepted(ChatAccepted(conversationId: c.conversationId, agentId: c.agentId))]
    }

    func endChat(_ c: EndChat) throws -> [Event] {
        _ = try existingAgent(c.agentId)
        let conversation = try existingConversation(c.conversationId)
        switch conversation.status {
        case .ended: throw Rejection.conversationEnded(conversationId: c.conversationId)
        case .pending: throw Rejection.chatNotAccepted(conversationId: c.conversationId)
        case .open:
            if let owner = conversation.agentId, owner != c.agentId {
                throw Rejection.conversationOwnedByAnotherAgent(conversationId: c.conversationId, ownerId: owner)
            }
        }
        return [.chatEnded(ChatEnded(conversationId: c.conversationId, agentId: c.agentId))]
    }
}
