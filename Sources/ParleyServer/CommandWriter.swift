import Foundation
public import Logging
import ParleyCore
public import ParleyStore
import ParleyProtocol
public import ServiceLifecycle

/// The single writer: one dedicated thread takes the commands of every connection,
/// executes them in batches (one durable LMDB commit per batch: group commit), and only
/// then hands each connection the outcomes of its commands in that batch, in one call.
///
/// No task and no continuation per command: a connection queues a command and returns to
/// its input; the answer comes back through its ``CommandOutcomeReceiver``.
///
/// The projection changes of consecutive batches are committed together (a checkpoint, see
/// ``Engine/checkpointProjections()``), so that a page the batches share is copied and written
/// once: at most `checkpointInterval` after the first of them, and after the batch when a query
/// waits for them (``projectionsCaughtUp()``) or a live subscription waits for new events. New
/// events reach the ``EventFeed`` at the checkpoint, so a subscription's filter always reads
/// projections that hold them.
public final class CommandWriter: Service, Sendable {
    private struct Pending {
        let request: CommandRequest
        let receiver: any CommandOutcomeReceiver
        let tag: AnswerTag
    }

    private struct State {
        var queue: [Pending] = []
        var accepting = true
        var finished = false
        var exitWaiters: [CheckedContinuation<Void, Never>] = []
        /// Readers waiting for the next checkpoint (``projectionsCaughtUp()``).
        var checkpointWaiters: [CheckedContinuation<Bool, Never>] = []
    }

    private let engine: Engine
    private let feed: EventFeed
    private let maxBatch: Int
    /// How long projection changes may stay pending while nobody waits for them.
    private let checkpointInterval: Duration
    private let logger: Logger
    /// The queue and flags, guarded by `wakeup`'s lock (one lock for the state and the signal).
    nonisolated(unsafe) private var stateStorage = State()
    private let wakeup = NSCondition()

    /// Runs `body` on the state under the lock, then signals the writer thread.
    ///
    /// The signal comes after the unlock: signalled under the lock, the woken writer would
    /// block at once on the mutex still held here and need a second wake-up (a profile at one
    /// connection showed that futex traffic at 8% of the daemon's samples). The writer
    /// re-checks the queue under the lock before every wait, so no wake-up is lost.
    private func locked<R>(_ body: (inout State) -> R) -> R {
        wakeup.lock()
        let result = body(&stateStorage)
        wakeup.unlock()
        wakeup.signal()
        return result
    }

    /// Creates a writer over `engine`, announcing heads on `feed`. Projection changes are
    /// committed (a checkpoint) when a reader waits for them, `checkpointInterval` after the
    /// first batch they hold, or after ``maxPendingBatches`` batches, whichever comes first.
    public init(
        engine: Engine, feed: EventFeed, maxBatch: Int = 1024, checkpointInterval: Duration = .milliseconds(20),
        logger: Logger
    ) {
        self.engine = engine
        self.feed = feed
        self.maxBatch = maxBatch
        self.checkpointInterval = checkpointInterval
        self.logger = logger
    }

    /// Runs the writer thread until the service group shuts down (or is cancelled), then
    /// finishes every queued command durably before returning.
    public func run() async throws {
        let thread = Thread { [self] in loop() }
        thread.name = "parley-writer"
        thread.start()
        try? await gracefulShutdown()
        await shutdown()
    }

    /// Queues a command now, in the caller's order; `receiver` gets its outcome, tagged with
    /// `tag`, once its batch is durable (or failed). After shutdown began it gets
    /// ``WriterStopped`` at once, from this call.
    ///
    /// Commands a connection sends one after another are queued in that order, so they are
    /// decided in that order.
    func enqueue(_ request: CommandRequest, for receiver: any CommandOutcomeReceiver, tag: AnswerTag) {
        let accepted = locked { state -> Bool in
            guard state.accepting else { return false }
            state.queue.append(Pending(request: request, receiver: receiver, tag: tag))
            return true
        }
        if !accepted { receiver.finished([FinishedCommand(tag: tag, result: .failure(WriterStopped()))]) }
    }

    /// Stops taking commands, finishes every queued one durably, and returns when the thread
    /// exits. The server calls it to drain before its last answers; calling it again returns at once.
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
        var unpublished: [FeedEvent] = []
        var pendingSince: ContinuousClock.Instant?
        while true {
            wakeup.lock()
            var batch: [Pending] = []
            var stop = false
            var readersWait = false
            while true {
                batch = Array(stateStorage.queue.prefix(maxBatch))
                stateStorage.queue.removeFirst(batch.count)
                stop = !stateStorage.accepting && stateStorage.queue.isEmpty
                readersWait = !stateStorage.checkpointWaiters.isEmpty
                if !batch.isEmpty || stop || readersWait { break }
                guard let pendingSince else {
                    wakeup.wait()
                    continue
                }
                let deadline = pendingSince + checkpointInterval
                if ContinuousClock.now >= deadline { break }
                _ = wakeup.wait(until: Date(timeIntervalSinceNow: Self.seconds(deadline - ContinuousClock.now)))
            }
            wakeup.unlock()
            if !batch.isEmpty {
                if pendingSince == nil { pendingSince = .now }
                unpublished += execute(batch)
            }
            // A live subscription waiting for the feed is served at once: its latency is what a
            // front end shows, and its answers already went out before this commit.
            let due = pendingSince.map {
                stop || readersWait || feed.hasWaiters || ContinuousClock.now - $0 >= checkpointInterval
                    || engine.pendingProjectionBatches >= Self.maxPendingBatches
            }
            if due ?? readersWait {
                checkpoint(publishing: &unpublished)
                pendingSince = nil
            }
            if stop && batch.isEmpty { break }
        }
        let (exitWaiters, readers) = locked { state in
            state.finished = true
            defer {
                state.exitWaiters.removeAll()
                state.checkpointWaiters.removeAll()
            }
            return (state.exitWaiters, state.checkpointWaiters)
        }
        let current = engine.projectionsPosition >= engine.head.position
        for reader in readers { reader.resume(returning: current) }
        for waiter in exitWaiters { waiter.resume() }
    }

    /// Batches whose projection changes may wait for one checkpoint.
    static let maxPendingBatches = 64

    private static func seconds(_ duration: Duration) -> TimeInterval {
        let (seconds, attoseconds) = duration.components
        return TimeInterval(seconds) + TimeInterval(attoseconds) / 1e18
    }

    /// Commits the pending projection changes, then publishes their events and lets the readers
    /// that waited for them go: the feed never runs ahead of the projections its filters read.
    ///
    /// When the projections could not be brought to the head (the commit and its repair failed),
    /// the events stay unpublished until a checkpoint succeeds, and the readers are told.
    private func checkpoint(publishing events: inout [FeedEvent]) {
        let current = engine.checkpointProjections()
        if current {
            feed.publish(engine.head, events: events)
            events.removeAll(keepingCapacity: true)
        }
        let waiters = locked { state -> [CheckedContinuation<Bool, Never>] in
            defer { state.checkpointWaiters.removeAll() }
            return state.checkpointWaiters
        }
        for waiter in waiters { waiter.resume(returning: current) }
    }

    /// Returns once the projections that queries read hold every command answered before the
    /// call, so that a query's `asOf` is at least the position of any answer already given.
    /// At once when they do; otherwise it asks the writer for a checkpoint.
    /// - Returns: Whether they do: false when the checkpoint failed (storage trouble) or the
    ///   writer has stopped short of them.
    @discardableResult
    public func projectionsCaughtUp() async -> Bool {
        let target = engine.head.position
        if engine.projectionsPosition >= target { return true }
        return await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            let now = locked { state -> Bool in
                if state.finished { return true }
                state.checkpointWaiters.append(continuation)
                return false
            }
            if now { continuation.resume(returning: engine.projectionsPosition >= target) }
        }
    }

    /// Executes one batch with its projection changes left pending, answers its commands, and
    /// returns its new events for the feed, each with its conversation as the write left it.
    private func execute(_ batch: [Pending]) -> [FeedEvent] {
        do {
            let outcomes = try engine.execute(batch.map(\.request), deferringProjections: true)
            let committed = outcomes.flatMap { outcome -> [FeedEvent] in
                guard let result = outcome.result, !result.replayed else { return [] }
                let conversations = result.state.conversations
                return result.events.enumerated().map { index, event in
                    FeedEvent(event, conversation: index < conversations.count ? conversations[index] : nil)
                }
            }
            deliver(batch) { .success(outcomes[$0]) }
            return committed
        } catch {
            logger.error("batch failed; nothing of it was written", metadata: ["batch.size": "\(batch.count)", "error": "\(error)"])
            deliver(batch) { _ in .failure(error) }
            return []
        }
    }

    /// Hands every connection of the batch its outcomes, in one call each, in queue order.
    private func deliver(_ batch: [Pending], _ result: (Int) -> Result<CommandOutcome, any Error>) {
        var order: [ObjectIdentifier] = []
        var groups: [ObjectIdentifier: (receiver: any CommandOutcomeReceiver, finished: [FinishedCommand])] = [:]
        for (index, pending) in batch.enumerated() {
            let key = ObjectIdentifier(pending.receiver)
            let finished = FinishedCommand(tag: pending.tag, result: result(index))
            if groups[key] == nil {
                order.append(key)
                groups[key] = (pending.receiver, [finished])
            } else {
                groups[key]?.finished.append(finished)
            }
        }
        for key in order {
            guard let group = groups[key] else { continue }
            group.receiver.finished(group.finished)
        }
    }
}

/// What a connection keeps with a queued command to answer it: the request's id, the method
/// and the decoded command.
struct AnswerTag: Sendable {
    let id: RequestID
    let method: Method
    let command: Command
}

/// A queued command's outcome: durable when it is a success.
struct FinishedCommand: Sendable {
    let tag: AnswerTag
    let result: Result<CommandOutcome, any Error>
}

/// Takes the outcomes of the commands it queued with the ``CommandWriter``: once per batch,
/// all of its commands of that batch, in the order it queued them. Called on the writer's
/// thread: it must hand the work on, not do it there.
protocol CommandOutcomeReceiver: AnyObject, Sendable {
    func finished(_ commands: [FinishedCommand])
}

/// The writer no longer takes commands (the daemon is shutting down).
public struct WriterStopped: Error, Sendable {}
