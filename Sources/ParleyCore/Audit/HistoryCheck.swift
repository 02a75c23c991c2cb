/// Checks the domain's invariants over a whole history, event by event, against the
/// projections built so far (before the event is applied).
public enum HistoryCheck {
    /// What `recorded` breaks, given the projections as they stood before it.
    public static func violations(of recorded: RecordedEvent, before state: some ProjectionReading) throws -> [String] {
        var problems: [String] = []
        func conversation(_ id: String) throws -> ConversationRecord? {
            guard let record = try state.conversation(id) else {
                problems.append("refers to unknown conversation \(id)")
                return nil
            }
            return record
        }
        switch recorded.event {
        case .conversationOpened(let e):
            if try state.conversation(e.conversationId) != nil { problems.append("conversation \(e.conversationId) opened twice") }
            if let agent = e.agentId, try state.agent(agent) == nil { problems.append("unknown agent \(agent)") }
        case .messageSent(let e):
            if let record = try conversation(e.conversationId), record.status == .ended {
                problems.append("message \(e.messageId) sent in ended conversation \(e.conversationId)")
            }
            if try state.messageLocation(e.messageId) != nil { problems.append("message id \(e.messageId) used twice") }
            if try state.agent(e.agentId) == nil { problems.append("unknown agent \(e.agentId)") }
            if try state.isOptedOut(local: e.from, customer: e.to) {
                problems.append("agent \(e.agentId) texted \(e.to), who had opted out of \(e.from) (message \(e.messageId))")
            }
        case .optOutConfigured(let e):
            if let serviceId = e.serviceId, try state.service(serviceId) == nil {
                problems.append("opt-out settings for unknown service \(serviceId)")
            }
        case .systemMessageSent(let e):
            if let record = try conversation(e.conversationId), record.status == .ended {
                problems.append("system message \(e.messageId) sent in ended conversation \(e.conversationId)")
            }
            if try state.messageLocation(e.messageId) != nil { problems.append("message id \(e.messageId) used twice") }
        case .customerOptedOut(let e):
            if try state.isOptedOut(local: e.localNumber, customer: e.customerNumber) {
                problems.append("\(e.customerNumber) opted out of \(e.localNumber) twice")
            }
            if try state.messageLocation(e.messageId) == nil && e.conversationId != nil {
                problems.append("opt-out names unknown message \(e.messageId)")
            }
        case .customerOptedIn(let e):
            if try !state.isOptedOut(local: e.localNumber, customer: e.customerNumber) {
                problems.append("\(e.customerNumber) opted in to \(e.localNumber) without having opted out")
            }
        case .inboundReceived(let e):
            if let record = try conversation(e.conversationId), record.status == .ended {
                problems.append("message \(e.messageId) received into ended conversation \(e.conversationId)")
            }
            if try state.messageLocation(e.messageId) != nil { problems.append("message id \(e.messageId) used twice") }
        case .deliveryReported(let e):
            if let message = try state.message(e.messageId) {
                if message.direction != .outbound { problems.append("delivery report on inbound message \(e.messageId)") }
            } else {
                problems.append("delivery report on unknown message \(e.messageId)")
            }
        case .partReported(let e):
            if let message = try state.message(e.messageId) {
                if message.direction != .outbound { problems.append("part report on inbound message \(e.messageId)") }
                if e.part > message.partCount {
                    problems.append("part \(e.part) reported of \(e.messageId), which has \(message.partCount)")
                }
            } else {
                problems.append("part report on unknown message \(e.messageId)")
            }
        case .messageSubmitted(let e):
            if let message = try state.message(e.messageId) {
                if !message.awaitsCarrier { problems.append("message \(e.messageId) submitted after a carrier accepted it") }
                let expected = (message.submission?.attempt ?? 0) + 1
                if e.attempt != expected { problems.append("submission attempt \(e.attempt) of \(e.messageId), expected \(expected)") }
                if message.conversationId != e.conversationId {
                    problems.append("submission of \(e.messageId) names conversation \(e.conversationId), not \(message.conversationId)")
                }
            } else {
                problems.append("submission of unknown message \(e.messageId)")
            }
        case .chatAccepted(let e):
            if let record = try conversation(e.conversationId), record.status != .pending {
                problems.append("chat \(e.conversationId) accepted while \(record.status.rawValue)")
            }
        case .chatEnded(let e):
            if let record = try conversation(e.conversationId) {
                if record.status != .open { problems.append("chat \(e.conversationId) ended while \(record.status.rawValue)") }
                if record.agentId != e.agentId { problems.append("chat \(e.conversationId) ended by \(e.agentId), not its owner") }
            }
        case .recentRead(let e):
            if e.upTo >= recorded.position { problems.append("Recent read up to \(e.upTo), at or beyond its own position") }
            if let agent = try state.agent(e.agentId), e.upTo <= agent.readHorizon {
                problems.append("Recent read horizon moved backwards from \(agent.readHorizon) to \(e.upTo)")
            }
        case .agentLoggedIn(let e):
            if try state.agent(e.agentId) == nil { problems.append("unknown agent \(e.agentId)") }
        case .agentLoggedOut(let e):
            if try state.agent(e.agentId) == nil { problems.append("unknown agent \(e.agentId)") }
        case .agentStateChanged(let e):
            if let agent = try state.agent(e.agentId), agent.state == .loggedOut { problems.append("state change while logged out") }
        default: break
        }
        return problems
    }
}
