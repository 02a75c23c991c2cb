import ArgumentParser
import AsyncHTTPClient
import ParleyCarriers
import ParleyClient

/// `parley-twilio`: the Twilio connector.
@main
struct ParleyTwilio: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "parley-twilio",
        abstract:
            "Send Parley's outbound SMS through Twilio, and bring Twilio's status callbacks and inbound SMS back.",
        discussion: """
            A carrier connector (it needs the carrier role on parleyd's socket). It creates every \
            outbound message no carrier has accepted with Twilio's Messages API, records each \
            submission and each acceptance (Twilio's message sid) in the log, and so resumes \
            after a restart where it stopped. Its callback server takes Twilio's messaging \
            webhook (POST /twilio/sms: point the numbers' "A message comes in" at it) and the \
            status callbacks it gives with each message (POST /twilio/status), each only with a \
            valid X-Twilio-Signature for the URL under --public-url; anything else gets 403 and \
            records nothing.

            Twilio unreachable, answering 5xx or 429, or refusing the credentials: the message \
            is retried with backoff and stays queued. Twilio refusing the message itself (any \
            other 4xx, e.g. error 21211, an invalid To) reports it failed with Twilio's answer.

            The auth token comes from a file, never the command line.

            Example:
              parley-twilio --socket /run/parley/parleyd.sock --account-sid ACxxxxxxxx \\
                --auth-token-file /etc/parley/twilio-token --public-url https://sms.example.com
            """
    )

    @Option(
        name: .long,
        help: ArgumentHelp("parleyd's socket (default: $PARLEY_SOCKET, else ./data/parleyd.sock).", valueName: "path"))
    var socket: String?

    @Option(name: .long, help: ArgumentHelp("The Twilio account's sid (AC…).", valueName: "sid"))
    var accountSid: String

    @Option(name: .long, help: ArgumentHelp("A file whose first line is the account's auth token.", valueName: "file"))
    var authTokenFile: String

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Send through this Messaging Service (MG…) instead of From each message's own number.", valueName: "sid"))
    var messagingServiceSid: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "The callback server's public URL as Twilio calls it, no trailing slash (default: http://<listen>).",
            valueName: "url"))
    var publicURL: String?

    @Option(name: .long, help: ArgumentHelp("Where the callback server listens, host:port.", valueName: "host:port"))
    var listen = "127.0.0.1:13090"

    @Option(name: .long, help: ArgumentHelp("The REST API's base URL.", valueName: "url"))
    var apiBase = "https://api.twilio.com"

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Messages sent to Twilio per second at most, the account's allowance (0: no limit).", valueName: "n"))
    var rate: Double = 10

    @Option(name: .long, help: ArgumentHelp("Messages handled at once.", valueName: "n"))
    var concurrency = 8

    @Option(
        name: .long, help: ArgumentHelp("The connector name its submissions are recorded under.", valueName: "name"))
    var connector = "twilio"

    @Option(
        name: .long, help: ArgumentHelp("trace, debug, info, notice, warning, error or critical.", valueName: "level"))
    var logLevel = "info"

    func validate() throws {
        guard ConnectorProcess.address(listen) != nil else { throw ValidationError("--listen must be host:port") }
        guard concurrency >= 1 else { throw ValidationError("--concurrency must be at least 1") }
        guard rate >= 0 else { throw ValidationError("--rate must not be negative") }
        guard !accountSid.isEmpty else { throw ValidationError("--account-sid must not be empty") }
        if let publicURL,
            publicURL.hasSuffix("/") || !(publicURL.hasPrefix("http://") || publicURL.hasPrefix("https://"))
        {
            throw ValidationError("--public-url must be an http or https URL without a trailing slash")
        }
    }

    func run() async throws {
        let logger = ConnectorProcess.logger("parley-twilio", level: logLevel)
        guard let token = ConnectorProcess.secretLine(authTokenFile) else {
            ConnectorProcess.fail("parley-twilio", "cannot read the auth token from --auth-token-file \(authTokenFile)")
        }
        guard let (host, port) = ConnectorProcess.address(listen) else { throw ExitCode(64) }
        let client = ParleyClient(path: ConnectorProcess.socketPath(socket))
        var configuration = TwilioConfiguration(
            accountSid: accountSid, authToken: token, publicURL: publicURL ?? "http://\(host):\(port)")
        configuration.connector = connector
        configuration.messagingServiceSid = messagingServiceSid
        configuration.apiBaseURL = apiBase
        configuration.messagesPerSecond = rate
        configuration.concurrency = concurrency
        let callbacks = TwilioCallbacks(
            client: client, authToken: token, publicURL: configuration.publicURL, logger: logger)
        let outbound = TwilioConnector(
            configuration: configuration, client: client, http: HTTPClient.shared, logger: logger)
        do {
            try await ConnectorProcess.run(
                "parley-twilio", router: callbacks.router(), host: host, port: port, outbound: outbound, client: client,
                logger: logger)
        } catch {
            logger.error("twilio.stopped", metadata: ["error": "\(error)"])
            throw ExitCode.failure
        }
    }
}
