import Foundation
import ParleyCore
import ParleyStore

/// Checks the data directory while the daemon is down: positions gapless and chained, and every
/// acknowledged command's events present exactly once (found by their idempotency keys).
/// Reads only the events added since the last check; the log is append-only.
final class LogChecker {
    private var checkedHead = LogHead.empty
    /// The positions of the events carrying each key.
    private var positionsByKey: [String: [UInt64]] = [:]
    let directory: String
    /// Keys found lost or duplicated, over the whole run.
    private(set) var lost: Set<String> = []
    private(set) var duplicated: Set<String> = []

    init(directory: String) { self.directory = directory }

    /// The head reached by the last check.
    var head: LogHead { checkedHead }

    /// Reads the new events and checks them; returns the findings.
    func check(_ ledger: Ledger, subscriberLastSeen: UInt64) throws -> [String] {
        var findings: [String] = []
        let log = try EventLog(path: DataDirectory(directory).log, readOnly: true, mapSize: 64 << 20)
        let head = try log.head()
        if head.position < checkedHead.position {
            findings.append("the log shrank from \(checkedHead.position) to \(head.position)")
            return findings
        }
        if head.position == checkedHead.position, head.hash != checkedHead.hash {
            findings.append("the head at \(head.position) changed its hash")
        }
        var cursor = checkedHead
        while cursor.position < head.position {
            let batch = try log.read(after: cursor.position, limit: 1000)
            guard !batch.isEmpty else {
                findings.append("the log ends at \(cursor.position) below its head \(head.position)")
                break
            }
            for stored in batch {
                let position = stored.recorded.position
                if position != cursor.position + 1 { findings.append("gap: \(position) after \(cursor.position)") }
                if stored.prevHash != cursor.hash { findings.append("position \(position): prevHash does not chain") }
                if let key = stored.recorded.idempotencyKey {
                    positionsByKey[key.key, default: []].append(position)
                }
                cursor = LogHead(position: position, hash: stored.hash)
            }
        }
        checkedHead = cursor
        if subscriberLastSeen > head.position {
            findings.append("a subscriber was sent position \(subscriberLastSeen), beyond the durable head \(head.position)")
        }
        var lostNow: Set<String> = []
        var duplicatedNow: Set<String> = []
        ledger.state.withLock { state in
            for (key, answered) in state.acked {
                let stored = positionsByKey[key] ?? []
                if stored.count < answered.count || !answered.allSatisfy(stored.contains) {
                    lostNow.insert(key)
                    findings.append("LOST: key \(key) was acknowledged with events \(answered); the log holds \(stored)")
                } else if stored.count > answered.count {
                    duplicatedNow.insert(key)
                    findings.append("DUPLICATED: key \(key) was acknowledged with events \(answered); the log holds \(stored)")
                }
            }
            for key in state.refused where positionsByKey[key] != nil {
                findings.append("key \(key) was refused but has events \(positionsByKey[key] ?? [])")
            }
            for (key, stored) in positionsByKey where state.specs[key] == nil {
                findings.append("key \(key) in the log was never sent (events \(stored))")
            }
            for (key, stored) in positionsByKey where state.pending.contains(key) {
                // Committed but unanswered: fine, the retry must return exactly these.
                if let first = stored.first, let last = stored.last, stored != Array(first...last) { findings.append("key \(key): events not contiguous: \(stored)") }
            }
        }
        lost.formUnion(lostNow)
        duplicated.formUnion(duplicatedNow)
        return findings
    }

    /// The number of acknowledged commands checked, and their events.
    func totals(_ ledger: Ledger) -> (commands: Int, events: Int) {
        ledger.state.withLock { state in (state.acked.count, state.acked.values.reduce(0) { $0 + $1.count }) }
    }
}
