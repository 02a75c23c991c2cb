import Foundation
import LMDB
import ParleyCore

/// Verifies a data directory without trusting the daemon: the hash chain, gapless positions
/// and stream versions, the idempotency index, every event's values, the
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

    /// The outcome of a verification, and exactly what was checked.
    public struct Report: Sendable, Encodable {
        /// Stored events read by the chain check (damaged or not).
        public var events: Int
        /// The chain check (hashes, `prevHash` links, gapless positions, stream versions)
        /// covered positions `chainCheckedFrom...chainCheckedThrough`: the whole log, past any damage.
        public var chainCheckedFrom: UInt64
        /// See ``chainCheckedFrom``; 0 for an empty log.
        public var chainCheckedThrough: UInt64
        /// Events whose values were checked against the constraints of `schemas/events/`:
        /// every event that decodes, over the whole log.
        public var valuesChecked: Int
        /// The replay (the domain's invariants over the history and the projections rebuilt)
        /// covered positions 1 through this one.
        public var replayedThrough: UInt64
        /// Where the replay stopped short of the end of the log: the damaged (or missing, or
        /// undecodable) event it cannot pass; nil when it replayed the whole log.
        public var replayStoppedAt: UInt64?
        /// The last stored event's position.
        public var headPosition: UInt64
        /// The hash stored with it (hex).
        public var headHash: String
        /// The stored projections' checkpoint (nil when there are none).
        public var projectionsCheckpoint: UInt64?
        /// The checkpoint at which the stored projections were compared with a rebuild (nil: not compared, see ``notes``).
        public var projectionsCheckedAt: UInt64?
        /// Whether the idempotency index was checked (it is only on an undamaged log).
        public var indexesChecked: Bool
        /// What was not checked and why, in plain sentences.
        public var notes: [String]
        /// Everything found wrong, one finding per position, in log order (at most 100).
        public var findings: [Finding]
        /// Findings beyond those listed.
        public var findingsLeftOff: Int
        /// Whether nothing was found.
        public var ok: Bool { findings.isEmpty && findingsLeftOff == 0 }
    }

    /// Findings listed in a report at most.
    public static let maximumFindings = 100

    let log: EventLog
    let projections: ProjectionDatabase?
    let projectionsLeftOut: String?

    /// Creates an auditor of `log`, comparing `projections` when given.
    /// - Parameter projectionsLeftOut: Why stored projections are not given, for the report's notes.
    public init(log: EventLog, projections: ProjectionDatabase?, projectionsLeftOut: String? = nil) {
        self.log = log
        self.projections = projections
        self.projectionsLeftOut = projectionsLeftOut
    }

    /// Runs every check, calling `progress` with the position reached now and then.
    ///
    /// The chain (hashes, links, positions, stream versions) is checked on a second thread
    /// while this one replays the events, so the two passes over the log overlap on two cores.
    /// The chain check and the values check go on past a damaged event to the end of the log;
    /// the replay, which builds on every event before, stops at the first damaged one (it
    /// waits for the chain check to have passed each chunk before replaying it).
    public func verify(expectedHead: LogHead? = nil, progress: ((UInt64) -> Void)? = nil) throws -> Report {
        let chainCheck = ChainCheck(log: log)
        chainCheck.start()
        let replay: Replay
        do {
            replay = try self.replay(chain: chainCheck, progress: progress)
        } catch {
            _ = try? chainCheck.wait()
            throw error
        }
        let chain = try chainCheck.wait()
        let last = chain.head.position
        let firstDamage = chain.findings.first?.position

        var collected: [Finding] = chain.findings.map { Finding(position: $0.position, problem: $0.problem) }
        var notes: [String] = []
        if let expectedHead {
            if last < expectedHead.position {
                collected.append(
                    Finding(
                        position: last + 1,
                        problem:
                            "the log ends at \(last) but its head was recorded at \(expectedHead.position): events are missing"
                    ))
            } else if let stored = try log.storedHash(at: expectedHead.position), stored != expectedHead.hash {
                collected.append(
                    Finding(
                        position: expectedHead.position,
                        problem: "the hash differs from the recorded head hash \(expectedHead.hash.hex)"))
            }
        }
        if let checkpoint = replay.storedCheckpoint, checkpoint > last {
            collected.append(
                Finding(
                    position: last + 1,
                    problem:
                        "the projections were built up to position \(checkpoint) but the log ends at \(last): events are missing"
                ))
        }
        // The index counts would only repeat that events are missing.
        let cutShort = collected.count > chain.findings.count
        collected += replay.findings
        // A comparison made at or past a damaged position would compare untrusted events.
        let compared = replay.comparedAt.flatMap { $0 < (firstDamage ?? .max) ? $0 : nil }
        let replayedThrough = min(replay.reached, (firstDamage ?? .max) - 1)

        if let stop = replay.stoppedAt {
            let what =
                replay.stoppedUndecodable
                ? "undecodable event"
                : chain.findings.first { $0.position == stop }?.missing == true ? "missing event" : "damaged event"
            let covered = replayedThrough == 0 ? "no event" : "positions 1…\(replayedThrough)"
            notes.append(
                "the replay (domain invariants, projections) stopped at the \(what) at \(stop): it covered \(covered)")
            if let checkpoint = replay.storedCheckpoint, compared == nil {
                notes.append(
                    "projections not compared: the stored ones are at position \(checkpoint), and the replay stopped at the \(what) at \(stop), so it rebuilt them only up to \(replayedThrough)"
                )
            }
        } else if let checkpoint = replay.storedCheckpoint, compared == nil {
            notes.append(
                "projections not compared: the stored ones are at position \(checkpoint), past the log's last event \(last)"
            )
        }
        if replay.storedCheckpoint == nil {
            notes.append("projections not compared: \(projectionsLeftOut ?? "there are no stored projections")")
        }
        let damaged = !chain.findings.isEmpty || chain.findingsLeftOff > 0 || replay.stoppedAt != nil
        let indexesChecked = !damaged && !cutShort
        if indexesChecked {
            try checkIndexes(keys: replay.keys, into: &collected)
        } else {
            notes.append(
                "idempotency index not checked: \(damaged ? "the log is damaged" : "events are missing from its end")"
            )
        }

        // One finding per position, the problems of a position joined.
        let (findings, leftOff) = collected.mergedByPosition(\.position, limit: Self.maximumFindings) {
            $0.problem.addProblem($1.problem)
        }
        return Report(
            events: chain.events, chainCheckedFrom: chain.checked?.lowerBound ?? 0,
            chainCheckedThrough: chain.checked?.upperBound ?? 0,
            valuesChecked: replay.valuesChecked, replayedThrough: replayedThrough, replayStoppedAt: replay.stoppedAt,
            headPosition: last, headHash: chain.head.hash.hex,
            projectionsCheckpoint: replay.storedCheckpoint, projectionsCheckedAt: compared,
            indexesChecked: indexesChecked, notes: notes,
            findings: findings, findingsLeftOff: leftOff + chain.findingsLeftOff + replay.findingsLeftOff
        )
    }

    /// What the replay pass found and gathered.
    private struct Replay {
        var findings: [Finding] = []
        var findingsLeftOff = 0
        var keys: [IdempotencyKey: (first: UInt64, last: UInt64)] = [:]
        var storedCheckpoint: UInt64?
        var comparedAt: UInt64?
        /// The last position applied to the rebuild.
        var reached: UInt64 = 0
        /// The position the replay could not pass.
        var stoppedAt: UInt64?
        /// Whether it stopped because the event there does not decode (the chain check found nothing there).
        var stoppedUndecodable = false
        var valuesChecked = 0

        mutating func add(_ more: [Finding]) {
            let room = max(0, 10_000 - findings.count)
            findings += more.prefix(room)
            findingsLeftOff += max(0, more.count - room)
        }
    }

    /// Decodes every event, checks its values and the domain's invariants, rebuilds the
    /// projections into a scratch store (in the system's temporary directory, removed
    /// afterwards) and compares them with the stored ones at their checkpoint, up to the
    /// first damaged event; from there checks the values of every event to the end. Memory
    /// stays flat in the log's size; the stored projections are read in one snapshot.
    private func replay(chain: ChainCheck, progress: ((UInt64) -> Void)?) throws -> Replay {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let rebuilt = try ProjectionDatabase(
            path: DataDirectory(scratch.path).projections, readOnly: false, mapSize: 256 << 20)
        var result: Replay
        if let projections {
            result = try projections.environment.read { txn in
                try replay(
                    into: rebuilt, comparingWith: LMDBProjections(database: projections, reader: txn, writer: nil),
                    chain: chain, progress: progress)
            }
        } else {
            result = try replay(into: rebuilt, comparingWith: nil, chain: chain, progress: progress)
        }
        if let stop = result.stoppedAt { try checkValues(from: stop, into: &result, progress: progress) }
        return result
    }

    private func replay(
        into rebuilt: ProjectionDatabase, comparingWith stored: LMDBProjections?, chain: ChainCheck,
        progress: ((UInt64) -> Void)?
    ) throws -> Replay {
        var result = Replay()
        let checkpoint = try stored?.checkpoint()
        result.storedCheckpoint = checkpoint
        if checkpoint == 0 { result.comparedAt = 0 }
        try MapGrowth.retrying(rebuilt.environment, maximum: EngineOptions().maxMapSize) {
            try rebuilt.write { view in try rebuilt.reset(in: view) }
        }
        let last = try log.lastStoredPosition()
        var from: UInt64 = 0
        while from < last {
            // Replay only what the chain check has passed: nothing from the first damaged event on.
            let checked = chain.progress(beyond: from)
            var until = min(from + Self.chunk, last, checked.through)
            if let damage = checked.firstDamage, damage <= until {
                result.stoppedAt = damage
                until = max(damage, 1) - 1  // a damaged key may read as position 0
            }
            guard until > from else { break }
            // One scratch transaction per chunk; a chunk that fills the map runs again, so its
            // findings are kept only once it commits.
            var chunk = Replay()
            try MapGrowth.retrying(rebuilt.environment, maximum: EngineOptions().maxMapSize) {
                chunk = Replay(keys: result.keys, reached: from)
                try rebuilt.write { view in
                    let projector = Projector(store: view)
                    func found(_ position: UInt64?, _ problem: String) {
                        chunk.findings.append(Finding(position: position, problem: problem))
                    }
                    try log.scan(after: from, until: until) { position, value in
                        guard chunk.stoppedAt == nil else { return }
                        let event: StoredEvent
                        do { event = try StoredEvent(decoding: value) } catch {
                            // Reported by the values check, which starts here.
                            chunk.stoppedAt = position
                            return
                        }
                        chunk.reached = position
                        chunk.valuesChecked += 1
                        let recorded = event.recorded
                        for problem in EventValidation.violations(of: recorded.event) {
                            found(position, "\(recorded.type.name): \(problem)")
                        }
                        for problem in try HistoryCheck.violations(of: recorded, before: view) {
                            found(position, "\(recorded.type.name): \(problem)")
                        }
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
                                found(
                                    nil,
                                    "stored projections differ from a rebuild at checkpoint \(position): \(difference)")
                            }
                            chunk.comparedAt = position
                        }
                    }
                }
            }
            result.add(chunk.findings)
            result.keys = chunk.keys
            result.valuesChecked += chunk.valuesChecked
            if let compared = chunk.comparedAt { result.comparedAt = compared }
            if let undecodable = chunk.stoppedAt {
                result.stoppedAt = undecodable
                result.stoppedUndecodable = true
            }
            guard chunk.reached > from else { break }
            from = chunk.reached
            result.reached = from
            progress?(from)
            if result.stoppedAt != nil { break }
        }
        return result
    }

    /// From the position the replay stopped at to the end of the log: whether each event
    /// decodes, and its values.
    private func checkValues(from stop: UInt64, into result: inout Replay, progress: ((UInt64) -> Void)?) throws {
        var checked = 0
        try log.scan(after: stop - 1) { position, value in
            defer { if position % Self.chunk == 0 { progress?(position) } }
            let event: StoredEvent
            do { event = try StoredEvent(decoding: value) } catch {
                result.add([Finding(position: position, problem: "undecodable: \(error)")])
                return
            }
            checked += 1
            let recorded = event.recorded
            result.add(
                EventValidation.violations(of: recorded.event).map {
                    Finding(position: position, problem: "\(recorded.type.name): \($0)")
                })
        }
        result.valuesChecked += checked
    }

    /// Events replayed per scratch transaction.
    private static let chunk: UInt64 = 16384

    /// The idempotency index holds exactly the keys the events carry. (Stream versions are
    /// checked in the chain; the projections' `streamVersions` in the comparison with a rebuild.)
    private func checkIndexes(keys: [IdempotencyKey: (first: UInt64, last: UInt64)], into findings: inout [Finding]) throws {
        func found(_ position: UInt64?, _ problem: String) {
            findings.append(Finding(position: position, problem: problem))
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
                found(
                    span.first,
                    "idempotency key \(key.scope)/\(key.key) indexes \(entry.first)...\(entry.last), its events are at \(span.first)...\(span.last)"
                )
            }
        }
        let withoutEvents = indexed - keys.count
        if withoutEvents < 0 { found(nil, "the idempotency index lacks \(-withoutEvents) keys") }
    }
}

/// ``ChainVerifier`` run on a thread of its own, telling the replay how far it has got.
private final class ChainCheck: @unchecked Sendable {
    private let verifier: ChainVerifier
    private let condition = NSCondition()
    // Guarded by `condition`.
    private var through: UInt64 = 0
    private var damage: UInt64?
    private var outcome: Result<ChainVerifier.Report, any Error>?

    init(log: EventLog) { verifier = ChainVerifier(log: log) }

    func start() {
        let thread = Thread { [self] in
            let result = Result { try verifier.verify(every: 4096) { through, damage in publish(through, damage) } }
            condition.lock()
            outcome = result
            through = .max
            condition.broadcast()
            condition.unlock()
        }
        thread.name = "parley-chain-check"
        thread.start()
    }

    private func publish(_ position: UInt64, _ firstDamage: UInt64?) {
        condition.lock()
        through = position
        damage = firstDamage
        condition.broadcast()
        condition.unlock()
    }

    /// How far the check has read the log, once that is past `position` (waits until then),
    /// and the first damaged position found so far. When the check has ended, `through` is
    /// `UInt64.max`; when it failed, ``wait()`` throws.
    func progress(beyond position: UInt64) -> (through: UInt64, firstDamage: UInt64?) {
        condition.lock()
        defer { condition.unlock() }
        while through <= position { condition.wait() }
        return (through, damage)
    }

    func wait() throws -> ChainVerifier.Report {
        condition.lock()
        defer { condition.unlock() }
        while outcome == nil { condition.wait() }
        guard let outcome else {
            throw StoreError.corrupt(position: nil, reason: "the chain check ended without a result")
        }
        return try outcome.get()
    }
}

extension EventLog {
    /// The position of the last stored event (0 for an empty log), read from its key
    /// alone: it answers for a damaged log too.
    public func lastStoredPosition() throws(StoreError) -> UInt64 {
        do {
            return try environment.read { txn in try txn.cursor(events).last().map { Self.position(of: $0.key) } ?? 0 }
        } catch { throw StoreError.wrap(error) }
    }

    /// The hash stored with the event at `position`, as stored (nil when there is no such event
    /// or it is too short to hold one).
    func storedHash(at position: UInt64) throws(StoreError) -> ChainHash? {
        do {
            return try environment.read { txn in
                try txn.get(events, Key.bigEndian(position)).flatMap { value in
                    value.count > StoredEvent.headerSize
                        ? ChainHash(UnsafeRawBufferPointer(rebasing: value[33..<65])) : nil
                }
            }
        } catch { throw StoreError.wrap(error) }
    }
}
