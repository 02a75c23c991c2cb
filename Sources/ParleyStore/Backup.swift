import Foundation
import LMDB
import ParleyCore

#if canImport(Glibc)
    import Glibc
#endif

/// Consistent, compacted copies of a data directory, safe beside a running daemon.
public enum Backup {
    /// Copies the projections, then the log (so the copy's log is never behind its projections),
    /// each as one consistent snapshot compacted with `mdb_env_copy2`.
    ///
    /// Each file is written under a `.partial` name, flushed, and renamed into place, the log
    /// last: an interrupted backup never leaves a `log.mdb` that is not whole, and running it
    /// again into the same place replaces what the interrupted one left. A destination that
    /// already holds a `log.mdb` (a finished backup) is refused.
    /// - Returns: The head of the copied log.
    public static func copy(directory: String, to destination: String) throws -> LogHead {
        let source = DataDirectory(directory)
        let target = DataDirectory(destination)
        if mkdir(destination, 0o750) != 0, errno != EEXIST {
            throw StoreError.system(SystemError("mkdir \(destination)"))
        }
        if FileManager.default.fileExists(atPath: target.log) {
            throw StoreError.system(SystemError("backup into \(target.log)", code: EEXIST))
        }
        // Projections of another format, or possibly torn by a system crash, are left out: they
        // are derived, and a daemon started on the copy rebuilds them from its log.
        if FileManager.default.fileExists(atPath: source.projections), UnsyncedMarker.distrust(of: source) == nil,
            let projections = try ProjectionDatabase.ifCurrentFormat(path: source.projections)
        {
            try place(target.projections) { try projections.environment.copy(to: $0, compact: true) }
        }
        let log = try EventLog(path: source.log, readOnly: true, mapSize: 64 << 20)
        try place(target.log) { try log.environment.copy(to: $0, compact: true) }
        return try EventLog(path: target.log, readOnly: true, mapSize: 64 << 20).head()
    }

    /// Writes `path` through `write` under a `.partial` name, flushes it, and renames it into place.
    private static func place(_ path: String, _ write: (String) throws -> Void) throws {
        let partial = path + ".partial"
        unlink(partial)
        try write(partial)
        try DurableFiles.sync(partial)
        guard rename(partial, path) == 0 else {
            throw StoreError.system(SystemError("rename \(partial)"))
        }
        try DurableFiles.sync((path as NSString).deletingLastPathComponent)
    }
}
