import ArgumentParser
import Foundation
import Logging
import ParleyCore
import ParleyServer
import ParleyStore

/// The Parley daemon.
@main
struct Parleyd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "parleyd",
        abstract: "Parley's daemon: the SMS conversation engine behind a Unix-domain socket.",
        discussion: """
            parleyd keeps an append-only event log and its projections in DIR (log.mdb, \
            projections.mdb) and serves JSON-RPC 2.0 over JSON lines on a Unix socket. \
            Front ends, carrier connectors and auditors connect there; each connection's \
            role comes from its peer uid and groups (the daemon's own uid and root are admin).

            Exit status: 0 after a clean shutdown (SIGTERM or SIGINT), 1 when startup fails \
            (the message says why: a damaged log names the position and is never modified), \
            64 for a usage error.

            The data directory is created when missing if its parent exists; a missing parent \
            is refused (a mistyped path should not grow a tree). A full disk answers commands \
            with StorageFull (retryable, nothing written) and service resumes once space is freed.

            Who may connect is the socket's mode and group (--socket-mode, --socket-group); \
            what a connection may do is its role. Under systemd, a .socket unit may create the \
            socket instead (ListenStream=, SocketMode=, SocketGroup=): parleyd then listens on \
            the socket it is passed (LISTEN_FDS) and leaves it in place when it stops.

            Example:
              parleyd --data /var/lib/parley --socket /run/parley/parleyd.sock \\
                      --socket-group parley-agents --frontend-group parley-agents --carrier-uid 998
            """
    )

    @Option(name: .long, help: ArgumentHelp("The data directory (created if missing).", valueName: "dir"))
    var data = "./data"

    @Option(name: .long, help: ArgumentHelp("The socket path (default: DIR/parleyd.sock). Its directory must not be group- or world-writable. Not used when systemd passes the socket (LISTEN_FDS).", valueName: "path"))
    var socket: String?

    @Option(name: .long, help: ArgumentHelp("Give the socket this group (name or gid), so its members can connect; parleyd's user must belong to it. Roles are still granted by the --*-uid and --*-group options.", valueName: "group"))
    var socketGroup: String?

    @Option(name: .long, help: ArgumentHelp("The socket's permission bits, in octal; owner read and write are required.", valueName: "mode"))
    var socketMode = "0660"

    @Flag(name: .long, help: "Run the built-in carrier simulator, a connector with the carrier role (connector name simulator): it submits every message no carrier has accepted, also those queued before a restart, marks it sent, then delivered (or failed), and with --sim-reply answers as the customer.")
    var carrierSim = false

    @Option(name: .long, help: ArgumentHelp("Simulator: milliseconds before each status report.", valueName: "ms"))
    var simDelay = 300

    @Option(name: .long, help: ArgumentHelp("Simulator: fraction of messages that fail (0 to 1).", valueName: "rate"))
    var simFailureRate = 0.0

    @Option(name: .long, help: ArgumentHelp("Simulator: a customer reply sent after each delivery (repeat the option for a script; replies cycle).", valueName: "text"))
    var simReply: [String] = []

    @Flag(name: .long, help: "Seed a demo directory (services, agents, templates) when the log is empty.")
    var demo = false

    @Option(name: .long, help: ArgumentHelp("Grant admin to a uid (repeatable).", valueName: "uid"))
    var adminUid: [UInt32] = []
    @Option(name: .long, help: ArgumentHelp("Grant admin to a group name or gid (repeatable).", valueName: "group"))
    var adminGroup: [String] = []
    @Option(name: .long, help: ArgumentHelp("Grant the frontend role (agent desktops, gateways) to a uid (repeatable).", valueName: "uid"))
    var frontendUid: [UInt32] = []
    @Option(name: .long, help: ArgumentHelp("Grant the frontend role to a group name or gid (repeatable).", valueName: "group"))
    var frontendGroup: [String] = []
    @Option(name: .long, help: ArgumentHelp("Grant the carrier role (connectors) to a uid (repeatable).", valueName: "uid"))
    var carrierUid: [UInt32] = []
    @Option(name: .long, help: ArgumentHelp("Grant the carrier role to a group name or gid (repeatable).", valueName: "group"))
    var carrierGroup: [String] = []
    @Option(name: .long, help: ArgumentHelp("Grant the auditor role (read-only) to a uid (repeatable).", valueName: "uid"))
    var auditorUid: [UInt32] = []
    @Option(name: .long, help: ArgumentHelp("Grant the auditor role to a group name or gid (repeatable).", valueName: "group"))
    var auditorGroup: [String] = []

    @Option(name: .long, help: ArgumentHelp("Most connections at once.", valueName: "n"))
    var maxConnections = 1024

    @Option(name: .long, help: ArgumentHelp("Seconds a subscriber may leave the daemon's writes unread before it gets events.end (slowConsumer) and is disconnected.", valueName: "seconds"))
    var slowConsumerTimeout = 10.0

    @Option(name: .long, help: ArgumentHelp("Seconds a subscriber cut off as a slow consumer may still read what was already queued for it, then its events.end (slowConsumer), before the connection is closed.", valueName: "seconds"))
    var slowConsumerGrace = 30.0

    @Option(name: .long, help: ArgumentHelp("Seconds a client may take to finish a request line once it started it; a partial line left longer gets LineTimeout and the connection is closed.", valueName: "seconds"))
    var lineTimeout = 30.0

    @Option(name: .long, help: ArgumentHelp("Log level: trace, debug, info, notice, warning, error, critical.", valueName: "level"))
    var logLevel = "info"

    func validate() throws {
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown --log-level \"\(logLevel)\"") }
        guard (0...1).contains(simFailureRate) else { throw ValidationError("--sim-failure-rate must be between 0 and 1") }
        guard simDelay >= 0 else { throw ValidationError("--sim-delay must not be negative") }
        guard maxConnections > 0 else { throw ValidationError("--max-connections must be positive") }
        guard slowConsumerTimeout > 0 else { throw ValidationError("--slow-consumer-timeout must be positive") }
        guard slowConsumerGrace > 0 else { throw ValidationError("--slow-consumer-grace must be positive") }
        guard lineTimeout > 0 else { throw ValidationError("--line-timeout must be positive") }
        guard SocketAccess.mode(parsing: socketMode) != nil else {
            throw ValidationError("--socket-mode must be octal permission bits including the owner's read and write (e.g. 0660), not \"\(socketMode)\"")
        }
        for name in adminGroup + frontendGroup + carrierGroup + auditorGroup + (socketGroup.map { [$0] } ?? []) where Self.gid(name) == nil {
            throw ValidationError("unknown group \"\(name)\"")
        }
    }

    func run() async throws {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "parleyd")
        // A file-size limit (RLIMIT_FSIZE) must fail the write with EFBIG, not kill the daemon.
        signal(SIGXFSZ, SIG_IGN)
        Self.raiseDescriptorLimit(logger: logger)
        do {
            try await serve(logger: logger)
        } catch let failure as StartupCheck.Failure {
            logger.critical("cannot start: \(failure.description)")
            throw ExitCode.failure
        } catch let failure as DirectoryLockError {
            logger.critical("cannot start: \(failure.description)")
            throw ExitCode.failure
        } catch StoreError.corrupt(let position?, let reason) {
            logger.critical("""
                cannot start: the log in \(data) is damaged at position \(position): \(reason). \
                It was left as it is (never truncated or repaired). `parley audit verify --data \(data)` \
                checks the whole log; restore the directory from a backup.
                """)
            throw ExitCode.failure
        } catch let error as StoreError {
            logger.critical("cannot open the data directory \(data): \(error)")
            throw ExitCode.failure
        }
    }

    private func serve(logger: Logger) async throws {
        let activated = try ActivatedSocket.fromEnvironment()
        if let activated, let socket, socket != activated.path {
            throw StartupCheck.Failure(description: "systemd passed the socket \(activated.path), but --socket names \(socket); drop --socket or make it the .socket unit's ListenStream=")
        }
        let socketPath = activated?.path ?? socket ?? DataDirectory(data).socket
        if try StartupCheck.prepareDataDirectory(data) { logger.notice("created the data directory", metadata: ["data": "\(data)"]) }
        try StartupCheck.requirePrivateDirectory(data)
        if activated == nil {
            // A passed socket's directory, mode and group are the service manager's (SocketMode=, SocketGroup=).
            let socketDirectory = (socketPath as NSString).deletingLastPathComponent
            try StartupCheck.requirePrivateDirectory(socketDirectory.isEmpty ? "." : socketDirectory)
        }
        let lock = try DirectoryLock(directory: data)
        if activated == nil { try StartupCheck.clearStaleSocket(socketPath) }

        let started = ContinuousClock.now
        let engine = try Engine(directory: data, options: EngineOptions(warning: { logger.warning("\($0)") }))
        if demo, engine.head.position == 0 {
            _ = try engine.execute(DemoDirectory.commands.map { CommandRequest($0, actor: .system) })
            logger.info("seeded the demo directory", metadata: ["events": "\(engine.head.position)"])
        }
        logger.info("opened the data directory", metadata: [
            "data": "\(data)", "head.position": "\(engine.head.position)",
            "open.duration": "\(ContinuousClock.now - started)",
        ])

        let policy = RolePolicy(
            ownUid: getuid(),
            uids: [.admin: Set(adminUid), .frontend: Set(frontendUid), .carrier: Set(carrierUid), .auditor: Set(auditorUid)],
            gids: [
                .admin: Set(adminGroup.compactMap(Self.gid)), .frontend: Set(frontendGroup.compactMap(Self.gid)),
                .carrier: Set(carrierGroup.compactMap(Self.gid)), .auditor: Set(auditorGroup.compactMap(Self.gid)),
            ]
        )
        var limits = ServerLimitsDefaults.limits
        limits.maxConnections = maxConnections
        let configuration = DaemonConfiguration(
            socketPath: socketPath, policy: policy, limits: limits,
            slowConsumerTimeout: .milliseconds(Int(slowConsumerTimeout * 1000)),
            slowConsumerGrace: .milliseconds(Int(slowConsumerGrace * 1000)),
            lineTimeout: .milliseconds(Int(lineTimeout * 1000)),
            carrierSimulator: carrierSim
                ? .init(delay: .milliseconds(simDelay), failureRate: simFailureRate, replies: simReply) : nil,
            shutdownSignals: [.sigterm, .sigint],
            socketAccess: SocketAccess(mode: SocketAccess.mode(parsing: socketMode) ?? 0o660, group: socketGroup.flatMap(Self.gid)),
            activatedSocket: activated
        )
        try await Daemon(engine: engine, configuration: configuration, logger: logger).run()
        withExtendedLifetime(lock) {}
        logger.info("stopped cleanly")
    }

    /// Raises the soft limit on open files to the hard limit, so `--max-connections` connections fit.
    static func raiseDescriptorLimit(logger: Logger) {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < limit.rlim_max else { return }
        limit.rlim_cur = limit.rlim_max
        if setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) != 0 {
            logger.warning("cannot raise the open-file limit", metadata: ["error": "\(SystemError.reason())"])
        }
    }

    /// A group's gid from its name or number.
    static func gid(_ name: String) -> UInt32? {
        if let number = UInt32(name) { return number }
        guard let group = getgrnam(name) else { return nil }
        return group.pointee.gr_gid
    }
}
