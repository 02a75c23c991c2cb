import Synchronization
public import ParleyCore
public import ParleyStore

/// A committed event as the feed keeps it: shared by reference among subscriptions, with the
/// state of the conversation it concerns right after its command (read in the write), so
/// that filtering it for a thousand subscriptions does not look the conversation up a
/// thousand times.
public final class FeedEvent: Sendable {
    /// The event.
    public let recorded: RecordedEvent
    /// The conversation the event concerns, as the projections held it right after the event's
    /// command (`nil` when it concerns none or it was not read).
    public let conversation: ConversationRecord?

    private let encoded = Mutex<[UInt8]?>(nil)
    /// Whom it can concern among agent subscriptions, computed once.
    let audience: Audience

    /// Wraps an event.
    public init(_ recorded: RecordedEvent, conversation: ConversationRecord? = nil) {
        self.recorded = recorded
        self.conversation = conversation
        audience = Audience(of: recorded, conversation: conversation)
    }

    /// The event's JSON object (without chain fields), as `events.event` carries it: encoded
    /// by the first subscription that sends it, and shared by every other one.
    public var json: [UInt8] {
        if let cached = encoded.withLock({ $0 }) { return cached }
        var bytes: [UInt8] = []
        recorded.writeJSON(to: &bytes)
        encoded.withLock { $0 = bytes }
        return bytes
    }
}

/// Announces new log heads to subscriptions waiting for them, and the daemon's shutdown.
///
/// It also keeps the newest committed events, decoded, as the writer committed them, so that
/// live subscriptions — a thousand agents' front ends — take them from memory instead of each
/// reading and decoding them from the log again. Older positions are read from the log.
public final class EventFeed: Sendable {
    private struct State {
        var head: UInt64
        var stopped = false
        var waiters: [Int: Waiter] = [:]
        var nextWaiter = 0
        /// Whether a wake-up of the skipped waiters is scheduled.
        var quietWakeScheduled = false
        /// The newest events, gapless, the last one at `head` (or empty).
        var recent: [FeedEvent] = []
        /// Index in `recent` of its oldest event (a ring once full).
        var oldest = 0
    }

    /// A subscription waiting for the head to move.
    private struct Waiter {
        let continuation: CheckedContinuation<UInt64?, Never>
        /// `nil`: woken by every new head.
        let interest: Interest?
        /// The newest head it was not woken for: every event up to it concerned it not.
        var skippedTo: UInt64?
    }

    /// How long a subscription the new events did not concern sleeps on before it is woken to
    /// report how far the log moved (`events.checkpoint`).
    static let quietWake: Duration = .seconds(1)

    private let state: Mutex<State>
    private let capacity: Int

    /// Creates a feed starting at `head`, keeping up to `capacity` recent events in memory.
    public init(head: UInt64, capacity: Int = 1024) {
        state = Mutex(State(head: head))
        self.capacity = max(capacity, 0)
    }

    /// The newest committed position.
    public var head: UInt64 { state.withLock { $0.head } }

    /// Up to `limit` events after position `after`, from memory, or `nil` when they are not all
    /// there (older than the memory reaches): then the caller reads the log. Empty when
    /// `after` is the head.
    public func recentEvents(after: UInt64, limit: Int) -> [FeedEvent]? {
        state.withLock { state -> [FeedEvent]? in
            if after >= state.head { return [] }
            guard let first = state.recent.isEmpty ? nil : state.recent[state.oldest].recorded.position, after + 1 >= first else { return nil }
            let count = min(limit, Int(state.head - after))
            var result: [FeedEvent] = []
            result.reserveCapacity(count)
            let start = Int(after + 1 - first)
            for offset in start..<(start + count) {
                result.append(state.recent[(state.oldest + offset) % state.recent.count])
            }
            return result
        }
    }

    private static func remember(_ events: [FeedEvent], in state: inout State, capacity: Int) {
        for event in events.suffix(capacity) {
            if state.recent.count < capacity {
                state.recent.append(event)
            } else {
                state.recent[state.oldest] = event
                state.oldest = (state.oldest + 1) % capacity
            }
        }
    }

    /// Whether the daemon is shutting down.
    public var isStopped: Bool { state.withLock { $0.stopped } }

    /// Whether a subscription waits for the next head: a live front end, which should see a
    /// new event as soon as it is committed.
    public var hasWaiters: Bool { state.withLock { !$0.waiters.isEmpty } }

    /// Announces a new head (after a durable commit), waking every waiter. `events` are the
    /// events committed since the previous head, in order, when the caller has them; without
    /// them (or with a gap) the memory of recent events starts again after `head`.
    ///
    /// An agent subscription that none of the events can concern (see ``Audience``) sleeps on
    /// for up to ``quietWake``, then is told how far it was skipped.
    public func publish(_ head: LogHead, events: [FeedEvent] = []) {
        var scheduleQuietWake = false
        let woken = state.withLock { state -> [(CheckedContinuation<UInt64?, Never>, UInt64?)] in
            guard head.position > state.head else { return [] }
            let contiguous = events.first?.recorded.position == state.head + 1 && events.last?.recorded.position == head.position
            if contiguous && capacity > 0 {
                Self.remember(events, in: &state, capacity: capacity)
            } else {
                state.recent.removeAll()
                state.oldest = 0
            }
            state.head = head.position
            let audience = contiguous ? BatchAudience(events) : nil
            var woken: [(CheckedContinuation<UInt64?, Never>, UInt64?)] = []
            for (id, waiter) in state.waiters {
                if let audience, let interest = waiter.interest, !audience.reaches(interest) {
                    state.waiters[id]?.skippedTo = head.position
                    if !state.quietWakeScheduled {
                        state.quietWakeScheduled = true
                        scheduleQuietWake = true
                    }
                } else {
                    woken.append((waiter.continuation, waiter.skippedTo))
                    state.waiters[id] = nil
                }
            }
            return woken
        }
        for (continuation, skipped) in woken { continuation.resume(returning: skipped) }
        if scheduleQuietWake {
            Task { [self] in
                try? await Task.sleep(for: Self.quietWake)
                wakeSkipped()
            }
        }
    }

    /// Wakes every waiter that new events went past, so it can report how far it moved.
    private func wakeSkipped() {
        let woken = state.withLock { state -> [(CheckedContinuation<UInt64?, Never>, UInt64?)] in
            state.quietWakeScheduled = false
            var woken: [(CheckedContinuation<UInt64?, Never>, UInt64?)] = []
            for (id, waiter) in state.waiters where waiter.skippedTo != nil {
                woken.append((waiter.continuation, waiter.skippedTo))
                state.waiters[id] = nil
            }
            return woken
        }
        for (continuation, skipped) in woken { continuation.resume(returning: skipped) }
    }

    /// Stops the feed: every waiter returns and ``isStopped`` is true.
    public func stop() {
        let woken = state.withLock { state -> [Waiter] in
            state.stopped = true
            defer { state.waiters.removeAll() }
            return Array(state.waiters.values)
        }
        for waiter in woken { waiter.continuation.resume(returning: waiter.skippedTo) }
    }

    /// Returns once the head is beyond `position`, the feed stops, or the task is cancelled.
    public func wait(after position: UInt64) async { _ = await wait(after: position, interest: nil) }

    /// Returns once the head is beyond `position` with events that may concern `interest`
    /// (any, when `nil`), or up to ``quietWake`` after it moved without such events, or the feed
    /// stops, or the task is cancelled. Returns the newest head that moved without concerning
    /// it, if any: the waiter may move its cursor there without reading those events.
    func wait(after position: UInt64, interest: Interest?) async -> UInt64? {
        let id = state.withLock { state -> Int in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<UInt64?, Never>) in
                let ready = state.withLock { state -> Bool in
                    if state.head > position || state.stopped || Task.isCancelled { return true }
                    state.waiters[id] = Waiter(continuation: continuation, interest: interest)
                    return false
                }
                if ready { continuation.resume(returning: nil) }
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
            waiter?.continuation.resume(returning: waiter?.skippedTo)
        }
    }
}
