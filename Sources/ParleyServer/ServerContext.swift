public import Logging
import ParleyCore
public import ParleyProtocol
public import ParleyStore

/// What every session shares: the engine, the writer, the feed, limits and roles.
public final class ServerContext: Sendable {
    /// The open data directory.
    public let engine: Engine
    /// The single writer.
    public let writer: CommandWriter
    /// New-head announcements.
    public let feed: EventFeed
    /// Enforced limits.
    public let limits: ServerLimits
    /// Role grants.
    public let policy: RolePolicy
    /// How long a subscription's write may wait on a peer that does not read before it is ended.
    public let slowConsumerTimeout: Duration
    /// How long a connection cut off as a slow consumer may still read what was already queued
    /// for it, then its `events.end`, before it is closed.
    public let slowConsumerGrace: Duration
    /// How long a request line may take from its first byte to its newline (slow-loris peers).
    public let lineTimeout: Duration
    /// The log.
    public let logger: Logger
    let responses = ResponseWriter()
    let eventJSON = EventJSON()

    /// Creates the shared context.
    public init(
        engine: Engine, writer: CommandWriter, feed: EventFeed, limits: ServerLimits = ServerLimits(), policy: RolePolicy,
        slowConsumerTimeout: Duration = .seconds(10), slowConsumerGrace: Duration = .seconds(30), lineTimeout: Duration = .seconds(30),
        logger: Logger
    ) {
        self.engine = engine
        self.writer = writer
        self.feed = feed
        self.limits = limits
        self.policy = policy
        self.slowConsumerTimeout = slowConsumerTimeout
        self.slowConsumerGrace = slowConsumerGrace
        self.lineTimeout = lineTimeout
        self.logger = logger
    }

    /// Whether the daemon is shutting down.
    public var isShuttingDown: Bool { feed.isStopped }
}

/// Default limits for the daemon.
public enum ServerLimitsDefaults {
    /// 1 MiB lines, depth 32, 64 requests in flight, 16 subscriptions, 1024 connections.
    public static var limits: ServerLimits { ServerLimits() }
}
