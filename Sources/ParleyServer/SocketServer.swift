import Logging
import NIOCore
import NIOPosix
import ParleyProtocol
public import ServiceLifecycle
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The Unix-socket server: accepts connections, identifies each peer (`SO_PEERCRED`),
/// frames lines, and runs a ``Session`` per connection.
///
/// On graceful shutdown (SIGTERM/SIGINT through the service group) it stops accepting,
/// ends every subscription with `events.end {reason: shutdown}`, lets the writer finish
/// every queued command durably, answers them, closes the connections and removes the socket.
public final class SocketServer: Service, Sendable {
    private struct Accepted: Sendable {
        let async: NIOAsyncChannel<LineInput, ByteBuffer>
        let channel: any Channel
        let intake: NIOLoopBound<CommandIntake>
    }

    private let context: ServerContext
    private let path: String
    private let access: SocketAccess
    private let activated: ActivatedSocket?
    private let sessions = Mutex<[ObjectIdentifier: Session]>([:])
    private let ready: (@Sendable () -> Void)?

    /// Creates a server that creates its socket at `socketPath` with `access`, or listens on
    /// `activated`, a socket passed by the service manager; `ready` is called once the socket
    /// accepts connections.
    public init(
        context: ServerContext, socketPath: String, access: SocketAccess = SocketAccess(),
        activated: ActivatedSocket? = nil, ready: (@Sendable () -> Void)? = nil
    ) {
        self.context = context
        path = activated?.path ?? socketPath
        self.access = access
        self.activated = activated
        self.ready = ready
    }

    /// Runs until graceful shutdown.
    public func run() async throws {
        let maxLine = context.limits.maxLineBytes
        let lineTimeout = TimeAmount.milliseconds(Int64(context.lineTimeout / .milliseconds(1)))
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).serverChannelOption(.backlog, value: 256)
        let initializer: @Sendable (any Channel) -> EventLoopFuture<Accepted> = { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(LineFrameDecoder(maxLineBytes: maxLine, lineTimeout: lineTimeout)))
                let intake = CommandIntake()
                try channel.pipeline.syncOperations.addHandler(intake)
                let wrapped = try NIOAsyncChannel<LineInput, ByteBuffer>(wrappingChannelSynchronously: channel)
                return Accepted(async: wrapped, channel: channel, intake: NIOLoopBound(intake, eventLoop: channel.eventLoop))
            }
        }
        let server: NIOAsyncChannel<Accepted, Never>
        if let activated {
            server = try await bootstrap.bind(activated.descriptor, childChannelInitializer: initializer)
        } else {
            server = try await bootstrap.bind(unixDomainSocketPath: path, cleanupExistingSocketFile: false, childChannelInitializer: initializer)
            do {
                try access.apply(to: path)
            } catch {
                try? await server.channel.close()
                unlink(path)
                throw error
            }
        }
        context.logger.info("listening", metadata: [
            "socket": "\(path)", "socket.activated": "\(activated != nil)",
        ])
        ready?()
        let serverChannel = server.channel
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                try await server.executeThenClose { inbound in
                    for try await accepted in inbound {
                        group.addTask { await self.serve(accepted) }
                    }
                }
            }
        } onGracefulShutdown: {
            serverChannel.close(promise: nil)
            Task { await self.shutDown() }
        }
        // An activated socket belongs to the service manager, which keeps it listening for the next start.
        if activated == nil { unlink(path) }
        context.logger.info("stopped", metadata: ["socket": "\(path)"])
    }

    /// Ends subscriptions, drains the writer, answers what was in flight, closes connections.
    private func shutDown() async {
        context.logger.info("shutting down: finishing in-flight commands")
        context.feed.stop()
        await context.writer.shutdown()
        let open = sessions.withLock { Array($0.values) }
        await withDiscardingTaskGroup { group in
            for session in open { group.addTask { await session.drain() } }
        }
    }

    private func serve(_ accepted: Accepted) async {
        let peer: Peer
        do {
            let credentials = try await PeerCredentials.of(accepted.channel)
            peer = Peer(
                uid: credentials.uid, gids: credentials.gids, pid: credentials.pid,
                roles: context.policy.roles(uid: credentials.uid, gids: credentials.gids)
            )
        } catch {
            context.logger.warning("cannot read peer credentials; closing", metadata: ["error": "\(error)"])
            try? await accepted.channel.close()
            return
        }
        do {
            try await accepted.async.executeThenClose { inbound, outbound in
                let sink = ChannelSink(writer: outbound, channel: accepted.channel)
                let session = Session(context: context, peer: peer, sink: sink)
                let key = ObjectIdentifier(session)
                let admitted = sessions.withLock { sessions -> Bool in
                    guard sessions.count < context.limits.maxConnections, !context.isShuttingDown else { return false }
                    sessions[key] = session
                    return true
                }
                guard admitted else {
                    let error = context.isShuttingDown
                        ? ProtocolError.shuttingDown
                        : ProtocolError(
                            code: -32010, type: "TooManyConnections",
                            message: "The server holds its maximum of \(context.limits.maxConnections) connections; retry later.",
                            retryable: true, closesConnection: true
                        )
                    // Written and flushed before the channel closes, so a busy server never drops the refusal.
                    let line = ByteBuffer(string: ResponseWriter().error(id: nil, error) + "\n")
                    try? await accepted.channel.writeAndFlush(line).get()
                    return
                }
                defer { _ = sessions.withLock { $0.removeValue(forKey: key) } }
                context.logger.debug("connected", metadata: ["peer.uid": "\(peer.uid)", "peer.roles": "\(peer.roles)"])
                let intake = accepted.intake
                await session.run(inbound) {
                    intake.eventLoop.execute { intake.value.activate(session) }
                }
            }
        } catch {
            context.logger.debug("connection ended", metadata: ["error": "\(error)"])
        }
    }
}

/// Writes lines to a NIO channel.
struct ChannelSink: LineSink {
    let writer: NIOAsyncChannelOutboundWriter<ByteBuffer>
    let channel: any Channel

    func write(_ line: String) async throws {
        var buffer = channel.allocator.buffer(capacity: line.utf8.count + 1)
        buffer.writeString(line)
        buffer.writeInteger(UInt8(ascii: "\n"))
        try await writer.write(buffer)
    }

    func write(_ lines: [UInt8]) async throws {
        var buffer = channel.allocator.buffer(capacity: lines.count + 1)
        buffer.writeBytes(lines)
        buffer.writeInteger(UInt8(ascii: "\n"))
        try await writer.write(buffer)
    }

    func write(_ lines: [UInt8], done: @escaping @Sendable (Bool) -> Void) {
        var buffer = channel.allocator.buffer(capacity: lines.count + 1)
        buffer.writeBytes(lines)
        buffer.writeInteger(UInt8(ascii: "\n"))
        channel.writeAndFlush(buffer).whenComplete { result in
            if case .success = result { done(true) } else { done(false) }
        }
    }

    func execute(_ body: @escaping @Sendable () -> Void) {
        channel.eventLoop.execute(body)
    }

    func finish(_ lines: [String], grace: Duration) {
        let channel = self.channel
        let text = lines.map { $0 + "\n" }.joined()
        channel.writeAndFlush(ByteBuffer(string: text)).whenComplete { _ in channel.close(promise: nil) }
        let (seconds, attoseconds) = grace.components
        channel.eventLoop.scheduleTask(in: .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)) {
            channel.close(promise: nil)
        }
    }

    func close() {
        channel.close(promise: nil)
    }
}
