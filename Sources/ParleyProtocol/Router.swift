public import ParleyCore

/// Where a request goes, decided from plain values before any work is done: the method
/// name, the caller's roles and whether the server is shutting down. The session acts on
/// the answer; every refusal that needs no work is decided here, in one place.
public enum Route: Sendable, Hashable {
    /// Answer with this error; nothing else happens.
    case refuse(ProtocolError)
    /// A command: decode its params and queue it with the writer, in arrival order.
    case command(Method)
    /// A query answered from the projections or the log.
    case query(Method)
    /// `rpc.discover`: the OpenRPC document.
    case discover
    /// `events.subscribe`.
    case subscribe
    /// `events.unsubscribe` (also served while shutting down, so a client can end cleanly).
    case unsubscribe
}

/// Routes requests: unknown methods, missing roles and shutdown are refused here.
public enum Router {
    /// The route of a request for `method` from a peer holding `roles`.
    public static func route(method name: String, roles: [Role], shuttingDown: Bool) -> Route {
        guard let method = Method(rawValue: name) else { return .refuse(.methodNotFound(name)) }
        guard method.allows(roles) else { return .refuse(.permissionDenied(method: name, roles: roles)) }
        if shuttingDown && method != .eventsUnsubscribe { return .refuse(.shuttingDown) }
        switch method {
        case .rpcDiscover: return .discover
        case .eventsSubscribe: return .subscribe
        case .eventsUnsubscribe: return .unsubscribe
        case _ where method.isCommand: return .command(method)
        default: return .query(method)
        }
    }
}
