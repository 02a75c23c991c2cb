import Foundation

/// The gateway's bounds, so one browser cannot cost the others.
public struct GatewayLimits: Sendable {
    /// The longest WebSocket message from a browser; a longer one closes its socket (1009).
    public var maxMessageBytes = 64 << 10
    /// The longest sign-in request body.
    public var maxBodyBytes = 16 << 10
    /// Events one subscription holds for a browser that is not reading; past it the socket is
    /// closed (1008) and the page reconnects and resumes, instead of the gateway buffering.
    public var subscriptionBuffer = 2048
    /// WebSockets one agent may have open at once (tabs, windows, devices together).
    public var maxSocketsPerAgent = 8

    public init() {}
}

/// Everything `parley-web` is started with.
public struct GatewayConfiguration: Sendable {
    /// `parleyd`'s socket.
    public var socketPath: String
    /// The address and port to listen on (loopback by default: TLS is the reverse proxy's job).
    public var host = "127.0.0.1"
    public var port = 8080
    /// The credential file (`parley-web password`).
    public var credentialsPath: String
    /// Origins a browser may send besides the gateway's own (`http(s)://` + the Host it asked
    /// for), e.g. `https://desk.example.com` when a proxy rewrites Host.
    public var allowedOrigins: [String] = []
    /// Marks the session cookie `Secure` (set it behind a TLS proxy).
    public var secureCookies = false
    /// How long a sign-in lasts.
    public var sessionLifetime: Duration = .seconds(12 * 3600)
    /// Sign-ins one agent may hold; another one ends the oldest.
    public var maxSessionsPerAgent = 5
    /// Failed sign-ins allowed per agent id (and ten times as many per address) in `throttleWindow`.
    public var failedSignIns = 5
    public var throttleWindow: Duration = .seconds(300)
    public var limits = GatewayLimits()
    /// Where the page's files are; nil: the copy built into `parley-web`.
    public var pageDirectory: String?

    public init(socketPath: String, credentialsPath: String) {
        self.socketPath = socketPath
        self.credentialsPath = credentialsPath
    }

    /// The page built into the executable.
    public static var builtInPage: String? {
        Bundle.module.url(forResource: "Page", withExtension: nil)?.path
    }
}
