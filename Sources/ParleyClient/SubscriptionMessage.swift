public import ParleyProtocol

/// What a subscription delivers: the `events.*` notifications of one subscription, typed.
public enum SubscriptionMessage: Sendable, Hashable {
    /// One matching event (`events.event`): its log position, the recorded event as JSON, and
    /// with an `agentId` filter the agent's new unread count when the event changed it.
    case event(position: UInt64, event: JSONValue, unread: Int64?)
    /// The backlog up to `position` has been delivered (`events.caughtUp`); live events follow.
    case caughtUp(position: UInt64)
    /// The log advanced to `position` past events that did not match (`events.checkpoint`).
    case checkpoint(position: UInt64)
    /// The subscription ended (`events.end`): `unsubscribed`, `shutdown`, `slowConsumer`,
    /// `closed` or `error`; nothing of it follows. Resume after `resumeAfter`.
    case end(reason: String, resumeAfter: UInt64)

    /// The position to resume after once this message has been handled, if it moves the cursor.
    public var cursor: UInt64? {
        switch self {
        case .event(let position, _, _), .checkpoint(let position): position
        case .caughtUp(let position): position
        case .end(_, let resumeAfter): resumeAfter
        }
    }

    /// The notification as the server sends it (`method` and `params`, without `jsonrpc`), for
    /// a relay that passes it on: `subscription` is the id it goes under.
    public func notification(subscription: String) -> JSONValue {
        let id = JSONValue.string(subscription)
        switch self {
        case .event(let position, let event, let unread):
            var params: [String: JSONValue] = [
                "subscription": id, "position": .integer(Int64(position)), "event": event,
            ]
            if let unread { params["unread"] = .integer(unread) }
            return ["method": "events.event", "params": .object(params)]
        case .caughtUp(let position):
            return [
                "method": "events.caughtUp", "params": ["subscription": id, "position": .integer(Int64(position))],
            ]
        case .checkpoint(let position):
            return [
                "method": "events.checkpoint", "params": ["subscription": id, "position": .integer(Int64(position))],
            ]
        case .end(let reason, let resumeAfter):
            return [
                "method": "events.end",
                "params": ["subscription": id, "reason": .string(reason), "resumeAfter": .integer(Int64(resumeAfter))],
            ]
        }
    }

    /// Reads an `events.*` notification's method and params; nil for anything else.
    init?(method: String, params: JSONValue) {
        switch method {
        case "events.event":
            guard let position = params["position"]?.uint64, let event = params["event"] else { return nil }
            self = .event(position: position, event: event, unread: params["unread"]?.int64)
        case "events.caughtUp":
            guard let position = params["position"]?.uint64 else { return nil }
            self = .caughtUp(position: position)
        case "events.checkpoint":
            guard let position = params["position"]?.uint64 else { return nil }
            self = .checkpoint(position: position)
        case "events.end":
            guard let reason = params["reason"]?.string, let after = params["resumeAfter"]?.uint64 else { return nil }
            self = .end(reason: reason, resumeAfter: after)
        default: return nil
        }
    }
}
