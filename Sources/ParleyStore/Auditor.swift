import LMDB
import ParleyCore

/// Verifies a data directory without trusting the daemon: the hash chain, gapless positions
/// and stream versions, the stream and idempotency indexes, every event's values, the
/// domain's invariants over the whole history, and the stored projections against a rebuild.
///
/// Opens nothing for writing; safe beside a running daemon.
public struct Auditor {
    /// One thing found wrong.
    public struct Finding: Sendable, Hashable, CustomStringConvertible, Encodable {
        /// The position where it is, when it concerns one event.
        public var position: UInt64?
        /// What is wrong.
        public var problem: String
        /// `position N: problem`.
        public var description: String { position.map { "position \($0): \(problem)" } ?? problem }
    }

    /// The outcome of a verification.
    public struct Report: Sendable, Encodable {
        /// Events checked.
        public var events: Int
        /// The verified head position.
        public var headPosition: UInt64
        /// The verified head hash (hex).
        public var headHash: String
        /// The projections' checkpoint compared against a rebuild (nil when there were none to compare).
        public var projectionsCheckedAt: UInt64?
        /// Everything found wrong, in log order (at most 100).
        public var findings: [Finding]
        /// Whether nothing was found.
        public var ok: Bool { findings.isEmpty }
    }

    let log: EventLog
    let projections: ProjectionDatabase?

    /// Creates an auditor of `log`, comparing `projections` when given.
    public init(log: EventLog, projections: ProjectionDatabase?) {
        self.log = log
        self.projections = projections
    }

    /// Runs every check, calling `progress` with the position reached now and then.
    public func verify(expectedHead: LogHead? = nil, progress: ((UInt64) -> Void)? = nil) throws -> Report {
        var findings: [Finding] = []
        func found(_ position: UInt64?, _ problem: String) {
            if findings.count < 100 { findings.append(Finding(position: position, problem: problem)) }
        }

        // 1. The chain: positions, hashes, links, stream versions.
        let chain = try ChainVerifier(log: log).verify(progress: progress)
        if let finding = chain.finding { found(finding.position, finding.problem) }
        if let expectedHead {
            if chain.head.position < expectedHead.position {
                found(chain.head.position + 1, "the log ends at \(chain.head.position) but its head was recorded at \(expectedHead.position): events are missing")
            } else if let stored = try log.event(at: expectedHead.position), stored.hash != expectedHead.hash {
                found(expectedHead.position, "the hash differs from the recorded head hash \(expectedHead.hash.hex)")
            }
        }

        // 2. Projections snapshot (its checkpoint tells how far to compare).
        let stored = try projections?.snapshot()
        if let stored, stored.checkpoint > chain.head.position {
            found(chain.head.position + 1, "the projections were built up to position \(stored.checkpoint) but the log ends at \(chain.head.position): events are missing")
        }

        // 3. Replay: values, invariants, indexes, and the rebuild to compare.
        let memory = MemoryProjections()
        let projector = Projector(store: memory)
        var keys: [IdempotencyKey: (first: UInt64, last: UInt64)] = [:]
        var compared: UInt64?
        if let stored, stored.checkpoint == 0 { compared = 0 }
        let until = chain.finding == nil ? UInt64.max : chain.head.position
        try log.scan(until: until) { position, value in
            let event: StoredEvent
            do { event = try StoredEvent(decoding: value) } catch { return }
            let recorded = event.recorded
            for problem in EventValidation.violations(of: recorded.event) { found(position, "\(recorded.type.name): \(problem)") }
            for problem in try HistoryCheck.violations(of: recorded, before: memory) { found(position, "\(recorded.type.name): \(problem)") }
            if let key = recorded.idempotencyKey {
                let span = keys[key]
                keys[key] = (span?.first ?? position, position)
            }
            do {
                try projector.apply(recorded)
            } catch {
                found(position, "cannot be applied: \(error)")
            }
            if let stored, position == stored.checkpoint {
                memory.put(.meta, MetaKey.checkpoint, Key.bigEndian(position))
                compare(memory.dump(), stored.entries, at: position, found: found)
                compared = position
            }
        }
        try checkIndexes(keys: keys, events: chain.events, found: found)
        return Report(
            events: chain.events, headPosition: chain.head.position, headHash: chain.head.hash.hex,
            projectionsCheckedAt: compared, findings: findings
        )
    }

    private func compare(
        _ rebuilt: [(table: Table, key: [UInt8], value: [UInt8])], _ stored: [(table: Table, key: [UInt8], value: [UInt8])],
        at position: UInt64, found: (UInt64?, String) -> Void
    ) {
        let formatKey = Key.of("format")
        let storedEntries = stored.filter { !($0.table == .meta && $0.key == formatKey) }
        for (a, b) in zip(rebuilt, storedEntries) where a.table != b.table || a.key != b.key || a.value != b.value {
            let where_ = a.table != b.table || a.key != b.key ? "key \(printable(b.key)) in \(b.table.name) (rebuild has \(printable(a.key)) in \(a.table.name))" : "\(a.table.name) \(printable(a.key))"
            found(nil, "stored projections differ from a rebuild at checkpoint \(position): \(where_)")
            return
        }
        if rebuilt.count != storedEntries.count {
            found(nil, "stored projections have \(storedEntries.count) entries, a rebuild at checkpoint \(position) has \(rebuilt.count)")
        }
    }

    private func printable(_ key: [UInt8]) -> String {
        String(decoding: key.map { $0 == 0 ? UInt8(ascii: "/") : $0 }, as: UTF8.self)
    }

    /// The stream index holds exactly one entry per event; the idempotency index exactly the keys the events carry.
    private func checkIndexes(keys: [IdempotencyKey: (first: UInt64, last: UInt64)], events: Int, found: (UInt64?, String) -> Void) throws {
        let counts = try log.counts()
        if counts.streamEntries != events {
            found(nil, "the stream index has \(counts.streamEntries) entries for \(events) events")
        }
        var indexed = 0
        try log.environment.read { txn in
            let cursor = try txn.cursor(log.idempotency)
            var entry = try cursor.first()
            while entry != nil {
                indexed += 1
                entry = try cursor.next()
            }
        }
        for (key, span) in keys.sorted(by: { $0.value.first < $1.value.first }) {
            guard let entry = try log.idempotencyEntry(key) else {
                found(span.first, "idempotency key \(key.scope)/\(key.key) is missing from the index")
                continue
            }
            if entry.first != span.first || entry.last != span.last {
                found(span.first, "idempotency key \(key.scope)/\(key.key) indexes \(entry.first)...\(entry.last), its events are at \(span.first)...\(span.last)")
            }
        }
        let withoutEvents = indexed - keys.count
        if withoutEvents < 0 { found(nil, "the idempotency index lacks \(-withoutEvents) keys") }
    }
}
