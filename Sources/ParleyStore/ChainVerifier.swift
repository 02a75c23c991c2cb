import ParleyCore

/// Checks the log's own integrity: gapless positions from 1, every event's hash, the
/// chain of `prevHash` links, and gapless stream versions. Reads only the front of each
/// event (position, stream, version); decoding whole events is the ``Auditor``'s replay.
///
/// A damaged event does not stop it: it goes on to the end of the log and reports each
/// damaged position once, without blaming the events after it for what was done to it.
/// A changed body is its own hash mismatch (the next event's `prevHash` still names the
/// stored hash); a deleted event is the gap, at the missing position (the next event's link
/// and the stream version it skips are explained by the gap); two swapped events are the
/// two positions that hold each other's event (links are followed by the position an event
/// names, so the chain past them is whole); an event changed with its own hash recomputed
/// is the `prevHash` break at the next event.
public struct ChainVerifier {
    /// What was found wrong, at which position.
    public struct Finding: Sendable, Hashable, CustomStringConvertible {
        /// The damaged position (for a gap, the first missing one).
        public var position: UInt64
        /// What is wrong, for a person (several problems of one position are joined by "; ").
        public var problem: String
        /// Whether the log holds no event at `position` (a gap).
        public var missing: Bool
        /// `position N: problem`.
        public var description: String { "position \(position): \(problem)" }
    }

    /// The result of a verification.
    public struct Report: Sendable, Hashable {
        /// Stored events read (damaged or not).
        public var events: Int
        /// The last stored event: its position and the hash stored with it (whether or not it verifies).
        public var head: LogHead
        /// Every damaged position, once, in log order (at most ``maximumFindings``).
        public var findings: [Finding]
        /// Damaged positions found beyond those listed.
        public var findingsLeftOff: Int
        /// The positions the check covered: from 1 to the last stored event (nil for an empty log).
        public var checked: ClosedRange<UInt64>? { head.position == 0 ? nil : 1...head.position }
        /// The first finding, if any.
        public var finding: Finding? { findings.first }
    }

    /// Findings listed in a report at most.
    public static let maximumFindings = 1000

    let log: EventLog

    /// Creates a verifier of `log`.
    public init(log: EventLog) { self.log = log }

    /// Verifies the whole log, calling `progress` with the position reached every 65 536 events.
    public func verify(progress: ((UInt64) -> Void)? = nil) throws -> Report {
        try verify(every: 65536) { through, _ in if through != .max { progress?(through) } }
    }

    /// Verifies the whole log, calling `checked` every `interval` events with the last
    /// position read and the first damaged position found so far, and once at the end with
    /// `UInt64.max`. Every finding reported later lies past a position already reported
    /// damaged, so the first damaged position, once given, never moves back.
    func verify(every interval: Int, checked: (_ through: UInt64, _ firstDamage: UInt64?) -> Void) throws -> Report {
        var walk = Walk()
        try log.scan { position, value in
            walk.check(position, value)
            if walk.count % interval == 0 { checked(position, walk.firstDamage) }
        }
        let report = walk.finish()
        checked(.max, report.findings.first?.position)
        return report
    }
}

/// The state of one pass over the log: bounded by a window of recent events, whatever the log's length.
private struct Walk {
    /// Recent events whose hashes are kept for following links.
    static let window = 1024
    /// Problems kept before merging by position.
    static let maximumProblems = 10_000

    var count = 0
    var head = LogHead.empty
    var firstDamage: UInt64?

    private var expected: UInt64 = 1
    /// Hashes of recent events, in the slot of the position they are known as (modulo the
    /// window): that position, the stored hash, and the recomputed one when it differs.
    private var recent = [(identity: UInt64, stored: ChainHash, computed: ChainHash?)?](repeating: nil, count: window)
    /// Recent gaps.
    private var gaps: [ClosedRange<UInt64>] = []
    /// Links whose event before has not been read yet: by the position that event should have.
    private var waiting: [UInt64: [(prevHash: ChainHash, at: UInt64)]] = [:]
    private var versions: [String: UInt64] = [:]
    /// Events missing or unreadable, each of which may explain one skipped stream version.
    private var unaccounted: UInt64 = 0
    private var problems: [(position: UInt64, problem: String, missing: Bool)] = []
    private var problemsLeftOff = 0

    mutating func check(_ position: UInt64, _ value: UnsafeRawBufferPointer) {
        count += 1
        if position > expected {
            let gap = expected...(position - 1)
            let extent =
                gap.lowerBound == gap.upperBound
                ? "missing" : "missing, and the \(gap.upperBound - gap.lowerBound) positions after it"
            let around =
                expected == 1 ? "the log starts at \(position)" : "the log goes from \(expected - 1) to \(position)"
            note(expected, "\(extent): \(around)", missing: true)
            gaps.append(gap)
            if gaps.count > Self.window { gaps.removeFirst(gaps.count - Self.window) }
            unaccounted += gap.upperBound - gap.lowerBound + 1
        }
        expected = position &+ 1
        guard value.count > StoredEvent.headerSize else {
            note(position, "not a stored event (\(value.count) bytes)")
            head = LogHead(position: position, hash: .zero)
            unaccounted += 1
            return
        }
        var fields: StoredEvent.ChainFields?
        do { fields = try StoredEvent.chainFields(of: value) } catch { note(position, "undecodable: \(error)") }
        let prevHash = fields?.prevHash ?? ChainHash(UnsafeRawBufferPointer(rebasing: value[1..<33]))
        let hash = fields?.hash ?? ChainHash(UnsafeRawBufferPointer(rebasing: value[33..<65]))
        head = LogHead(position: position, hash: hash)
        let computed = StoredEvent.computedHash(of: value) ?? .zero
        let intact = computed == hash
        if !intact { note(position, "hash does not match the event's bytes") }

        // Which event this is: the position its body names when its bytes are intact, else its key.
        var identity = position
        if let fields, fields.position != position {
            note(position, "holds the event of position \(fields.position)")
            if intact { identity = fields.position }
        }
        // The link to the event before it, wherever that is stored.
        if identity == 1 {
            if prevHash != .zero { note(position, "prevHash of the first event is not zero") }
        } else if let before = recalled(identity - 1) {
            if prevHash != before.stored && prevHash != before.computed {
                note(position, "prevHash does not match the hash of the event at \(identity - 1)")
            }
        } else if !gaps.contains(where: { $0.contains(identity - 1) }) {
            waiting[identity - 1, default: []].append((prevHash, position))
        }
        if !waiting.isEmpty, let links = waiting.removeValue(forKey: identity) {
            for link in links where link.prevHash != hash && link.prevHash != computed {
                note(link.at, "prevHash does not match the hash of the event at \(identity)")
            }
        }
        remember(identity, stored: hash, computed: intact ? nil : computed)

        // Stream versions, from intact events only: a changed event's stream is not known.
        guard let fields, intact else {
            unaccounted += 1
            return
        }
        let last = versions[fields.stream] ?? 0
        let version = fields.streamVersion
        if version == last + 1 {
            versions[fields.stream] = version
        } else if version > last + 1, version - last - 1 <= unaccounted {
            unaccounted -= version - last - 1
            versions[fields.stream] = version
        } else {
            note(position, "stream \(fields.stream) version \(version), expected \(last + 1)")
            versions[fields.stream] = max(last, version)
        }
    }

    private func recalled(_ identity: UInt64) -> (stored: ChainHash, computed: ChainHash?)? {
        guard let slot = recent[Int(identity % UInt64(Self.window))], slot.identity == identity else { return nil }
        return (slot.stored, slot.computed)
    }

    private mutating func remember(_ identity: UInt64, stored: ChainHash, computed: ChainHash?) {
        let index = Int(identity % UInt64(Self.window))
        // The first event known as a position keeps it (a second is reported where it is stored).
        if let slot = recent[index], slot.identity == identity { return }
        recent[index] = (identity, stored, computed)
    }

    private mutating func note(_ position: UInt64, _ problem: String, missing: Bool = false) {
        firstDamage = min(firstDamage ?? position, position)
        if problems.count < Self.maximumProblems {
            problems.append((position, problem, missing))
        } else {
            problemsLeftOff += 1
        }
    }

    /// The report: problems merged into one finding per position.
    mutating func finish() -> ChainVerifier.Report {
        for (before, links) in waiting.sorted(by: { $0.key < $1.key }) {
            for link in links { note(link.at, "prevHash names an event the log does not hold at \(before)") }
        }
        waiting = [:]
        let (findings, leftOff) = problems.map {
            ChainVerifier.Finding(position: $0.position, problem: $0.problem, missing: $0.missing)
        }.mergedByPosition(\.position, limit: ChainVerifier.maximumFindings) { first, later in
            first.problem.addProblem(later.problem)
            first.missing = first.missing || later.missing
        }
        return ChainVerifier.Report(
            events: count, head: head, findings: findings, findingsLeftOff: leftOff + problemsLeftOff)
    }
}
