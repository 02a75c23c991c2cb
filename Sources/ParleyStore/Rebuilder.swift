import Foundation
import LMDB
import ParleyCore
#if canImport(Glibc)
import Glibc
#endif

/// Rebuilds a data directory's projections from its log into a new file and swaps it in
/// with one `rename`, so an interrupted rebuild leaves the old projections in place.
/// The log is opened read-only and never written.
public enum Rebuilder {
    /// Rebuilds; the daemon must not be running (the caller checks the directory lock).
    /// - Returns: The number of events applied.
    @discardableResult
    public static func rebuild(directory: String, progress: ((UInt64, UInt64) -> Void)? = nil) throws -> Int {
        let log = try EventLog(path: DataDirectory(directory).log, readOnly: true, mapSize: 64 << 20)
        let head = try log.head()
        let target = DataDirectory(directory).projections
        let scratch = target + ".rebuild"
        unlink(scratch)
        unlink(scratch + "-lock")
        let applied: Int
        do {
            let projections = try ProjectionDatabase(path: scratch, readOnly: false, mapSize: 64 << 20)
            applied = try projections.apply(
                from: log, after: 0, to: head.position, reset: true, maxMapSize: EngineOptions().maxMapSize
            ) { progress?($0, head.position) }
            try projections.environment.sync(force: true)
        }
        guard rename(scratch, target) == 0 else {
            throw StoreError.system(SystemError("rename \(scratch)"))
        }
        // The new file's own lock file replaces the old one, whose reader table described the old file.
        rename(scratch + "-lock", target + "-lock")
        try DurableFiles.sync(directory)
        // Synced and in place: nothing a system crash could tear is left.
        try UnsyncedMarker.clear(in: DataDirectory(directory))
        return applied
    }
}
