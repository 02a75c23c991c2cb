import Foundation
import ParleyClient
import Synchronization

/// A subscriber to every event that resumes from the last position it saw after each restart;
/// it must see every position exactly once, in order.
final class ResumingSubscriber: Sendable {
    struct State {
        /// The last position delivered.
        var lastSeen: UInt64 = 0
        var delivered = 0
        var resumes = 0
        var findings: [String] = []
    }

    let state = Mutex(State())
    private let done = DispatchGroup()

    /// Subscribes from the last position seen and reads on a thread until the connection ends,
    /// or, with `untilCaughtUp`, until `events.caughtUp`. Returns once the subscription is
    /// answered (or refused): a round's kill never comes before the subscriber is in, however
    /// late a loaded machine starts its thread.
    func resume(socketPath: String, untilCaughtUp: Bool = false) {
        done.enter()
        let done = self.done
        let subscribed = DispatchSemaphore(value: 0)
        Thread { [self] in
            defer { done.leave() }
            self.read(socketPath: socketPath, untilCaughtUp: untilCaughtUp, subscribed: subscribed)
        }.start()
        subscribed.wait()
    }

    /// Waits until the reading thread ends.
    func wait() { done.wait() }

    private func read(socketPath: String, untilCaughtUp: Bool, subscribed: DispatchSemaphore) {
        var signalled = false
        func signal() {
            if !signalled { subscribed.signal() }
            signalled = true
        }
        defer { signal() }
        let after = state.withLock { state -> UInt64 in
            state.resumes += 1
            return state.lastSeen
        }
        guard let connection = try? ParleyConnection.open(socketPath) else {
            state.withLock { $0.findings.append("subscriber: cannot connect") }
            return
        }
        defer { connection.closeBlocking() }
        // The library reads the subscription; the resuming is this test's own (from lastSeen,
        // once per round), so what is checked is the daemon's guarantee, not the library's.
        let subscription: Subscription
        do {
            subscription = try Blocking.run {
                try await connection.subscribe(after: after, buffer: 1 << 24, timeout: Patience.duration)
            }
        } catch ParleyError.remote(let error) {
            signal()
            state.withLock { $0.findings.append("subscriber: subscribe after \(after) refused: \(error)") }
            return
        } catch {
            return  // the daemon was killed before answering: resume after the restart
        }
        signal()
        do {
            try Blocking.run { [self] in
                for try await message in subscription {
                    switch message {
                    case .event(let position, _, _):
                        state.withLock { state in
                            if position <= state.lastSeen {
                                state.findings.append(
                                    "subscriber: position \(position) delivered again (last seen \(state.lastSeen))")
                            } else if position != state.lastSeen + 1 {
                                state.findings.append("subscriber: gap: \(position) after \(state.lastSeen)")
                            }
                            state.lastSeen = max(state.lastSeen, position)
                            state.delivered += 1
                        }
                    case .caughtUp where untilCaughtUp, .end:
                        return
                    case .caughtUp, .checkpoint:
                        continue
                    }
                }
            }
        } catch let stuck as Stuck {
            state.withLock {
                $0.findings.append("subscriber: after \(after): \(stuck) (the daemon neither sent events nor ended)")
            }
        } catch {
            return  // the daemon was killed: resume from lastSeen after the restart
        }
    }
}
