/// Everything `parley-kannel` needs to know.
public struct KannelConfiguration: Sendable {
    /// The daemon's socket.
    public var socketPath: String
    /// The name its submissions are recorded under (`carrier.submit` `connector`).
    public var connector = "kannel"
    /// Kannel's `sendsms` URL, e.g. `http://127.0.0.1:13013/cgi-bin/sendsms`.
    public var sendsmsURL: String
    /// The `sendsms-user` Kannel knows the connector as.
    public var username: String
    /// Its password (read from a file; never logged).
    public var password: String
    /// The `smsc-id` to route through, when Kannel has several SMSC connections.
    public var smsc: String?
    /// Where the connector's callback server listens.
    public var listenHost = "127.0.0.1"
    public var listenPort = 13080
    /// The callback server's address as Kannel reaches it, e.g. `http://127.0.0.1:13080`.
    public var callbackURL: String
    /// Parts handed to Kannel per second at most (the SMSC connection's allowance).
    public var partsPerSecond: Double = 100
    /// Messages handled at once.
    public var concurrency = 8
    /// Refusals by Kannel (an HTTP 4xx answer) a part gets before it is reported failed. A
    /// Kannel that is down or answers 5xx is retried until it answers, never failed.
    public var maxRefusals = 5
    /// The longest pause between two tries of a part.
    public var maxBackoff: Duration = .seconds(30)
    /// How long one `sendsms` request may take.
    public var requestTimeout: Duration = .seconds(10)

    /// A configuration; the rest has defaults.
    public init(socketPath: String, sendsmsURL: String, username: String, password: String, callbackURL: String) {
        self.socketPath = socketPath
        self.sendsmsURL = sendsmsURL
        self.username = username
        self.password = password
        self.callbackURL = callbackURL
    }
}
