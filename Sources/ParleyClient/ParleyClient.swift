import Foundation
public import ParleyProtocol

/// The client every Parley front end and connector uses: one `parleyd` connection, made when
/// first needed and made again after it is lost.
///
/// - ``call(_:_:)`` gives every command (``Method/isCommand``) an idempotency key unless the
///   caller passed one, and when the connection is lost before the answer, or the server
///   answers `ShuttingDown`, `TooManyRequests` or `TooManyConnections`, it reconnects and
///   sends the same request again with the same key, for up to ``Options/retryFor``. A command
///   is so applied exactly once however often it is sent: the server answers a repeat with the
///   original result and `replayed: true`.
/// - ``events(after:filter:)`` is a subscription that survives reconnects: it remembers the
///   position of the last message it handed out and subscribes again after it, so the reader
///   sees every matching event once, in order, without a gap or a duplicate.
public actor ParleyClient {
    /// How the client connects and retries.
    public struct Options: Sendable {
        /// How long connecting and the greeting may take.
        public var connectTimeout: Duration = .seconds(10)
        /// How long one answer may take.
        public var requestTimeout: Duration = .seconds(30)
        /// How long ``ParleyClient/call(_:_:)`` goes on retrying a request that could not be
        /// answered (no daemon, a lost connection, a retryable refusal) before it gives up.
        public var retryFor: Duration = .seconds(30)
        /// The longest pause between two attempts (the pause doubles from 50 ms up to it).
        public var maxBackoff: Duration = .seconds(2)
        /// How many messages a subscription holds for a slow reader before it resubscribes.
        public var subscriptionBuffer = 4096

        public init() {}
    }

    /// The socket path.
    public nonisolated let path: String
    /// The options.
    public nonisolated let options: Options
    private var connection: ParleyConnection?
    private var closed = false

    /// A client of the daemon at `path`; nothing is connected until the first call.
    public init(path: String, options: Options = Options()) {
        self.path = path
        self.options = options
    }

    /// The open connection, connecting when there is none.
    public func connected() async throws(ParleyError) -> ParleyConnection {
        if closed { throw .closed }
        if let connection, connection.isOpen { return connection }
        let fresh = try await ParleyConnection.connect(path: path, timeout: options.connectTimeout)
        if closed {
            await fresh.close()
            throw .closed
        }
        connection = fresh
        return fresh
    }

    /// Sends a request, retrying as the type's documentation says, and returns its `result`.
    /// - Throws: ``ParleyError/remote(_:)`` for a refusal (with its `data.type`), or the last
    ///   connection error once ``Options/retryFor`` has passed.
    @discardableResult
    public func call(_ method: String, _ params: [String: JSONValue] = [:]) async throws(ParleyError) -> JSONValue {
        var params = params
        if Method(rawValue: method)?.isCommand == true, params["idempotencyKey"] == nil {
            params["idempotencyKey"] = .string(UUID().uuidString.lowercased())
        }
        var backoff = Backoff(max: options.maxBackoff, giveUpAfter: options.retryFor)
        while true {
            do {
                return try await connected().call(method, params, timeout: options.requestTimeout)
            } catch {
                guard Self.worthRetrying(error), !closed, await backoff.pause() else { throw error }
            }
        }
    }

    /// The matching events after `after` (nil: from the head when first subscribed), across
    /// reconnects: see the type's documentation. The sequence ends only when the client is
    /// closed, and throws only for a refusal of the subscription itself (a bad filter,
    /// `PositionOutOfRange`, `PermissionDenied`). An `events.end` for a shutdown or a slow
    /// reader is not passed on: the subscription resumes.
    public nonisolated func events(after: UInt64? = nil, filter: JSONValue? = nil) -> ResumingSubscription {
        ResumingSubscription(client: self, after: after, filter: filter)
    }

    /// Closes the connection; later calls fail with ``ParleyError/closed``.
    public func close() async {
        closed = true
        await connection?.close()
        connection = nil
    }

    /// Subscribes on the current connection, connecting (and retrying) as needed.
    func subscribe(after: UInt64?, filter: JSONValue?, backoff: inout Backoff) async throws(ParleyError) -> Subscription
    {
        while true {
            do {
                return try await connected().subscribe(after: after, filter: filter, buffer: options.subscriptionBuffer)
            } catch {
                guard Self.worthRetrying(error), !closed else { throw error }
                _ = await backoff.pause()
            }
        }
    }

    /// Whether a failed request may succeed if sent again unchanged.
    static func worthRetrying(_ error: ParleyError) -> Bool {
        switch error {
        case .connect, .connectionLost, .timeout, .fellBehind: true
        case .remote(let remote): ["ShuttingDown", "TooManyRequests", "TooManyConnections"].contains(remote.type)
        case .protocolViolation, .requestTooLarge, .closed: false
        }
    }
}

/// Pauses between attempts: 50 ms, doubling up to a maximum, for a bounded time.
struct Backoff {
    let max: Duration
    let giveUpAfter: Duration?
    private var next: Duration = .milliseconds(50)
    private let start = ContinuousClock.now

    init(max: Duration, giveUpAfter: Duration?) {
        self.max = max
        self.giveUpAfter = giveUpAfter
    }

    /// Sleeps before the next attempt; false when the time for attempts is up.
    mutating func pause() async -> Bool {
        if let giveUpAfter, ContinuousClock.now - start + next > giveUpAfter { return false }
        try? await Task.sleep(for: next)
        next = min(next * 2, max)
        return !Task.isCancelled
    }

    /// Starts again from the shortest pause (after a success).
    mutating func reset() { next = .milliseconds(50) }
}

/// A subscription that survives reconnects (``ParleyClient/events(after:filter:)``).
public struct ResumingSubscription: AsyncSequence, Sendable {
    public typealias Element = SubscriptionMessage
    let client: ParleyClient
    let after: UInt64?
    let filter: JSONValue?

    public func makeAsyncIterator() -> Iterator { Iterator(client: client, cursor: after, filter: filter) }

    /// Reads one subscription at a time, and subscribes again after the last message it handed out.
    public struct Iterator: AsyncIteratorProtocol {
        let client: ParleyClient
        /// The position of the last message handed out (or where delivery started).
        public private(set) var cursor: UInt64?
        let filter: JSONValue?
        private var current: AsyncThrowingStream<SubscriptionMessage, any Error>.AsyncIterator?
        private var backoff: Backoff

        init(client: ParleyClient, cursor: UInt64?, filter: JSONValue?) {
            self.client = client
            self.cursor = cursor
            self.filter = filter
            backoff = Backoff(max: client.options.maxBackoff, giveUpAfter: nil)
        }

        public mutating func next() async throws -> SubscriptionMessage? {
            while !Task.isCancelled {
                if current == nil {
                    let subscription: Subscription
                    do {
                        subscription = try await client.subscribe(after: cursor, filter: filter, backoff: &backoff)
                    } catch {
                        if case .closed = error { return nil }
                        throw error
                    }
                    cursor = subscription.after
                    current = subscription.makeAsyncIterator()
                }
                let message: SubscriptionMessage?
                do {
                    message = try await current?.next()
                } catch {
                    let failure = error as? ParleyError ?? .connectionLost("\(error)")
                    if case .closed = failure { return nil }
                    guard ParleyClient.worthRetrying(failure) else { throw failure }
                    // What the lost subscription had buffered beyond `cursor` comes again on the next one.
                    current = nil
                    _ = await backoff.pause()
                    continue
                }
                guard let message else {
                    current = nil
                    continue
                }
                backoff.reset()
                if case .end(let reason, let resumeAfter) = message {
                    current = nil
                    cursor = resumeAfter
                    if reason == "unsubscribed" { return nil }
                    _ = await backoff.pause()
                    continue
                }
                cursor = message.cursor ?? cursor
                return message
            }
            return nil
        }
    }
}
