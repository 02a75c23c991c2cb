import Synchronization
public import ParleyStore

/// Announces new log heads to subscriptions waiting for them, and the daemon's shutdown.
public final class EventFeed: Sendable {
    private struct State {
        var head: UInt64
        var stopped = false
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
        var nextWaiter = 0
    }

    private let state: Mutex<State>

    /// Creates a feed starting at `head`.
    public init(head: UInt64) { state = Mutex(State(head: head)) }

    /// The newest committed position.
    public var head: UInt64 { state.withLock { $0.head } }

    /// Whether the daemon is shutting down.
    public var isStopped: Bool { state.withLock { $0.stopped } }

    /// Announces a new head (after a durable commit), waking every waiter.
    public func publish(_ head: LogHead) {
        let woken = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            guard head.position > state.head else { return [] }
            state.head = head.position
            defer { state.waiters.removeAll() }
            return Array(state.waiters.values)
        }
        for waiter in woken { waiter.resume() }
    }

    /// Stops the feed: every waiter returns and ``isStopped`` is true.
    public func stop() {
        let woken = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.stopped = true
            defer { state.waiters.removeAll() }
            return Array(state.waiters.values)
        }
        for waiter in woken { waiter.resume() }
    }

    /// Returns once the head is beyond `position`, the feed stops, or the task is cancelled.
    public func wait(after position: UInt64) async {
        let id = state.withLock { state -> Int in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let ready = state.withLock { state -> Bool in
                    if state.head > position || state.stopped || Task.isCancelled { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if ready { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
            waiter?.resume()
        }
    }
}
