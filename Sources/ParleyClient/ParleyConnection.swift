import NIOCore
import NIOPosix
public import ParleyProtocol

/// One connection to `parleyd` over its Unix-domain socket, speaking the JSON-lines protocol.
///
/// Connecting reads the `server.hello` greeting. ``call(_:_:timeout:)`` sends a request and
/// awaits its answer; requests from several tasks share the connection and are matched to
/// their answers by id. ``subscribe(after:filter:buffer:)`` returns the subscription's events
/// as an `AsyncSequence`. When the connection ends, every waiting call and subscription
/// fails with ``ParleyError/connectionLost(_:)``; ``ParleyClient`` reconnects and resumes.
public final class ParleyConnection: Sendable {
    /// The socket path.
    public let path: String
    /// The `params` of the server's greeting: `server`, `limits`, `peer` (with its `roles`), `head`.
    public let greeting: JSONValue
    private let channel: any Channel
    private let state: ConnectionState
    private let maxRequestBytes: Int

    private init(path: String, greeting: JSONValue, channel: any Channel, state: ConnectionState) {
        self.path = path
        self.greeting = greeting
        self.channel = channel
        self.state = state
        maxRequestBytes = Int(greeting["limits"]?["maxLineBytes"]?.int64 ?? 1 << 20)
    }

    /// Connects to the socket at `path` and reads the greeting.
    /// - Parameters:
    ///   - timeout: how long connecting and the greeting may take.
    ///   - maxLineBytes: the longest line accepted from the server.
    /// - Throws: ``ParleyError/connect(path:reason:)`` when nothing listens there or the socket
    ///   may not be opened; ``ParleyError/remote(_:)`` when the server refuses the connection
    ///   (`TooManyConnections`).
    public static func connect(path: String, timeout: Duration = .seconds(30), maxLineBytes: Int = 64 << 20)
        async throws(ParleyError) -> ParleyConnection
    {
        let state = ConnectionState()
        let group = MultiThreadedEventLoopGroup.singleton
        let greeting = group.next().makePromise(of: JSONValue.self)
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: group)
                .connectTimeout(.nanoseconds(Int64(timeout.nanoseconds)))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(
                            ByteToMessageHandler(LineDecoder(maxLineBytes: maxLineBytes)))
                        try channel.pipeline.syncOperations.addHandler(
                            ConnectionHandler(state: state, greeting: greeting))
                    }
                }
                .connect(unixDomainSocketPath: path).get()
        } catch {
            greeting.fail(error)
            throw .connect(path: path, reason: Self.reason(error))
        }
        let deadline = channel.eventLoop.scheduleTask(in: .nanoseconds(Int64(timeout.nanoseconds))) {
            greeting.fail(ParleyError.timeout(timeout))
        }
        do {
            let hello = try await greeting.futureResult.get()
            deadline.cancel()
            return ParleyConnection(path: path, greeting: hello, channel: channel, state: state)
        } catch {
            deadline.cancel()
            try? await channel.close()
            throw error as? ParleyError ?? .connectionLost("\(error)")
        }
    }

    /// Sends a request and returns its `result`.
    /// - Parameters:
    ///   - method: the method name (`sms.send`, `conversation.get`, …).
    ///   - params: its named parameters.
    ///   - timeout: how long to wait for the answer; nil waits as long as the connection lives.
    /// - Throws: ``ParleyError/remote(_:)`` for an error answer, ``ParleyError/connectionLost(_:)``
    ///   when the connection ends first, ``ParleyError/timeout(_:)``.
    @discardableResult
    public func call(_ method: String, _ params: [String: JSONValue] = [:], timeout: Duration? = nil)
        async throws(ParleyError) -> JSONValue
    {
        try await request(method, params, sink: nil, timeout: timeout)
    }

    /// Subscribes to the log's events.
    /// - Parameters:
    ///   - after: deliver the events after this position (0: the whole log); nil: from the head.
    ///   - filter: `{agentId?, conversationId?, types?}`, as `events.subscribe` takes it.
    ///   - buffer: how many messages may wait for the reader. A reader further behind ends the
    ///     subscription with ``ParleyError/fellBehind(after:)`` instead of buffering without limit.
    ///   - timeout: how long to wait for the subscription's answer (not for its events); nil
    ///     waits as long as the connection lives.
    public func subscribe(
        after: UInt64? = nil, filter: JSONValue? = nil, buffer: Int = 4096, timeout: Duration? = nil
    ) async throws(ParleyError) -> Subscription {
        var params: [String: JSONValue] = [:]
        // No position is above Int64.max; a larger one asks for nothing and is answered so.
        if let after { params["after"] = .integer(Int64(clamping: after)) }
        if let filter { params["filter"] = filter }
        let (stream, sink) = AsyncThrowingStream<SubscriptionMessage, any Error>.makeStream(
            bufferingPolicy: .bufferingOldest(max(buffer, 1)))
        let answer = try await request("events.subscribe", params, sink: sink, timeout: timeout)
        guard let id = answer["subscription"]?.string, let start = answer["after"]?.uint64 else {
            throw .protocolViolation("events.subscribe answered without subscription and after: \(answer.jsonText)")
        }
        let state = self.state
        let channel = self.channel
        sink.onTermination = { termination in
            // The reader went away (cancelled, or stopped iterating): end delivery at the server.
            guard case .cancelled = termination, state.forget(subscription: id) else { return }
            guard case .success(let requestID) = state.register(nil) else { return }
            let request: JSONValue = [
                "jsonrpc": "2.0", "id": .integer(requestID), "method": "events.unsubscribe",
                "params": ["subscription": .string(id)],
            ]
            channel.writeAndFlush(ByteBuffer(string: request.jsonText + "\n"), promise: nil)
        }
        return Subscription(id: id, after: start, asOf: answer["asOf"]?.uint64 ?? start, stream: stream)
    }

    /// Whether the connection can still carry requests.
    public var isOpen: Bool { state.failure == nil && channel.isActive }

    /// Closes the connection; waiting calls and subscriptions fail with ``ParleyError/closed``.
    public func close() async {
        state.fail(.closed)
        try? await channel.close()
    }

    private func request(
        _ method: String, _ params: [String: JSONValue], sink: ConnectionState.Sink?, timeout: Duration?
    ) async throws(ParleyError) -> JSONValue {
        let state = self.state
        let channel = self.channel
        let limit = maxRequestBytes
        do {
            return try await withCheckedThrowingContinuation { (answer: ConnectionState.Answer) in
                let id: Int64
                switch state.register(.init(answer: answer, sink: sink)) {
                case .failure(let failure):
                    sink?.finish(throwing: failure)
                    return answer.resume(throwing: failure)
                case .success(let value): id = value
                }
                let line: JSONValue = [
                    "jsonrpc": "2.0", "id": .integer(id), "method": .string(method), "params": .object(params),
                ]
                let text = line.jsonText
                guard text.utf8.count <= limit else {
                    _ = state.abandon(id)
                    return answer.resume(throwing: ParleyError.requestTooLarge(bytes: text.utf8.count, limit: limit))
                }
                channel.writeAndFlush(ByteBuffer(string: text + "\n")).whenFailure { error in
                    guard let pending = state.abandon(id) else { return }
                    pending.answer.resume(throwing: ParleyError.connectionLost("cannot write to parleyd: \(error)"))
                }
                if let timeout {
                    channel.eventLoop.scheduleTask(in: .nanoseconds(Int64(timeout.nanoseconds))) {
                        guard let pending = state.abandon(id) else { return }
                        pending.sink?.finish(throwing: ParleyError.timeout(timeout))
                        pending.answer.resume(throwing: ParleyError.timeout(timeout))
                    }
                }
            }
        } catch {
            throw error as? ParleyError ?? .connectionLost("\(error)")
        }
    }

    private static func reason(_ error: any Error) -> String {
        if let io = error as? IOError {
            switch io.errnoCode {
            case ENOENT: return "no such socket"
            case ECONNREFUSED: return "nothing is listening there (a stale socket file?)"
            case EACCES, EPERM: return "permission denied"
            case ENOTSOCK: return "the path is not a socket"
            default: return "\(io)"
            }
        }
        return "\(error)"
    }
}

extension Duration {
    /// The duration in whole nanoseconds (saturating).
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (product, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? .max : product &+ attoseconds / 1_000_000_000
    }
}

/// One subscription's messages, in log order, as the server sent them: events, then
/// `caughtUp` once, checkpoints, and `end`, after which the sequence finishes.
public struct Subscription: AsyncSequence, Sendable {
    public typealias Element = SubscriptionMessage
    /// The subscription id on its connection (`s1`, `s2`, …).
    public let id: String
    /// The position delivery starts after.
    public let after: UInt64
    /// The log head when the subscription was made.
    public let asOf: UInt64
    let stream: AsyncThrowingStream<SubscriptionMessage, any Error>

    public func makeAsyncIterator() -> AsyncThrowingStream<SubscriptionMessage, any Error>.AsyncIterator {
        stream.makeAsyncIterator()
    }
}
