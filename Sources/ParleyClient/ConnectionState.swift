import NIOConcurrencyHelpers
import ParleyProtocol

/// What one connection's callers and its channel handler share: the requests awaiting an
/// answer and the subscriptions receiving events, behind one lock.
///
/// A subscribe request carries its subscription's sink, which is registered under the
/// subscription id in the same critical section that reads the answer, so no event that
/// follows the answer on the wire can find the sink missing.
final class ConnectionState: @unchecked Sendable {
    typealias Answer = CheckedContinuation<JSONValue, any Error>
    typealias Sink = AsyncThrowingStream<SubscriptionMessage, any Error>.Continuation

    /// A request awaiting its answer.
    struct Pending {
        var answer: Answer
        /// For `events.subscribe`: where its events go once the answer names the subscription.
        var sink: Sink?
    }

    /// A live subscription.
    struct Subscription {
        var sink: Sink
        /// The cursor of the last message handed to the sink.
        var cursor: UInt64
    }

    private struct Locked {
        var nextID: Int64 = 1
        var pending: [Int64: Pending] = [:]
        /// Requests whose answers nobody waits for (an unsubscribe on the way out).
        var ignored: Set<Int64> = []
        var subscriptions: [String: Subscription] = [:]
        /// Set once the connection is unusable; every later call fails with it.
        var failure: ParleyError?
    }

    private let locked = NIOLockedValueBox(Locked())

    /// Registers a request and returns its id, or the connection's failure.
    func register(_ pending: Pending?) -> Result<Int64, ParleyError> {
        locked.withLockedValue { state in
            if let failure = state.failure { return .failure(failure) }
            let id = state.nextID
            state.nextID += 1
            if let pending { state.pending[id] = pending } else { state.ignored.insert(id) }
            return .success(id)
        }
    }

    /// Removes a request that will not be answered (its write failed, or it timed out).
    func abandon(_ id: Int64) -> Pending? {
        locked.withLockedValue { $0.pending.removeValue(forKey: id) }
    }

    /// Hands an answer to its caller; a subscribe's answer first registers its sink.
    func answer(id: Int64, result: JSONValue?, error: JSONValue?) {
        let pending: Pending? = locked.withLockedValue { state in
            if state.ignored.remove(id) != nil { return nil }
            guard let pending = state.pending.removeValue(forKey: id) else { return nil }
            if let sink = pending.sink, error == nil, let subscription = result?["subscription"]?.string {
                state.subscriptions[subscription] = Subscription(sink: sink, cursor: result?["after"]?.uint64 ?? 0)
            }
            return pending
        }
        guard let pending else { return }
        if let error {
            pending.sink?.finish(throwing: ParleyError.remote(RemoteError(error)))
            pending.answer.resume(throwing: ParleyError.remote(RemoteError(error)))
        } else {
            pending.answer.resume(returning: result ?? .object([:]))
        }
    }

    /// What became of a notification for a subscription.
    enum Delivery {
        case delivered
        /// Nobody listens (it ended, or its reader went away).
        case unknown
        /// The reader's buffer is full: the subscription was ended locally, and should be ended
        /// at the server too.
        case overflowed
    }

    /// Hands one message to its subscription.
    func deliver(_ message: SubscriptionMessage, to subscription: String) -> Delivery {
        locked.withLockedValue { state in
            guard var entry = state.subscriptions[subscription] else { return .unknown }
            if case .end = message {
                state.subscriptions[subscription] = nil
                entry.sink.yield(message)
                entry.sink.finish()
                return .delivered
            }
            switch entry.sink.yield(message) {
            case .enqueued:
                entry.cursor = message.cursor ?? entry.cursor
                state.subscriptions[subscription] = entry
                return .delivered
            case .dropped:
                state.subscriptions[subscription] = nil
                entry.sink.finish(throwing: ParleyError.fellBehind(after: entry.cursor))
                return .overflowed
            case .terminated:
                state.subscriptions[subscription] = nil
                return .overflowed
            @unknown default:
                return .unknown
            }
        }
    }

    /// Forgets a subscription whose reader went away; true when it was still live.
    func forget(subscription: String) -> Bool {
        locked.withLockedValue { $0.subscriptions.removeValue(forKey: subscription) != nil }
    }

    /// Marks the connection unusable and fails everything waiting on it.
    func fail(_ failure: ParleyError) {
        let (pending, subscriptions) = locked.withLockedValue { state in
            if state.failure == nil { state.failure = failure }
            defer {
                state.pending = [:]
                state.subscriptions = [:]
            }
            return (Array(state.pending.values), Array(state.subscriptions.values))
        }
        for entry in pending {
            entry.sink?.finish(throwing: failure)
            entry.answer.resume(throwing: failure)
        }
        for entry in subscriptions { entry.sink.finish(throwing: failure) }
    }

    /// The failure that ended the connection, if it has ended.
    var failure: ParleyError? { locked.withLockedValue { $0.failure } }
}
