import Foundation
import ParleyClient
import ParleyCore
import ParleyProtocol
import Synchronization

/// One command the load sends, kept so it can be retried byte for byte with its key.
struct CommandSpec: Sendable {
    /// The idempotency key (unique across the run).
    var key: String
    /// The method.
    var method: String
    /// The params, `idempotencyKey` included.
    var params: [String: JSONValue]
}

/// What the clients were told, and what the checks found: the test's source of truth.
final class Ledger: Sendable {
    struct State {
        /// Every command ever sent, by key.
        var specs: [String: CommandSpec] = [:]
        /// Acknowledged commands: the positions of their events, as answered.
        var acked: [String: [UInt64]] = [:]
        /// Commands refused by the domain (they must have appended nothing).
        var refused: Set<String> = []
        /// Sent but not answered (the connection died): to retry after the restart.
        var pending: Set<String> = []
        var retries = 0
        var replayedRetries = 0
        var repeatChecks = 0
        var findings: [String] = []
    }

    let state = Mutex(State())

    /// Registers a command before it is sent.
    func sending(_ spec: CommandSpec) {
        state.withLock {
            $0.specs[spec.key] = spec
            $0.pending.insert(spec.key)
        }
    }

    /// Records a command's answer. A result must name the same events as any earlier result for
    /// the key (a replay returns the original); a refusal must not follow an acknowledgement.
    /// A lost answer changes nothing: the command stays pending.
    func answered(_ key: String, _ answer: CommandAnswer, retry: Bool) {
        state.withLock { state in
            if retry { state.retries += 1 }
            switch answer {
            case .result(let result):
                let events = (result["events"]?.array ?? []).compactMap { $0["position"]?.uint64 }
                let replayed = result["replayed"]?.bool ?? false
                if retry && replayed { state.replayedRetries += 1 }
                if let earlier = state.acked[key], earlier != events {
                    state.findings.append("key \(key): answered with events \(events), earlier with \(earlier)")
                }
                if state.acked[key] == nil, replayed, !retry {
                    state.findings.append("key \(key): a first attempt answered replayed: true")
                }
                state.acked[key] = events
                state.pending.remove(key)
            case .refused(let error):
                if error.retryable { return }  // stays pending: retried later
                if state.acked[key] != nil {
                    state.findings.append("key \(key): acknowledged earlier, now refused: \(error)")
                }
                state.refused.insert(key)
                state.pending.remove(key)
            case .lost:
                return
            }
        }
    }

    /// Records a check's failure.
    func finding(_ text: String) { state.withLock { $0.findings.append(text) } }

    /// The commands to retry.
    func pendingSpecs() -> [CommandSpec] {
        state.withLock { state in state.pending.sorted().compactMap { state.specs[$0] } }
    }

    /// Up to `count` acknowledged commands chosen with `generator`, to repeat.
    func ackedSample(_ count: Int, using generator: inout SplitMix64) -> [CommandSpec] {
        state.withLock { state in
            let keys = Array(state.acked.keys)
            guard !keys.isEmpty else { return [] }
            return (0..<min(count, keys.count)).compactMap { _ in
                state.specs[keys[Int(generator.next() % UInt64(keys.count))]]
            }
        }
    }
}
