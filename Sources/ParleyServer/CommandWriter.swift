import Foundation
public import Logging
import ParleyCore
public import ParleyStore
import Synchronization

/// The single writer: one dedicated thread takes the commands of every connection,
/// executes them in batches (one durable LMDB commit per batch: group commit), and only
/// then answers them and announces the new head.
public final class CommandWriter: Sendable {
    private struct Pending {
        let request: CommandRequest
        let ticket: CommandTicket
    }

    private struct State {
        var queue: [Pending] = []
        var accepting = true
        var finished = false
        var exitWaiters: [CheckedContinuation<Void, Never>] = []
    }

    private let engine: Engine
    private let feed: EventFeed
    private let maxBatch: Int
    private let logger: Logger
    /// The queue and flags, guarded by `wakeup`'s lock (one lock for the state and the signal).
    nonisolated(unsafe) private var stateStorage = State()
    private let wakeup = NSCondition()

    /// Runs `body` on the state under the lock, then signals the writer thread.
    private func locked<R>(_ body: (inout State) -> R) -> R {
        wakeup.lock()
        defer {
            wakeup.signal()
            wakeup.unlock()
        }
        return body(&stateStorage)
    }

    /// Creates a writer over `engine`, announcing heads on `feed`.
    public init(engine: Engine, feed: EventFeed, maxBatch: Int = 1024, logger: Logger) {
        self.engine = engine
        self.feed = feed
        self.maxBatch = maxBatch
        self.logger = logger
    }

    /// Starts the writer thread.
    public func start() {
        let thread = Thread { [self] in loop() }
        thread.name = "parley-writer"
        thread.start()
    }

    /// Queues a command now, in the caller's order, and returns a ticket for its outcome.
    ///
    /// Commands a connection sends one after another are queued in that order, so they are
    /// decided in that order even though their answers are awaited concurrently.
    public func enqueue(_ request: CommandRequest) -> CommandTicket {
        let ticket = CommandTicket()
        let accepted = locked { state -> Bool in
            guard state.accepting else { return false }
            state.queue.append(Pending(request: request, ticket: ticket))
            return true
        }
        if !accepted { ticket.finish(.failure(WriterStopped())) }
        return ticket
    }

    /// Queues a command and waits for its outcome, which is durable when returned.
    /// - Throws: ``StoreError`` when the batch failed, or ``WriterStopped`` once shutdown began.
    public func submit(_ request: CommandRequest) async throws -> CommandOutcome {
        try await enqueue(request).outcome()
    }

    /// Stops taking commands, finishes every queued one durably, and returns when the thread exits.
    public func shutdown() async {
        locked { $0.accepting = false }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = locked { state -> Bool in
                if state.finished { return true }
                state.exitWaiters.append(continuation)
                return false
            }
            if done { continuation.resume() }
        }
    }

    private func loop() {
        while true {
            wakeup.lock()
            var batch: [Pending] = []
            var stop = false
            while true {
                batch = Array(stateStorage.queue.prefix(maxBatch))
                stateStorage.queue.removeFirst(batch.count)
                stop = !stateStorage.accepting && stateStorage.queue.isEmpty
                if !batch.isEmpty || stop { break }
                wakeup.wait()
            }
            wakeup.unlock()
            if !batch.isEmpty { execute(batch) }
            if stop && batch.isEmpty { break }
        }
        let waiters = locked { state -> [CheckedContinuation<Void, Never>] in
            state.finished = true
            defer { state.exitWaiters.removeAll() }
            return state.exitWaiters
        }
        for waiter in waiters { waiter.resume() }
    }

    private func execute(_ batch: [Pending]) {
        do {
            let outcomes = try engine.execute(batch.map(\.request))
            let committed = outcomes.flatMap { outcome -> [RecordedEvent] in
                guard let result = outcome.result, !result.replayed else { return [] }
                return result.events
            }
            feed.publish(engine.head, events: feedEvents(committed))
            for (pending, outcome) in zip(batch, outcomes) { pending.ticket.finish(.success(outcome)) }
        } catch {
            logger.error("batch failed; nothing of it was written", metadata: ["batch.size": "\(batch.count)", "error": "\(error)"])
            for pending in batch { pending.ticket.finish(.failure(error)) }
        }
    }
}

extension CommandWriter {
    /// The batch's events with the state of the conversation each concerns, read once here
    /// for every subscription that will filter them. Without it (a read failure) the
    /// subscriptions look the conversations up themselves.
    private func feedEvents(_ events: [RecordedEvent]) -> [FeedEvent] {
        let conversations = try? engine.projections.read { view -> [String: ConversationRecord] in
            var found: [String: ConversationRecord] = [:]
            for event in events {
                guard let id = SubscriptionFilter.conversationId(of: event.event), found[id] == nil else { continue }
                found[id] = try view.conversation(id)
            }
            return found
        }
        return events.map { event in
            FeedEvent(event, conversation: SubscriptionFilter.conversationId(of: event.event).flatMap { conversations?[$0] })
        }
    }
}

/// The outcome of a queued command, to be awaited once.
public final class CommandTicket: Sendable {
    private enum State {
        case waiting(CheckedContinuation<CommandOutcome, any Error>?)
        case done(Result<CommandOutcome, any Error>)
    }

    private let state = Mutex(State.waiting(nil))

    init() {}

    /// Records the outcome, resuming a waiter if there is one.
    func finish(_ result: Result<CommandOutcome, any Error>) {
        let waiter = state.withLock { state -> CheckedContinuation<CommandOutcome, any Error>? in
            guard case .waiting(let continuation) = state else { return nil }
            state = .done(result)
            return continuation
        }
        waiter?.resume(with: result)
    }

    /// Waits for the outcome; durable when returned.
    public func outcome() async throws -> CommandOutcome {
        try await withCheckedThrowingContinuation { continuation in
            let ready = state.withLock { state -> Result<CommandOutcome, any Error>? in
                switch state {
                case .done(let result): return result
                case .waiting: state = .waiting(continuation); return nil
                }
            }
            if let ready { continuation.resume(with: ready) }
        }
    }
}

/// The writer no longer takes commands (the daemon is shutting down).
public struct WriterStopped: Error, Sendable {}
