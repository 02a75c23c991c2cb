public import ParleyProtocol

/// What a signed-in browser session may ask of `parleyd`: the front-end methods, each only for
/// the session's own agent. The gateway's connection holds the `frontend` role (or more), so
/// this table, not the daemon's roles, is what keeps one agent from acting as another.
public enum GatewayPolicy {
    /// How a method's request is checked.
    public enum Rule: Sendable, Equatable {
        /// Takes `agentId`: it must be the session's agent; when absent it is set to it.
        case ownAgent
        /// Concerns no agent (`sms.count`, `directory.list`, `templates.list`).
        case shared
        /// `conversation.get`: allowed when the conversation is the agent's, or a chat request
        /// waiting on one of its services (checked on the answer, before it is passed on).
        case ownConversation
        /// `events.subscribe`: the filter's `agentId` is set to the session's agent.
        case ownEvents
        /// `events.unsubscribe`: only the session's own subscriptions exist on its connection.
        case ownSubscription
    }

    /// The methods a browser session may call, and how each is checked.
    public static let rules: [String: Rule] = [
        "agent.login": .ownAgent, "agent.logout": .ownAgent, "agent.setState": .ownAgent, "agent.view": .ownAgent,
        "sms.send": .ownAgent, "chat.accept": .ownAgent, "chat.end": .ownAgent,
        "recent.get": .ownAgent, "recent.markRead": .ownAgent,
        "sms.count": .shared, "directory.list": .shared, "templates.list": .shared,
        "conversation.get": .ownConversation,
        "events.subscribe": .ownEvents, "events.unsubscribe": .ownSubscription,
    ]

    /// A request the gateway refuses; answered like a daemon refusal, with `data.type`.
    public struct Refusal: Error, Sendable, Equatable {
        public let type: String
        public let message: String
        public let field: String?

        /// The `error` member of the answer.
        public var json: JSONValue {
            var data: [String: JSONValue] = ["type": .string(type), "retryable": false]
            if let field { data["field"] = .string(field) }
            return ["code": -32003, "message": .string(message), "data": .object(data)]
        }

        static func denied(_ message: String, field: String? = nil) -> Refusal {
            Refusal(type: "PermissionDenied", message: message, field: field)
        }
    }

    /// The params to send for `method` on behalf of `agentId`, or the refusal.
    public static func authorize(method: String, params: [String: JSONValue], agentId: String) -> Result<
        [String: JSONValue], Refusal
    > {
        guard let rule = rules[method] else {
            return .failure(.denied("the agent desktop may not call \(method)"))
        }
        var params = params
        switch rule {
        case .ownAgent:
            if let given = params["agentId"], given != .null, given != .string(agentId) {
                return .failure(
                    .denied(
                        "this session acts as \(agentId) only, not as \(given.string ?? given.jsonText)",
                        field: "agentId"))
            }
            params["agentId"] = .string(agentId)
        case .ownEvents:
            var filter = params["filter"]?.object ?? [:]
            if params["filter"] != nil, params["filter"] != .null, params["filter"]?.object == nil {
                return .failure(Refusal(type: "WrongType", message: "filter must be an object", field: "filter"))
            }
            if let given = filter["agentId"], given != .null, given != .string(agentId) {
                return .failure(.denied("this session may follow \(agentId)'s events only", field: "filter.agentId"))
            }
            if let conversation = filter["conversationId"], conversation != .null {
                return .failure(
                    .denied(
                        "follow a conversation through the agent's own events (filter.agentId)",
                        field: "filter.conversationId"))
            }
            filter["agentId"] = .string(agentId)
            params["filter"] = .object(filter)
        case .shared, .ownConversation, .ownSubscription:
            break
        }
        return .success(params)
    }

    /// Whether a `conversation.get` answer may be shown to `agentId`, whose services are `services`.
    public static func mayRead(conversation answer: JSONValue, agentId: String, services: [String]) -> Bool {
        guard let conversation = answer["conversation"] else { return false }
        if let owner = conversation["agentId"]?.string { return owner == agentId }
        // Not yet accepted: a chat request, visible to the agents of its service.
        guard let service = conversation["serviceId"]?.string else { return false }
        return services.contains(service)
    }
}
