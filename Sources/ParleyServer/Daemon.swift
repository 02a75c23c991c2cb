public import Logging
public import ParleyProtocol
public import ParleyStore
import ServiceLifecycle
public import UnixSignals

/// How the daemon serves: its socket, limits, roles, timeouts and the optional simulator.
public struct DaemonConfiguration: Sendable {
    /// The Unix socket to listen on (for an activated socket, the path it is bound to).
    public var socketPath: String
    /// The mode and group given to the socket the daemon creates.
    public var socketAccess: SocketAccess
    /// A socket passed by the service manager, listened on instead of creating `socketPath`;
    /// the daemon then neither changes its mode nor removes it.
    public var activatedSocket: ActivatedSocket?
    /// Enforced limits.
    public var limits: ServerLimits
    /// Role grants.
    public var policy: RolePolicy
    /// How long a write may wait on a peer that does not read before the connection is ended.
    public var slowConsumerTimeout: Duration
    /// How long a connection cut off as a slow consumer may still read what was queued for it.
    public var slowConsumerGrace: Duration
    /// How long a request line may take from its first byte to its newline.
    public var lineTimeout: Duration
    /// The built-in carrier simulator's settings; `nil` runs none.
    public var carrierSimulator: CarrierSimulator.Configuration?
    /// Signals that start a graceful shutdown (none: only ``Daemon/triggerGracefulShutdown()``).
    public var shutdownSignals: [UnixSignal]
    /// How long the writer may hold projection changes before committing them while no query
    /// and no live subscription waits for them (checked between batches).
    public var checkpointInterval: Duration

    /// Creates a configuration with the default limits and timeouts.
    public init(
        socketPath: String, policy: RolePolicy, limits: ServerLimits = ServerLimits(),
        slowConsumerTimeout: Duration = .seconds(10), slowConsumerGrace: Duration = .seconds(30),
        lineTimeout: Duration = .seconds(30), carrierSimulator: CarrierSimulator.Configuration? = nil,
        shutdownSignals: [UnixSignal] = [], checkpointInterval: Duration = .milliseconds(20),
        socketAccess: SocketAccess = SocketAccess(), activatedSocket: ActivatedSocket? = nil
    ) {
        self.socketPath = activatedSocket?.path ?? socketPath
        self.socketAccess = socketAccess
        self.activatedSocket = activatedSocket
        self.policy = policy
        self.limits = limits
        self.slowConsumerTimeout = slowConsumerTimeout
        self.slowConsumerGrace = slowConsumerGrace
        self.lineTimeout = lineTimeout
        self.carrierSimulator = carrierSimulator
        self.shutdownSignals = shutdownSignals
        self.checkpointInterval = checkpointInterval
    }
}

/// The daemon over an open engine: the writer, the feed, the socket server and, when
/// configured, the carrier simulator, run as one service group. `parleyd` and the tests'
/// in-process server are wired by this one type.
///
/// On graceful shutdown the simulator stops first, then the server stops accepting, drains
/// the writer and answers what was in flight, then the writer's thread ends; ``run()``
/// returns once the projections are flushed.
public final class Daemon: Sendable {
    /// What every session shares.
    public let context: ServerContext
    private let group: ServiceGroup

    /// Wires the daemon; `ready` is called once the socket accepts connections.
    public init(
        engine: Engine, configuration: DaemonConfiguration, logger: Logger, ready: (@Sendable () -> Void)? = nil
    ) {
        let feed = EventFeed(head: engine.head.position, capacity: 16_384)
        let writer = CommandWriter(engine: engine, feed: feed, checkpointInterval: configuration.checkpointInterval, logger: logger)
        context = ServerContext(
            engine: engine, writer: writer, feed: feed, limits: configuration.limits, policy: configuration.policy,
            slowConsumerTimeout: configuration.slowConsumerTimeout, slowConsumerGrace: configuration.slowConsumerGrace,
            lineTimeout: configuration.lineTimeout, logger: logger
        )
        // Services shut down in reverse order: the writer, first here, stops last.
        var services: [any Service] = [
            writer, SocketServer(
                context: context, socketPath: configuration.socketPath, access: configuration.socketAccess,
                activated: configuration.activatedSocket, ready: ready
            ),
        ]
        if let simulator = configuration.carrierSimulator {
            services.append(CarrierSimulator(context: context, configuration: simulator))
        }
        group = ServiceGroup(
            configuration: .init(
                services: services.map { .init(service: $0, successTerminationBehavior: .gracefullyShutdownGroup) },
                gracefulShutdownSignals: configuration.shutdownSignals, logger: logger
            )
        )
    }

    /// Serves until a graceful shutdown has finished: every accepted command is then durable
    /// and answered, and the projections are on disk.
    public func run() async throws {
        try await group.run()
        try context.engine.flush()
    }

    /// Starts the graceful shutdown (as a configured signal does).
    public func triggerGracefulShutdown() async {
        await group.triggerGracefulShutdown()
    }
}
