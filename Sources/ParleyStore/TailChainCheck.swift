import ParleyCore

/// The rules the open checks apply to each event of the log's tail, without I/O (so the fuzz
/// target runs them on mutated events as the daemon does): positions gapless from `after + 1`,
/// each event decodes, says its own position, links to the one before and carries the hash of
/// its own bytes; at the end, the last position is the head's.
public struct TailChainCheck: Sendable {
    /// The position the next event must have.
    public private(set) var expected: UInt64
    /// The hash the next event must link to.
    private var previous: ChainHash

    /// Checks the events after `after`, whose hash is `previous` (``ChainHash/zero`` for none).
    public init(after: UInt64, previous: ChainHash) {
        expected = after + 1
        self.previous = previous
    }

    /// Checks the next event, stored at `position` with the bytes `value`.
    /// - Throws: ``StoreError/corrupt(position:reason:)`` naming the damaged position.
    public mutating func check(position: UInt64, value: UnsafeRawBufferPointer) throws(StoreError) {
        guard position == expected else {
            throw StoreError.corrupt(position: expected, reason: "the event is missing (the next one is at \(position))")
        }
        let stored: StoredEvent
        do { stored = try StoredEvent(decoding: value) } catch {
            throw StoreError.corrupt(position: position, reason: "the event does not decode (\(error))")
        }
        guard stored.recorded.position == position else {
            throw StoreError.corrupt(position: position, reason: "the event says position \(stored.recorded.position)")
        }
        guard stored.prevHash == previous else {
            throw StoreError.corrupt(position: position, reason: "prevHash does not match the previous event's hash")
        }
        guard StoredEvent.computedHash(of: value) == stored.hash else {
            throw StoreError.corrupt(position: position, reason: "the hash does not match the event's bytes")
        }
        previous = stored.hash
        expected += 1
    }

    /// After the last event: every position up to the head's was there.
    public func finish(head: LogHead) throws(StoreError) {
        guard expected == head.position + 1 else { throw StoreError.corrupt(position: expected, reason: "the event is missing") }
    }
}
