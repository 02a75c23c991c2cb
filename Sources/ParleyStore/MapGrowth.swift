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
