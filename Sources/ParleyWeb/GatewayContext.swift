public import Hummingbird
public import HummingbirdWebSocket

/// The request context of the gateway's routes: the peer's address (for the sign-in throttle)
/// and, once the cookie is checked, the session.
public struct GatewayContext: RequestContext, WebSocketRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let webSocket: WebSocketHandlerReference<Self>
    /// The peer's IP address (the reverse proxy's, behind one).
    public let remoteAddress: String
    /// The signed-in session, set by the WebSocket route's check.
    public var session: SessionStore.Session?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        webSocket = .init()
        remoteAddress = source.channel.remoteAddress?.ipAddress ?? "unknown"
    }
}
