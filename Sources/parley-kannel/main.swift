import ArgumentParser
import AsyncHTTPClient
import Foundation
import ParleyCarriers
import ParleyClient

/// `parley-kannel`: the Kannel connector.
@main
struct ParleyKannel: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "parley-kannel",
        abstract:
            "Send Parley's outbound SMS through Kannel, and bring Kannel's delivery reports and inbound SMS back.",
        discussion: """
            A carrier connector (it needs the carrier role on parleyd's socket). It submits every \
            outbound message no carrier has accepted to Kannel's sendsms, in exactly the parts \
            Parley counted (GSM-7 or UCS-2, each part with its concatenation header), records \
            each submission and each part's acceptance in the log, and so resumes after a restart \
            where it stopped. Kannel reports on each part to a signed URL of the connector's \
            callback server; inbound SMS come from a Kannel sms-service whose get-url is printed \
            by --print-sms-service.

            Kannel down or answering 5xx: each part is retried with backoff until Kannel answers \
            (the message stays queued). A part Kannel refuses (HTTP 4xx) more than --max-refusals \
            times is reported failed with Kannel's answer.

            Secrets come from files, never the command line: --password-file holds the sendsms \
            password, --secret-file at least 16 bytes that sign the callback URLs.

            Example:
              parley-kannel --socket /run/parley/parleyd.sock --username parley \\
                --password-file /etc/parley/kannel-password --secret-file /etc/parley/kannel-secret
            """
    )

    @Option(
        name: .long,
        help: ArgumentHelp("parleyd's socket (default: $PARLEY_SOCKET, else ./data/parleyd.sock).", valueName: "path"))
    var socket: String?

    @Option(name: .long, help: ArgumentHelp("Kannel's sendsms URL.", valueName: "url"))
    var sendsms = "http://127.0.0.1:13013/cgi-bin/sendsms"

    @Option(name: .long, help: ArgumentHelp("The sendsms-user's username in kannel.conf.", valueName: "name"))
    var username = "parley"

    @Option(
        name: .long, help: ArgumentHelp("A file whose first line is the sendsms-user's password.", valueName: "file"))
    var passwordFile: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "A file of at least 16 bytes that signs the callback URLs (keep it secret; e.g. head -c 32 /dev/urandom > FILE).",
            valueName: "file"))
    var secretFile: String

    @Option(name: .long, help: ArgumentHelp("Where the callback server listens, host:port.", valueName: "host:port"))
    var listen = "127.0.0.1:13080"

    @Option(
        name: .long,
        help: ArgumentHelp(
            "The callback server's URL as Kannel reaches it (default: http://<listen>).", valueName: "url"))
    var callbackURL: String?

    @Option(
        name: .long,
        help: ArgumentHelp("Kannel's smsc-id to route through (default: Kannel's routing).", valueName: "id"))
    var smsc: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Parts sent to Kannel per second at most, the SMSC connection's allowance (0: no limit).", valueName: "n"))
    var rate: Double = 100

    @Option(name: .long, help: ArgumentHelp("Messages handled at once.", valueName: "n"))
    var concurrency = 8

    @Option(
        name: .long, help: ArgumentHelp("HTTP 4xx refusals a part gets before it is reported failed.", valueName: "n"))
    var maxRefusals = 5

    @Option(
        name: .long, help: ArgumentHelp("The connector name its submissions are recorded under.", valueName: "name"))
    var connector = "kannel"

    @Option(
        name: .long, help: ArgumentHelp("trace, debug, info, notice, warning, error or critical.", valueName: "level"))
    var logLevel = "info"

    @Flag(
        name: .long,
        help:
            "Print the sms-service group for kannel.conf (its get-url, with the key derived from --secret-file) and exit."
    )
    var printSmsService = false

    func validate() throws {
        guard ConnectorProcess.address(listen) != nil else { throw ValidationError("--listen must be host:port") }
        guard concurrency >= 1 else { throw ValidationError("--concurrency must be at least 1") }
        guard rate >= 0 else { throw ValidationError("--rate must not be negative") }
        guard maxRefusals >= 0 else { throw ValidationError("--max-refusals must not be negative") }
    }

    func run() async throws {
        let logger = ConnectorProcess.logger("parley-kannel", level: logLevel)
        guard let secret = FileManager.default.contents(atPath: secretFile),
            let signer = CallbackSigner(secret: Array(secret))
        else {
            ConnectorProcess.fail("parley-kannel", "cannot read at least 16 bytes from --secret-file \(secretFile)")
        }
        guard let (host, port) = ConnectorProcess.address(listen) else { throw ExitCode(64) }
        let callback = callbackURL ?? "http://\(host):\(port)"
        let socketPath = ConnectorProcess.socketPath(socket)
        let client = ParleyClient(path: socketPath)
        let callbacks = KannelCallbacks(client: client, signer: signer, logger: logger)
        if printSmsService {
            print(Self.smsService(callback: callback, key: callbacks.inboundKey))
            return
        }
        guard let passwordFile, let password = ConnectorProcess.secretLine(passwordFile) else {
            ConnectorProcess.fail(
                "parley-kannel",
                "cannot read the sendsms password from --password-file \(passwordFile ?? "(not given)")")
        }

        var configuration = KannelConfiguration(
            socketPath: socketPath, sendsmsURL: sendsms, username: username, password: password, callbackURL: callback)
        configuration.connector = connector
        configuration.smsc = smsc
        configuration.listenHost = host
        configuration.listenPort = port
        configuration.partsPerSecond = rate
        configuration.concurrency = concurrency
        configuration.maxRefusals = maxRefusals
        let outbound = KannelConnector(
            configuration: configuration, client: client, http: HTTPClient.shared, signer: signer, logger: logger)
        do {
            try await ConnectorProcess.run(
                "parley-kannel", router: callbacks.router(), host: host, port: port, outbound: outbound, client: client,
                logger: logger)
        } catch {
            logger.error("kannel.stopped", metadata: ["error": "\(error)"])
            throw ExitCode.failure
        }
    }

    /// The sms-service group that sends inbound SMS to the connector.
    static func smsService(callback: String, key: String) -> String {
        """
        group = sms-service
        keyword = default
        catch-all = true
        max-messages = 0
        get-url = "\(callback)/kannel/mo?key=\(key)&from=%p&to=%P&text=%a&coding=%c&charset=%C&id=%I&smsc=%i"
        """
    }
}
