import Foundation
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
    ///
    /// The chain (hashes, links, positions, stream versions) is checked on a second thread
    /// while this one replays the events, so the two passes over the log overlap on two cores.
    public func verify(expectedHead: LogHead? = nil, progress: ((UInt64) -> Void)? = nil) throws -> Report {
        let chainCheck = ChainCheck(log: log)
        chainCheck.start()
        let replay: Replay
        do {
            replay = try self.replay(progress: progress)
        } catch {
            _ = try? chainCheck.wait()
            throw error
        }
        let chain = try chainCheck.wait()

        var findings: [Finding] = []
        func found(_ position: UInt64?, _ problem: String) {
            if findings.count < 100 { findings.append(Finding(position: position, problem: problem)) }
        }
        if let finding = chain.finding { found(finding.position, finding.problem) }
        if let expectedHead {
            if chain.head.position < expectedHead.position {
                found(chain.head.position + 1, "the log ends at \(chain.head.position) but its head was recorded at \(expectedHead.position): events are missing")
            } else if let stored = try log.event(at: expectedHead.position), stored.hash != expectedHead.hash {
                found(expectedHead.position, "the hash differs from the recorded head hash \(expectedHead.hash.hex)")
            }
        }
        if let checkpoint = replay.storedCheckpoint, checkpoint > chain.head.position {
            found(chain.head.position + 1, "the projections were built up to position \(checkpoint) but the log ends at \(chain.head.position): events are missing")
        }
        // Past a broken link nothing is trusted, so the replay's findings stop there.
        let trusted = chain.finding == nil ? UInt64.max : chain.head.position
        for finding in replay.findings where (finding.position ?? 0) <= trusted { found(finding.position, finding.problem) }
        let compared = replay.comparedAt.flatMap { $0 <= trusted ? $0 : nil }
        if chain.finding == nil { try checkIndexes(keys: replay.keys, events: chain.events, found: found) }
        return Report(
            events: chain.events, headPosition: chain.head.position, headHash: chain.head.hash.hex,
            projectionsCheckedAt: compared, findings: findings
        )
    }

    /// What the replay pass found and gathered.
    private struct Replay {
        var findings: [Finding] = []
        var keys: [IdempotencyKey: (first: UInt64, last: UInt64)] = [:]
        var storedCheckpoint: UInt64?
        var comparedAt: UInt64?
    }

    /// Decodes every event, checks its values and the domain's invariants, rebuilds the
    /// projections into a scratch store (in the system's temporary directory, removed
    /// afterwards) and compares them with the stored ones at their checkpoint. Memory stays
    /// flat in the log's size; the stored projections are read in one snapshot.
    private func replay(progress: ((UInt64) -> Void)?) throws -> Replay {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let rebuilt = try ProjectionDatabase(path: scratch.path + "/" + Engine.projectionsFile, readOnly: false, mapSize: 256 << 20)
        guard let projections else { return try replay(into: rebuilt, comparingWith: nil, progress: progress) }
        return try projections.environment.read { txn in
            try replay(into: rebuilt, comparingWith: LMDBProjections(database: projections, reader: txn, writer: nil), progress: progress)
        }
    }

    private func replay(into rebuilt: ProjectionDatabase, comparingWith stored: LMDBProjections?, progress: ((UInt64) -> Void)?) throws -> Replay {
        var result = Replay()
        let checkpoint = try stored?.checkpoint()
        result.storedCheckpoint = checkpoint
        if checkpoint == 0 { result.comparedAt = 0 }
        try MapGrowth.retrying(rebuilt.environment, maximum: EngineOptions().maxMapSize) {
            try rebuilt.write { view in try rebuilt.reset(in: view) }
        }
        let head = try log.head().position
        var from: UInt64 = 0
        while from < head {
            // One scratch transaction per chunk; a chunk that fills the map runs again, so its
            // findings are kept only once it commits.
            var chunk = Replay()
            var reached = from
            try MapGrowth.retrying(rebuilt.environment, maximum: EngineOptions().maxMapSize) {
                chunk = Replay(keys: result.keys)
                reached = from
                try rebuilt.write { view in
                    let projector = Projector(store: view)
                    func found(_ position: UInt64?, _ problem: String) { chunk.findings.append(Finding(position: position, problem: problem)) }
                    try log.scan(after: from, until: from + Self.chunk) { position, value in
                        reached = position
                        let event: StoredEvent
                        do { event = try StoredEvent(decoding: value) } catch {
                            found(position, "undecodable: \(error)")
                            return
                        }
                        let recorded = event.recorded
                        for problem in EventValidation.violations(of: recorded.event) { found(position, "\(recorded.type.name): \(problem)") }
                        for problem in try HistoryCheck.violations(of: recorded, before: view) { found(position, "\(recorded.type.name): \(problem)") }
                        if let key = recorded.idempotencyKey {
                            let span = chunk.keys[key]
                            chunk.keys[key] = (span?.first ?? position, position)
                        }
                        do {
                            try projector.apply(recorded)
                        } catch let error as ProjectionError {
                            found(position, "cannot be applied: \(error)")
                        }
                        if let stored, position == checkpoint {
                            try view.put(.meta, MetaKey.checkpoint, Key.bigEndian(position))
                            if let difference = try ProjectionDatabase.firstDifference(rebuilt: view, stored: stored) {
                                found(nil, "stored projections differ from a rebuild at checkpoint \(position): \(difference)")
                            }
                            chunk.comparedAt = position
                        }
                    }
                }
            }
            result.findings += chunk.findings.prefix(max(0, 10_000 - result.findings.count))
            result.keys = chunk.keys
            if let compared = chunk.comparedAt { result.comparedAt = compared }
            guard reached > from else { break }
            from = reached
            progress?(from)
        }
        return result
    }

    /// Events replayed per scratch transaction.
    private static let chunk: UInt64 = 16384

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

/// ``ChainVerifier`` run on a thread of its own.
private final class ChainCheck: @unchecked Sendable {
    private let verifier: ChainVerifier
    private let done = DispatchSemaphore(value: 0)
    // Written by the thread before it signals `done`, read only after `wait` returns.
    private var outcome: Result<ChainVerifier.Report, any Error>?

    init(log: EventLog) { verifier = ChainVerifier(log: log) }

    func start() {
        let thread = Thread { [self] in
            outcome = Result { try verifier.verify() }
            done.signal()
        }
        thread.name = "parley-chain-check"
        thread.start()
    }

    func wait() throws -> ChainVerifier.Report {
        done.wait()
        guard let outcome else { throw StoreError.corrupt(position: nil, reason: "the chain check ended without a result") }
        return try outcome.get()
    }
}
