/// Settings used when opening an ``Environment``.
public struct EnvironmentOptions: Sendable {
    /// The initial map size in bytes (the maximum size the data file may reach until grown).
    public var mapSize: Int
    /// The maximum number of named databases.
    public var maxDatabases: Int
    /// The maximum number of simultaneous read transactions (reader slots) across processes.
    public var maxReaders: Int
    /// Opens the environment read-only (`MDB_RDONLY`); write transactions then fail with `.accessDenied`.
    public var readOnly: Bool
    /// Whether `path` is a directory holding `data.mdb` and `lock.mdb`.
    ///
    /// When `false` (`MDB_NOSUBDIR`) `path` is the data file itself and the lock file is `path + "-lock"`.
    public var subdirectory: Bool
    /// Whether commits are flushed to disk; `false` sets `MDB_NOSYNC` (faster, not crash-durable).
    public var durable: Bool
    /// The POSIX permission bits for newly created files.
    public var fileMode: UInt32

    /// Creates options; every parameter has a default.
    ///
    /// - Parameters:
    ///   - mapSize: Initial map size in bytes (default 64 MiB).
    ///   - maxDatabases: Maximum named databases (default 16).
    ///   - maxReaders: Maximum reader slots (default 510).
    ///   - readOnly: Open read-only (default `false`).
    ///   - subdirectory: `path` is a directory (default `false`: `path` is the data file).
    ///   - durable: fsync on commit (default `true`).
    ///   - fileMode: Permissions for created files (default `0o640`).
    public init(
        mapSize: Int = 64 << 20,
        maxDatabases: Int = 16,
        maxReaders: Int = 510,
        readOnly: Bool = false,
        subdirectory: Bool = false,
        durable: Bool = true,
        fileMode: UInt32 = 0o640
    ) {
        self.mapSize = mapSize
        self.maxDatabases = maxDatabases
        self.maxReaders = maxReaders
        self.readOnly = readOnly
        self.subdirectory = subdirectory
        self.durable = durable
        self.fileMode = fileMode
    }
}
