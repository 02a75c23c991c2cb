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
        let continuation: CheckedContinuation<CommandOutcome, any Error>
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
    private let state = Mutex(State())
    private let wakeup = NSCondition()

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

    /// Queues a command and waits for its outcome, which is durable when returned.
    /// - Throws: ``ProtocolError``-mapped ``StoreError`` when the batch failed, or
    ///   ``WriterStopped`` once shutdown began.
    public func submit(_ request: CommandRequest) async throws -> CommandOutcome {
        try await withCheckedThrowingContinuation { continuation in
            let accepted = state.withLock { state -> Bool in
                guard state.accepting else { return false }
                state.queue.append(Pending(request: request, continuation: continuation))
                return true
            }
            guard accepted else {
                continuation.resume(throwing: WriterStopped())
                return
            }
            wake()
        }
    }

    /// Stops taking commands, finishes every queued one durably, and returns when the thread exits.
    public func shutdown() async {
        state.withLock { $0.accepting = false }
        wake()
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = state.withLock { state -> Bool in
                if state.finished { return true }
                state.exitWaiters.append(continuation)
                return false
            }
            if done { continuation.resume() }
        }
    }

    private func wake() {
        wakeup.lock()
        wakeup.signal()
        wakeup.unlock()
    }

    private func loop() {
        while true {
            wakeup.lock()
            var batch: [Pending] = []
            var stop = false
            while true {
                (batch, stop) = state.withLock { state in
                    let taken = Array(state.queue.prefix(maxBatch))
                    state.queue.removeFirst(taken.count)
                    return (taken, !state.accepting && state.queue.isEmpty)
                }
                if !batch.isEmpty || stop { break }
                wakeup.wait()
            }
            wakeup.unlock()
            if !batch.isEmpty { execute(batch) }
            if stop && batch.isEmpty { break }
        }
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.finished = true
            defer { state.exitWaiters.removeAll() }
            return state.exitWaiters
        }
        for waiter in waiters { waiter.resume() }
    }

    private func execute(_ batch: [Pending]) {
        do {
            let outcomes = try engine.execute(batch.map(\.request))
            feed.publish(engine.head)
            for (pending, outcome) in zip(batch, outcomes) { pending.continuation.resume(returning: outcome) }
        } catch {
            logger.error("batch failed; nothing of it was written", metadata: ["batch.size": "\(batch.count)", "error": "\(error)"])
            for pending in batch { pending.continuation.resume(throwing: error) }
        }
    }
}

/// The writer no longer takes commands (the daemon is shutting down).
public struct WriterStopped: Error, Sendable {}
