import LMDB
import ParleyCore

extension ProjectionDatabase {
    /// Events applied per write transaction when replaying the log.
    static let replayChunk: UInt64 = 16384

    /// Applies the log's events after `position` up to `head`, in chunks of one write transaction
    /// each, growing the map as needed. Starts from empty tables when `reset` is set.
    /// - Returns: The number of events applied.
    func apply(
        from log: EventLog, after position: UInt64, to head: UInt64, reset: Bool, maxMapSize: Int,
        progress: ((UInt64) -> Void)? = nil
    ) throws -> Int {
        if reset {
            try MapGrowth.retrying(environment, maximum: maxMapSize) { try write { view in try self.reset(in: view) } }
        }
        var from = reset ? 0 : position
        var applied = 0
        while from < head {
            var reached = from
            try MapGrowth.retrying(environment, maximum: maxMapSize) {
                reached = from
                try write { view in
                    let projector = Projector(store: view)
                    // Raw values straight from the log: no hashes or arrays of events made on the way.
                    try log.scan(after: from, until: min(head, from + Self.replayChunk)) { position, value in
                        try projector.apply(StoredEvent.recordedEvent(decoding: value, at: position))
                        reached = position
                    }
                    if reached > from { try view.put(.meta, MetaKey.checkpoint, Key.bigEndian(reached)) }
                }
            }
            guard reached > from else { break }
            applied += Int(reached - from)
            from = reached
            progress?(from)
        }
        return applied
    }
}
