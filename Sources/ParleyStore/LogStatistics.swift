import Foundation
import ParleyCore

/// What is in a data directory: events by type, streams, sizes, map use, readers.
public struct LogStatistics: Sendable, Encodable {
    /// Events in the log.
    public var events: Int
    /// Events per type name.
    public var eventsByType: [String: Int]
    /// Distinct streams.
    public var streams: Int
    /// The head position.
    public var headPosition: UInt64
    /// The projections' checkpoint.
    public var projectionsCheckpoint: UInt64?
    /// File sizes in bytes.
    public var logFileBytes: Int
    public var projectionsFileBytes: Int
    /// Bytes of the log's map in use and its size.
    public var logMapUsedBytes: Int
    public var logMapSizeBytes: Int
    /// LMDB reader slots in use on the log now, by any process.
    public var logReaders: Int
    /// The most reader slots ever in use at once on the log (since its lock file was made).
    public var logReaderSlotsUsed: Int

    /// Reads the statistics of `directory` (read-only).
    public static func of(directory: String, progress: ((UInt64) -> Void)? = nil) throws -> LogStatistics {
        let log = try EventLog(path: DataDirectory(directory).log, readOnly: true, mapSize: 64 << 20)
        var byType: [String: Int] = [:]
        var streams = Set<String>()
        var count = 0
        try log.scan { position, value in
            let stored = try StoredEvent(decoding: value)
            byType[stored.recorded.type.name, default: 0] += 1
            streams.insert(stored.recorded.stream)
            count += 1
            if count % 65536 == 0 { progress?(position) }
        }
        let projectionsPath = DataDirectory(directory).projections
        var checkpoint: UInt64?
        // Another version's projections, or ones a system crash may have torn, have no checkpoint
        // to give: the daemon rebuilds them at its next start.
        if FileManager.default.fileExists(atPath: projectionsPath), UnsyncedMarker.distrust(of: DataDirectory(directory)) == nil,
            let projections = try ProjectionDatabase.ifCurrentFormat(path: projectionsPath)
        {
            checkpoint = try projections.read { try $0.checkpoint() }
        }
        let info = log.environment.info()
        func size(_ path: String) -> Int { ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int) ?? 0 }
        return LogStatistics(
            events: count, eventsByType: byType, streams: streams.count, headPosition: try log.head().position,
            projectionsCheckpoint: checkpoint, logFileBytes: size(DataDirectory(directory).log),
            projectionsFileBytes: size(projectionsPath), logMapUsedBytes: (info.lastPageNumber + 1) * info.pageSize,
            logMapSizeBytes: info.mapSize, logReaders: log.environment.readersInUse(), logReaderSlotsUsed: info.readersUsed
        )
    }
}
