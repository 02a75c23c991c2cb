/// A snapshot of environment-wide information (`mdb_env_info` and `mdb_env_stat`).
public struct EnvironmentInfo: Sendable, Equatable {
    /// The current map size in bytes.
    public var mapSize: Int
    /// The ID of the last used page.
    public var lastPageNumber: Int
    /// The ID of the last committed transaction.
    public var lastTransactionID: Int
    /// The maximum number of reader slots.
    public var maxReaders: Int
    /// The reader slots ever used at once (LMDB's `me_numreaders`: it never shrinks; see
    /// ``Environment/readersInUse()`` for the slots in use now).
    public var readersUsed: Int
    /// The database page size in bytes.
    public var pageSize: Int
}

/// Statistics of one database (`mdb_stat`).
public struct DatabaseStat: Sendable, Equatable {
    /// The number of key/value entries.
    public var entries: Int
    /// The depth of the B-tree.
    public var depth: Int
    /// The number of internal (branch) pages.
    public var branchPages: Int
    /// The number of leaf pages.
    public var leafPages: Int
    /// The number of overflow pages.
    public var overflowPages: Int
    /// The page size in bytes.
    public var pageSize: Int
}
