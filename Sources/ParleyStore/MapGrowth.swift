import LMDB
import ParleyCore

/// Growing an LMDB map when it fills: doubled each time, never past a maximum.
enum MapGrowth {
    /// Doubles the map of `environment`, up to `maximum`.
    /// - Throws: ``StoreError/full(mapSize:)`` when it is already at the maximum.
    static func grow(_ environment: Environment, maximum: Int) throws {
        let current = environment.mapSize
        guard current < maximum else { throw StoreError.full(mapSize: current) }
        try environment.setMapSize(min(current * 2, maximum))
    }

    /// Runs `body` (a whole write transaction), growing the map and running it again while it reports map-full.
    static func retrying<R>(_ environment: Environment, maximum: Int, _ body: () throws -> R) throws -> R {
        while true {
            do { return try body() } catch let error as LMDBError where error.isMapFull {
                try grow(environment, maximum: maximum)
            }
        }
    }
}

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
