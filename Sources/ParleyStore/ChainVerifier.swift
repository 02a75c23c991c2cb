import ParleyCore

/// Checks the log's own integrity: gapless positions from 1, every event's hash, the
/// chain of `prevHash` links, and gapless stream versions. Reads only the front of each
/// event (position, stream, version); decoding whole events is the ``Auditor``'s replay.
public struct ChainVerifier {
    /// What was found wrong, at which position.
    public struct Finding: Sendable, Hashable, CustomStringConvertible {
        /// The first position where the log is wrong.
        public var position: UInt64
        /// What is wrong, for a person.
        public var problem: String
        /// `position N: problem`.
        public var description: String { "position \(position): \(problem)" }
    }

    /// The result of a verification.
    public struct Report: Sendable, Hashable {
        /// Events checked.
        public var events: Int
        /// The head reached.
        public var head: LogHead
        /// The first finding, if any (verification stops there: later hashes depend on it).
        public var finding: Finding?
    }

    let log: EventLog

    /// Creates a verifier of `log`.
    public init(log: EventLog) { self.log = log }

    /// Verifies the whole log, calling `progress` with the position reached every chunk.
    public func verify(progress: ((UInt64) -> Void)? = nil) throws -> Report {
        var expected: UInt64 = 1
        var previous = ChainHash.zero
        var versions: [String: UInt64] = [:]
        var finding: Finding?
        var count = 0
        struct Stop: Error {}
        do {
            try log.scan { position, value in
                func fail(_ problem: String) throws -> Never {
                    finding = Finding(position: position, problem: problem)
                    throw Stop()
                }
                if position != expected {
                    try fail(position > expected ? "gap: position \(expected) is missing" : "position out of order")
                }
                let stored: StoredEvent.ChainFields
                do { stored = try StoredEvent.chainFields(of: value) } catch { try fail("undecodable: \(error)") }
                if stored.position != position {
                    try fail("event says position \(stored.position) but is stored at \(position)")
                }
                if stored.prevHash != previous { try fail("prevHash does not match the previous event's hash") }
                if StoredEvent.computedHash(of: value) != stored.hash { try fail("hash does not match the event's bytes") }
                let version = (versions[stored.stream] ?? 0) + 1
                if stored.streamVersion != version {
                    try fail("stream \(stored.stream) version \(stored.streamVersion), expected \(version)")
                }
                versions[stored.stream] = version
                previous = stored.hash
                expected += 1
                count += 1
                if count % 65536 == 0 { progress?(position) }
            }
        } catch is Stop {}
        return Report(events: count, head: LogHead(position: expected - 1, hash: previous), finding: finding)
    }
}
