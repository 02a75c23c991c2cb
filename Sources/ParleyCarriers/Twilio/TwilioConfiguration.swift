/// Everything `parley-twilio` needs to know.
public struct TwilioConfiguration: Sendable {
    /// The name its submissions are recorded under (`carrier.submit` `connector`).
    public var connector = "twilio"
    /// The account (`AC…`) messages are sent from.
    public var accountSid: String
    /// The account's auth token: the REST API's password and the webhooks' signing key (read
    /// from a file; never logged).
    public var authToken: String
    /// The Messaging Service (`MG…`) to send through; when nil each message goes `From` its
    /// own Parley number (a Twilio number of the account).
    public var messagingServiceSid: String?
    /// The REST API's base URL.
    public var apiBaseURL = "https://api.twilio.com"
    /// The callback server's public URL as Twilio calls it, e.g. `https://parley.example.com`:
    /// the status callbacks are given under it, and every webhook's signature is checked
    /// against it.
    public var publicURL: String
    /// Messages handed to Twilio per second at most (the account's or the number's allowance).
    public var messagesPerSecond: Double = 10
    /// Messages handled at once.
    public var concurrency = 8
    /// The longest pause between two tries of a message.
    public var maxBackoff: Duration = .seconds(30)
    /// How long one request to the REST API may take.
    public var requestTimeout: Duration = .seconds(15)

    /// A configuration; the rest has defaults.
    public init(accountSid: String, authToken: String, publicURL: String) {
        self.accountSid = accountSid
        self.authToken = authToken
        self.publicURL = publicURL
    }

    /// The Messages resource: `POST` creates a message.
    public var messagesURL: String { apiBaseURL + "/2010-04-01/Accounts/\(accountSid)/Messages.json" }
}
