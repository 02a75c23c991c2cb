import ArgumentParser
import Foundation
import Logging
import ParleyWeb

/// `parley-web`: the agent desktop's gateway, and its credential file.
@main
struct ParleyWebCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "parley-web",
        abstract: "The agent desktop: serves the page and lets each signed-in agent act as itself through parleyd.",
        discussion: """
            parley-web serve starts the gateway. Agents sign in with a password an administrator \
            set with parley-web password AGENT; the credential file (mode 0600) holds bcrypt hashes \
            only. parleyd must grant the gateway's user the frontend role (--frontend-uid or \
            --frontend-group) and let it open its socket (--socket-group). Exit status: 0 stopped \
            cleanly, 1 failed, 64 bad usage.
            """,
        subcommands: [Serve.self, Password.self, Remove.self],
        defaultSubcommand: Serve.self
    )
}

/// Options every subcommand shares.
struct CredentialOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The credential file.", valueName: "path"))
    var credentials = "./data/web-credentials"
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the page and its WebSocket.",
        discussion: """
            Listens on loopback by default: put a TLS reverse proxy in front (see the README) and \
            pass --secure-cookies and, if the proxy changes the Host header, --allowed-origin. \
            SIGTERM or SIGINT stops it.

            Example:
              parley-web serve --socket /run/parley/parleyd.sock --listen 127.0.0.1:8080 \\
                               --credentials /var/lib/parley-web/credentials
            """
    )

    @OptionGroup var options: CredentialOptions

    @Option(
        name: .long,
        help: ArgumentHelp("parleyd's socket (default: $PARLEY_SOCKET, else ./data/parleyd.sock).", valueName: "path"))
    var socket: String?

    @Option(name: .long, help: ArgumentHelp("The address and port to listen on.", valueName: "host:port"))
    var listen = "127.0.0.1:8080"

    @Option(
        name: .long, parsing: .singleValue,
        help: ArgumentHelp(
            "An origin pages may come from besides the gateway's own, e.g. https://desk.example.com (repeatable).",
            valueName: "origin"))
    var allowedOrigin: [String] = []

    @Flag(name: .long, help: "Mark the session cookie Secure (behind a TLS proxy).")
    var secureCookies = false

    @Option(name: .long, help: ArgumentHelp("How long a sign-in lasts.", valueName: "hours"))
    var sessionHours = 12.0

    @Option(name: .long, help: ArgumentHelp("Sign-ins one agent may hold; another ends the oldest.", valueName: "n"))
    var maxSessionsPerAgent = 5

    @Option(
        name: .long,
        help: ArgumentHelp("Serve the page from this directory instead of the built-in copy.", valueName: "dir"))
    var page: String?

    @Option(
        name: .long, help: ArgumentHelp("trace, debug, info, notice, warning, error or critical.", valueName: "level"))
    var logLevel = "info"

    func validate() throws {
        guard Self.address(listen) != nil else {
            throw ValidationError("--listen must be host:port, e.g. 127.0.0.1:8080, not \"\(listen)\"")
        }
        guard sessionHours > 0 else { throw ValidationError("--session-hours must be positive") }
        guard maxSessionsPerAgent > 0 else { throw ValidationError("--max-sessions-per-agent must be positive") }
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("unknown --log-level \"\(logLevel)\"")
        }
    }

    static func address(_ text: String) -> (host: String, port: Int)? {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (0...65535).contains(port)
        else { return nil }
        let host = String(text[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        return host.isEmpty ? nil : (host, port)
    }

    func run() async throws {
        LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
        var logger = Logger(label: "parley-web")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        let socketPath =
            socket ?? ProcessInfo.processInfo.environment["PARLEY_SOCKET"].flatMap { $0.isEmpty ? nil : $0 }
            ?? "./data/parleyd.sock"
        guard let (host, port) = Self.address(listen) else { throw ExitCode(64) }
        var configuration = GatewayConfiguration(socketPath: socketPath, credentialsPath: options.credentials)
        configuration.host = host
        configuration.port = port
        configuration.allowedOrigins = allowedOrigin
        configuration.secureCookies = secureCookies
        configuration.sessionLifetime = .milliseconds(Int64(sessionHours * 3_600_000))
        configuration.maxSessionsPerAgent = maxSessionsPerAgent
        configuration.pageDirectory = page
        let gateway: WebGateway
        do {
            gateway = try WebGateway(configuration: configuration, logger: logger)
        } catch {
            FileHandle.standardError.write(Data("parley-web: \(error)\n".utf8))
            throw ExitCode.failure
        }
        let log = logger
        let app = gateway.application { port in
            log.notice("web.listening", metadata: ["url": "http://\(host):\(port)/", "socket": "\(socketPath)"])
        }
        try await app.runService()
    }
}

struct Password: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Set an agent's sign-in password (read from the terminal, or the first line of standard input).",
        discussion: """
            The password (8 to 72 bytes) is stored as a bcrypt hash in the credential file, which is \
            created with mode 0600. A running gateway uses the new password at the next sign-in.

            Example:
              parley-web password alice --credentials /var/lib/parley-web/credentials
              printf '%s\\n' "$PASSWORD" | parley-web password alice
            """
    )

    @Argument(help: "The agent id, as in the directory.")
    var agent: String

    @OptionGroup var options: CredentialOptions

    @Option(name: .long, help: ArgumentHelp("bcrypt's cost: 2^cost rounds (4 to 31).", valueName: "n"))
    var cost = Int(CredentialStore.defaultCost)

    func validate() throws {
        guard (4...31).contains(cost) else { throw ValidationError("--cost must be 4 to 31") }
    }

    func run() throws {
        let password: String
        if isatty(STDIN_FILENO) == 1 {
            let first = Self.readHidden("New password for \(agent): ")
            let second = Self.readHidden("Again: ")
            guard first == second else {
                FileHandle.standardError.write(Data("parley-web: the two passwords differ; nothing changed\n".utf8))
                throw ExitCode.failure
            }
            password = first
        } else {
            password = readLine(strippingNewline: true) ?? ""
        }
        do {
            var store = try CredentialStore(path: options.credentials)
            try store.setPassword(agent: agent, password: password, cost: UInt8(cost))
        } catch {
            FileHandle.standardError.write(Data("parley-web: \(error)\n".utf8))
            throw ExitCode.failure
        }
        print("password set for \(agent) in \(options.credentials)")
    }

    /// Reads a line from the terminal without echoing it.
    static func readHidden(_ prompt: String) -> String {
        FileHandle.standardError.write(Data(prompt.utf8))
        var saved = termios()
        tcgetattr(STDIN_FILENO, &saved)
        var quiet = saved
        quiet.c_lflag &= ~tcflag_t(ECHO)
        tcsetattr(STDIN_FILENO, TCSANOW, &quiet)
        defer {
            tcsetattr(STDIN_FILENO, TCSANOW, &saved)
            FileHandle.standardError.write(Data("\n".utf8))
        }
        return readLine(strippingNewline: true) ?? ""
    }
}

struct Remove: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Remove an agent's password: it can no longer sign in.")

    @Argument(help: "The agent id.")
    var agent: String

    @OptionGroup var options: CredentialOptions

    func run() throws {
        do {
            var store = try CredentialStore(path: options.credentials)
            guard try store.remove(agent: agent) else {
                FileHandle.standardError.write(
                    Data("parley-web: \(agent) has no password in \(options.credentials)\n".utf8))
                throw ExitCode.failure
            }
        } catch let error as CredentialStore.Failure {
            FileHandle.standardError.write(Data("parley-web: \(error)\n".utf8))
            throw ExitCode.failure
        }
        print(
            "removed \(agent) from \(options.credentials); sessions already signed in last until they expire or the gateway restarts"
        )
    }
}
