import Logging
import ParleyCore
import ParleyProtocol
import ParleyStore
import NIOConcurrencyHelpers

/// One client connection: takes its commands to the writer (from the event loop through
/// ``intake(_:)``, or from ``run(_:greeted:)``), answers its other requests concurrently up to
/// the in-flight limit, and runs the connection's subscriptions.
public final class Session: Sendable, CommandOutcomeReceiver {
    private struct Subscription {
        var task: Task<UInt64, Never>?
        var cursor: UInt64
    }

    private struct State {
        var subscriptions: [String: Subscription] = [:]
        var nextSubscription = 0
        var inFlight = 0
        var pendingWrites = 0
        var lastProgress = ContinuousClock.now
        var closed = false
    }

    private let context: ServerContext
    /// Who is connected.
    public let peer: Peer
    private let sink: any LineSink
    /// Guarded by a pthread mutex (NIO's lock) rather than `Synchronization.Mutex`: many tasks
    /// contend for it, and ThreadSanitizer cannot see the ordering of `Mutex`'s contended path
    /// (it lives in the uninstrumented runtime library), so it reported races inside the lock.
    private let state = NIOLockedValueBox(State())
    /// Events a subscription reads from the log, filters and writes at a time (one write per batch).
    static let readBatch: UInt64 = 512
    private var responses: ResponseWriter { context.responses }
    private var handlers: Handlers { Handlers(context: context, peer: peer) }

    /// Creates a session for `peer` writing to `sink`.
    public init(context: ServerContext, peer: Peer, sink: any LineSink) {
        self.context = context
        self.peer = peer
        self.sink = sink
    }

    /// Greets the peer, then handles every line until the input ends, the peer sends an
    /// over-long line, or the session is closed; finally ends its subscriptions.
    /// `greeted` runs once the greeting is written (the socket server then lets the event
    /// loop take command lines itself: ``CommandIntake``).
    public func run<Lines: AsyncSequence & Sendable>(_ lines: Lines, greeted: (@Sendable () -> Void)? = nil) async
    where Lines.Element == LineInput {
        await send(responses.notification(method: "server.hello", json: (try? handlers.greeting()) ?? "{}"))
        greeted?()
        await withDiscardingTaskGroup { group in
            group.addTask { await self.watchForSlowConsumer() }
            do {
                for try await input in lines {
                    if case .line(let line) = input {
                        if line.isEmpty || state.withLockedValue({ $0.closed }) { continue }
                        await receive(line, group: &group)
                        continue
                    }
                    if case .request(let request) = input {
                        if state.withLockedValue({ $0.closed }) { continue }
                        await receive(request, group: &group)
                        continue
                    }
                    if case .refusal(let answer) = input {
                        await send(answer)
                        continue
                    }
                    var refusal = ProtocolError.lineTooLong(context.limits.maxLineBytes)
                    if case .stalled = input {
                        refusal = .lineTimeout(milliseconds: Int(context.lineTimeout / .milliseconds(1)))
                    }
                    await send(responses.error(id: nil, refusal))
                    break
                }
            } catch {
                context.logger.debug("connection input ended", metadata: ["error": "\(error)", "peer.uid": "\(peer.uid)"])
            }
            close()
            group.cancelAll()
        }
        await endAllSubscriptions()
    }

    /// Waits (up to `limit`) for answers in flight and subscriptions to finish, then closes.
    /// Used at shutdown after the writer has drained, so every accepted command is answered.
    public func drain(limit: Duration = .seconds(5)) async {
        let deadline = ContinuousClock.now + limit
        let tasks = state.withLockedValue { $0.subscriptions.values.compactMap(\.task) }
        for task in tasks { _ = await task.value }
        while ContinuousClock.now < deadline {
            let idle = state.withLockedValue { $0.inFlight == 0 && $0.pendingWrites == 0 }
            if idle { break }
            try? await Task.sleep(for: .milliseconds(5))
        }
        close()
    }

    /// Stops reading and closes the connection.
    public func close() {
        state.withLockedValue { $0.closed = true }
        sink.close()
    }

    /// Handles one line. Refusals that need no work (a bad line, an unknown method, a missing
    /// role, shutdown) are answered inline, so a client flooding bad lines is slowed by its own
    /// unread answers instead of piling up tasks.
    private func receive(_ line: [UInt8], group: inout DiscardingTaskGroup) async {
        switch Request.parse(line, maxDepth: context.limits.maxDepth) {
        case .failure(let failure): await send(responses.error(id: failure.id, failure.error))
        case .success(let request): await receive(request, group: &group)
        }
    }

    /// Handles one parsed request.
    private func receive(_ request: Request, group: inout DiscardingTaskGroup) async {
        let route = Router.route(method: request.method, roles: peer.roles, shuttingDown: context.isShuttingDown)
        if case .refuse(let refusal) = route {
            await send(responses.error(id: request.id, refusal))
            return
        }
        if case .command(let method) = route {
            if let refusal = queue(request, method) { await send(refusal) }
            return
        }
        guard admit() else {
            await send(responses.error(id: request.id, .tooManyRequests(context.limits.maxInFlight)))
            return
        }
        group.addTask {
            await self.handle(request, route)
            self.state.withLockedValue { $0.inFlight -= 1 }
        }
    }

    /// What ``intake(_:)`` did with a line.
    enum Intake {
        /// A command, queued with the writer; its answer follows its commit.
        case queued
        /// A request that is not a command the router lets through: for ``run(_:greeted:)``
        /// to handle, parsed once here.
        case parsed(Request)
        /// A line that does not parse (or arrives after the session closed): for
        /// ``run(_:greeted:)`` to refuse.
        case elsewhere
        /// A command refused before the writer saw it, with this error line.
        case refused(String)
    }

    /// Takes a command line in one pass where it was framed (the connection's event loop):
    /// parse, route, decode, queue. Anything else is left for ``run(_:greeted:)``.
    func intake(_ line: [UInt8]) -> Intake {
        guard !line.isEmpty, !state.withLockedValue({ $0.closed }),
            case .success(let request) = Request.parse(line, maxDepth: context.limits.maxDepth)
        else { return .elsewhere }
        guard case .command(let method) = Router.route(method: request.method, roles: peer.roles, shuttingDown: context.isShuttingDown)
        else { return .parsed(request) }
        return queue(request, method).map(Intake.refused) ?? .queued
    }

    /// Queues a command with the writer, in arrival order; its answer comes back through
    /// ``finished(_:)`` with the rest of this connection's commands of its batch. Returns the
    /// error line instead when it is refused here (over the in-flight limit, bad params).
    private func queue(_ request: Request, _ method: Method) -> String? {
        guard admit() else { return responses.error(id: request.id, .tooManyRequests(context.limits.maxInFlight)) }
        do {
            let (queued, command) = try handlers.request(method, request.params)
            context.writer.enqueue(queued, for: self, tag: AnswerTag(id: request.id, method: method, command: command))
            return nil
        } catch {
            state.withLockedValue { $0.inFlight -= 1 }
            return responses.error(id: request.id, error)
        }
    }

    /// Counts a request in flight, unless the connection already has its maximum.
    private func admit() -> Bool {
        state.withLockedValue { state -> Bool in
            guard state.inFlight < context.limits.maxInFlight else { return false }
            state.inFlight += 1
            return true
        }
    }

    /// Answers one request that ``Router`` sent on `route`.
    func handle(_ request: Request, _ route: Route) async {
        do {
            let (result, then) = try await answer(request, route)
            await send(responses.result(id: request.id, json: result))
            then?()
        } catch let error as ProtocolError {
            await send(responses.error(id: request.id, error))
        } catch {
            await send(responses.error(id: request.id, .internalError("\(error)")))
        }
    }

    /// The answer's JSON, and what to start once it has been written.
    private func answer(_ request: Request, _ route: Route) async throws -> (String, (@Sendable () -> Void)?) {
        switch route {
        case .refuse(let refusal): throw refusal
        case .discover:
            try request.params.finish()
            return (OpenRPC.document, nil)
        case .subscribe: return try await subscribe(request.params)
        case .unsubscribe: return (try await unsubscribe(request.params), nil)
        case .command(let method):
            throw ProtocolError.internalError("\(method.rawValue) is a command: the writer answers it")
        case .query(let method):
            // Exact: never older than an answer already given (the writer may hold projection changes).
            // (When they cannot be written, a full disk, queries are still served, as of the last
            // checkpoint their `asOf` names.)
            if method.readsProjections { await context.writer.projectionsCaughtUp() }
            return (try handlers.query(method, request.params), nil)
        }
    }

    // MARK: Writing

    /// A batch's answers for this connection, written together once the writer made them
    /// durable. They count as in flight until they reach the socket, so a peer that does not
    /// read holds at most the in-flight limit of them.
    func finished(_ commands: [FinishedCommand]) {
        sink.execute { [self] in
            let text = handlers.answers(commands)
            state.withLockedValue { state in
                if state.pendingWrites == 0 { state.lastProgress = .now }
                state.pendingWrites += 1
            }
            sink.write(text) { [self] written in
                state.withLockedValue { state in
                    state.pendingWrites -= 1
                    state.inFlight -= commands.count
                    state.lastProgress = .now
                }
                if !written { close() }
            }
        }
    }

    /// Writes one line, tracking progress for the slow-consumer check.
    @discardableResult
    func send(_ line: String) async -> Bool { await sending { try await sink.write(line) } }

    /// Writes lines joined by newlines at once, tracking progress like ``send(_:)-(String)``.
    func send(_ lines: [UInt8]) async -> Bool { await sending { try await sink.write(lines) } }

    private func sending(_ write: () async throws -> Void) async -> Bool {
        state.withLockedValue { state in
            if state.pendingWrites == 0 { state.lastProgress = .now }
            state.pendingWrites += 1
        }
        defer {
            state.withLockedValue { state in
                state.pendingWrites -= 1
                state.lastProgress = .now
            }
        }
        do {
            try await write()
            return true
        } catch is CancellationError {
            return false  // the writing task was cancelled (an unsubscribe); the connection is fine
        } catch {
            close()
            return false
        }
    }

    /// Ends the connection when writes have made no progress for the timeout: each
    /// subscription gets `events.end {reason: slowConsumer}` and the connection closes.
    private func watchForSlowConsumer() async {
        let timeout = context.slowConsumerTimeout
        while !Task.isCancelled {
            try? await Task.sleep(for: min(.seconds(1), timeout / 4))
            let stuck = state.withLockedValue { $0.pendingWrites > 0 && ContinuousClock.now - $0.lastProgress > timeout }
            guard stuck else { continue }
            context.logger.warning("slow consumer: closing the connection", metadata: ["peer.uid": "\(peer.uid)"])
            let ended = state.withLockedValue { state -> [(String, Subscription)] in
                defer { state.subscriptions.removeAll() }
                state.closed = true
                return Array(state.subscriptions)
            }
            for (_, subscription) in ended { subscription.task?.cancel() }
            // The end notices go after what is already queued: a client that reads again within
            // the grace still sees every event it was sent, then why it was cut off. Its buffers
            // are bounded (the channel's), and the connection closes after that in any case.
            sink.finish(
                ended.map { endNotification($0.0, reason: "slowConsumer", resumeAfter: $0.1.cursor) }, grace: context.slowConsumerGrace
            )
            return
        }
    }

    // MARK: Subscriptions

    /// Registers a subscription; its delivery starts once the answer is written, so the
    /// answer always comes before the subscription's first notification.
    private func subscribe(_ params: Params) async throws -> (String, (@Sendable () -> Void)?) {
        var p = params
        let after = try p.optionalUInt64("after")
        let filter = try SubscriptionFilter(try p.optionalObject("filter"))
        try p.finish()
        // The feed is published at the writer's checkpoints: wait for the one that covers every
        // answer already given, so that subscribing after an acknowledged position is never refused.
        await context.writer.projectionsCaughtUp()
        let head = context.feed.head
        let start = after ?? head
        if let after, after > head { throw ProtocolError.rejected(.positionOutOfRange(position: after, head: head)) }
        let id = try state.withLockedValue { state throws -> String in
            guard state.subscriptions.count < context.limits.maxSubscriptions else {
                throw ProtocolError.tooManySubscriptions(context.limits.maxSubscriptions)
            }
            state.nextSubscription += 1
            let id = "s\(state.nextSubscription)"
            state.subscriptions[id] = Subscription(task: nil, cursor: start)
            return id
        }
        let answer = try responses.json(SubscribeAnswer(subscription: id, after: start, asOf: head))
        return (answer, {
            self.state.withLockedValue { state in
                guard state.subscriptions[id] != nil else { return }  // unsubscribed before delivery began
                state.subscriptions[id]?.task = Task { await self.deliver(id, from: start, filter: filter) }
            }
        })
    }

    private func unsubscribe(_ params: Params) async throws -> String {
        var p = params
        let id = try p.string("subscription")
        try p.finish()
        guard let removed = state.withLockedValue({ $0.subscriptions.removeValue(forKey: id) }) else {
            throw ProtocolError.unknownSubscription(id)
        }
        removed.task?.cancel()
        let cursor = await removed.task?.value ?? removed.cursor
        await send(endNotification(id, reason: "unsubscribed", resumeAfter: cursor))
        return try responses.json(UnsubscribeAnswer(subscription: id, resumeAfter: cursor))
    }

    private func endAllSubscriptions() async {
        let all = state.withLockedValue { Array($0.subscriptions.values) }
        for subscription in all {
            subscription.task?.cancel()
            _ = await subscription.task?.value
        }
    }

    private func endNotification(_ id: String, reason: String, resumeAfter: UInt64) -> String {
        responses.notification(
            method: "events.end",
            json: "{\"reason\":\(JSONText.quote(reason)),\"resumeAfter\":\(resumeAfter),\"subscription\":\(JSONText.quote(id))}"
        )
    }

    /// Delivers matching events after `start` in log order, then `events.caughtUp`, then live
    /// events as the head moves; ends with `events.end`. Reads the log in chunks: a slow
    /// reader costs disk reads, never a growing queue.
    private func deliver(_ id: String, from start: UInt64, filter: SubscriptionFilter) async -> UInt64 {
        var cursor = start
        var caughtUp = false
        var lastNotified = start
        var lastCheckpoint = ContinuousClock.now
        let log = context.engine.log
        let projections = context.engine.projections
        let quotedId = Array(JSONText.quote(id).utf8)
        let eventJSON = context.eventJSON
        var reason = "shutdown"
        while true {
            // Cancelled: unsubscribed (which sends events.end itself) or the connection closed.
            if Task.isCancelled { return cursor }
            if context.isShuttingDown { reason = "shutdown"; break }
            // Only up to the published head: an event is published once the projections that the
            // filter consults hold it too.
            let published = context.feed.head
            let limit = Int(min(Self.readBatch, published > cursor ? published - cursor : 0))
            // The batch's notifications, written into one buffer, and the last position it covers.
            var text: [UInt8] = []
            var lastSent: UInt64?
            var last: UInt64?
            do {
                let recent = context.feed.recentEvents(after: cursor, limit: limit)
                if recent == nil, filter.isEverything {
                    // Catching up on everything: written straight from the stored bytes.
                    try log.scan(after: cursor, until: cursor + UInt64(limit), chunk: limit) { position, value in
                        if !text.isEmpty { text.append(UInt8(ascii: "\n")) }
                        try Self.appendEventNotification(position, unread: nil, subscription: quotedId, to: &text) {
                            (bytes: inout [UInt8]) throws(StoreError) in
                            try eventJSON.append(storedValue: value, at: position, chain: false, to: &bytes)
                        }
                        last = position
                        lastSent = position
                    }
                } else {
                    // A live event's JSON comes from the feed, encoded once for every subscription.
                    let events = try recent ?? log.read(after: cursor, limit: limit).map { FeedEvent($0.recorded) }
                    try projections.read { view in
                        let interest = try filter.interest(in: view)
                        for feedEvent in events {
                            let position = feedEvent.recorded.position
                            last = position
                            guard try filter.matches(feedEvent, interest: interest, view: view) else { continue }
                            let unread = try filter.unread(after: feedEvent, view: view)
                            if !text.isEmpty { text.append(UInt8(ascii: "\n")) }
                            Self.appendEventNotification(position, unread: unread, subscription: quotedId, to: &text) {
                                $0 += feedEvent.json
                            }
                            lastSent = position
                        }
                    }
                }
            } catch {
                context.logger.error("subscription read failed", metadata: ["error": "\(error)"])
                reason = "error"
                break
            }
            guard let last else {
                if !caughtUp {
                    caughtUp = true
                    await send(responses.notification(
                        method: "events.caughtUp", json: "{\"position\":\(cursor),\"subscription\":\(JSONText.quote(id))}"
                    ))
                } else if !filter.isEverything, cursor > lastNotified {
                    await checkpoint(id, cursor)
                    lastNotified = cursor
                }
                // An agent's subscription sleeps through events that cannot concern it.
                // (When the agent's services cannot be read, it wakes for everything rather than miss any.)
                let interest = (try? projections.read { try filter.interest(in: $0) }) ?? nil
                if let skipped = await context.feed.wait(after: cursor, interest: interest), skipped > cursor {
                    cursor = skipped
                    state.withLockedValue { $0.subscriptions[id]?.cursor = skipped }
                }
                continue
            }
            // One write per batch: the cursor moves past the batch only once its lines are written,
            // so resumeAfter never skips an event the client did not get.
            if let lastSent {
                guard await send(text) else { return cursor }
                lastNotified = lastSent
                lastCheckpoint = .now
            }
            cursor = last
            state.withLockedValue { $0.subscriptions[id]?.cursor = last }
            if !filter.isEverything, cursor > lastNotified, ContinuousClock.now - lastCheckpoint > .seconds(1) {
                await checkpoint(id, cursor)
                lastNotified = cursor
                lastCheckpoint = .now
            }
        }
        if !state.withLockedValue({ $0.closed }) {
            await send(endNotification(id, reason: reason, resumeAfter: cursor))
        }
        return cursor
    }

    private static let eventNotificationPrefix = Array(#"{"jsonrpc":"2.0","method":"events.event","params":{"event":"#.utf8)

    /// Appends `{"jsonrpc":"2.0","method":"events.event","params":{event, position, subscription, unread?}}`.
    private static func appendEventNotification<E: Error>(
        _ position: UInt64, unread: UInt64?, subscription quotedId: [UInt8], to text: inout [UInt8],
        event: (inout [UInt8]) throws(E) -> Void
    ) throws(E) {
        text += eventNotificationPrefix
        try event(&text)
        text += #","position":"#.utf8
        JSONObjectWriter.writeInteger(position, to: &text)
        text += #","subscription":"#.utf8
        text += quotedId
        if let unread {
            text += #","unread":"#.utf8
            JSONObjectWriter.writeInteger(unread, to: &text)
        }
        text += "}}".utf8
    }

    private func checkpoint(_ id: String, _ position: UInt64) async {
        await send(responses.notification(
            method: "events.checkpoint", json: "{\"position\":\(position),\"subscription\":\(JSONText.quote(id))}"
        ))
    }
}
