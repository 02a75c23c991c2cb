import CLMDB

/// An open LMDB environment: one memory-mapped data file holding one or more databases.
///
/// Transactions are scoped to closures (``read(_:)`` and ``write(_:)``), GRDB-style: they end
/// when the closure returns. The environment is `Sendable`; many threads may read at once, and
/// write transactions are serialised by LMDB. It is opened with `MDB_NOTLS`.
///
/// An internal writer-preferring read-write lock is held shared by every transaction and
/// exclusively by ``setMapSize(_:)`` and ``openDatabase(_:create:)``, so the map can be grown
/// while other threads use the environment.
///
/// > Warning: Do not call methods of an environment (``setMapSize(_:)``, ``openDatabase(_:create:)``,
/// > ``read(_:)``, ``write(_:)``, ``info()``, ``stat(_:)``, ``copy(to:compact:)``) from inside a
/// > transaction closure of the *same* environment: the lock is not recursive and that can
/// > deadlock (always, for `setMapSize`, `openDatabase` and nested writes). Use the transaction
/// > you were given instead. Nesting transactions of *different* environments is fine.
/// > Do not open the same file twice in one process at the same time (an LMDB rule).
public final class Environment: @unchecked Sendable {
    /// The `MDB_env*`.
    private let handle: OpaquePointer
    /// Excludes transactions (shared) from map resizing and database opening (exclusive).
    let lock = ReadWriteLock()
    /// The path the environment was opened at (data file, or directory with `subdirectory`).
    public let path: String
    /// Whether the environment was opened read-only.
    public let isReadOnly: Bool

    /// Opens (creating if needed and allowed) the environment at `path`.
    ///
    /// Directories are not created: the containing directory (or, with `subdirectory`, the
    /// directory itself) must exist. Stale reader slots left by dead processes are cleared.
    ///
    /// - Parameters:
    ///   - path: The data file path, or the directory path when `options.subdirectory` is set.
    ///   - options: Map size, limits and flags.
    /// - Throws: ``LMDBError`` from the failing `mdb_env_*` call, e.g. `.noSuchFile` for a
    ///   missing directory or `.accessDenied` for missing permissions; `.invalid` also for a
    ///   meta page whose page size LMDB would divide by (see `MetaPages`).
    public init(path: String, options: EnvironmentOptions = .init()) throws(LMDBError) {
        var created: OpaquePointer?
        try check(mdb_env_create(&created), "mdb_env_create")
        guard let env = created else { throw LMDBError(.invalidArgument, operation: "mdb_env_create") }
        var flags = UInt32(MDB_NOTLS)
        if options.readOnly { flags |= UInt32(MDB_RDONLY) }
        if !options.subdirectory { flags |= UInt32(MDB_NOSUBDIR) }
        if !options.durable { flags |= UInt32(MDB_NOSYNC) }
        do throws(LMDBError) {
            guard options.mapSize > 0 else { throw LMDBError(.invalidArgument, operation: "mdb_env_set_mapsize") }
            try check(mdb_env_set_mapsize(env, options.mapSize), "mdb_env_set_mapsize")
            try check(mdb_env_set_maxdbs(env, MDB_dbi(clamping: options.maxDatabases)), "mdb_env_set_maxdbs")
            try check(mdb_env_set_maxreaders(env, UInt32(clamping: options.maxReaders)), "mdb_env_set_maxreaders")
            try MetaPages.check(path: options.subdirectory ? path + "/data.mdb" : path)
            try check(
                mdb_env_open(env, path, flags, mdb_mode_t(truncatingIfNeeded: options.fileMode)), "mdb_env_open")
            var dead: Int32 = 0
            try check(mdb_reader_check(env, &dead), "mdb_reader_check")
        } catch {
            mdb_env_close(env)
            var named = error
            named.file = String(path.split(separator: "/").last ?? Substring(path))
            throw named
        }
        handle = env
        self.path = path
        isReadOnly = options.readOnly
    }

    deinit {
        mdb_env_close(handle)
    }

    /// Opens a database handle, valid for the life of this environment.
    ///
    /// Uses a short write transaction when `create` is set (and the environment is writable),
    /// otherwise a read transaction. Takes the internal lock exclusively: call it at startup,
    /// never from inside a transaction closure of this environment.
    ///
    /// - Parameters:
    ///   - name: The named database, or `nil` for the unnamed main database.
    ///   - create: Create the named database if it does not exist.
    /// - Returns: The database handle.
    /// - Throws: ``LMDBError``, e.g. `.notFound` if it does not exist and `create` is false,
    ///   or `.databasesFull` when `maxDatabases` is exceeded.
    public func openDatabase(_ name: String?, create: Bool = false) throws(LMDBError) -> Database {
        try lock.withExclusive { () throws(LMDBError) -> Database in
            let writable = create && !isReadOnly
            let txn = try beginLocked(readOnly: !writable)
            var dbi = MDB_dbi()
            let rc = mdb_dbi_open(txn, name, writable ? UInt32(MDB_CREATE) : 0, &dbi)
            guard rc == 0 else {
                mdb_txn_abort(txn)
                throw LMDBError(LMDBError.Code(rawValue: rc), operation: "mdb_dbi_open")
            }
            // Committing (even a read transaction) keeps the new handle open for the environment.
            try check(mdb_txn_commit(txn), "mdb_txn_commit")
            return Database(dbi: dbi)
        }
    }

    /// Creates (where missing) and opens the named databases in one write transaction: a crash
    /// leaves all of them or none, never some.
    ///
    /// - Parameter names: The named databases.
    /// - Throws: ``LMDBError`` if the transaction cannot begin, a database cannot be opened, or
    ///   the commit fails (then none was created).
    public func createDatabases(_ names: [String]) throws(LMDBError) -> [Database] {
        try lock.withExclusive { () throws(LMDBError) -> [Database] in
            let txn = try beginLocked(readOnly: false)
            var databases: [Database] = []
            for name in names {
                var dbi = MDB_dbi()
                let rc = mdb_dbi_open(txn, name, UInt32(MDB_CREATE), &dbi)
                guard rc == 0 else {
                    mdb_txn_abort(txn)
                    throw LMDBError(LMDBError.Code(rawValue: rc), operation: "mdb_dbi_open")
                }
                databases.append(Database(dbi: dbi))
            }
            try check(mdb_txn_commit(txn), "mdb_txn_commit")
            return databases
        }
    }

    /// Opens an existing named database, or returns `nil` when the environment has none of that name.
    ///
    /// - Parameter name: The named database.
    /// - Throws: ``LMDBError`` for any failure other than its absence.
    public func existingDatabase(_ name: String) throws(LMDBError) -> Database? {
        do {
            return try openDatabase(name)
        } catch {
            if error.code == .notFound { return nil }
            throw error
        }
    }

    /// Runs `body` in a read-only transaction (a consistent snapshot), then ends it.
    ///
    /// Synchronous. The transaction and every buffer obtained through it are valid only inside
    /// `body`; copy what must outlive it.
    ///
    /// - Parameter body: The work to do; it must not let the transaction escape.
    /// - Returns: `body`'s result.
    /// - Throws: ``LMDBError`` if the transaction cannot begin, or whatever `body` throws.
    public func read<R>(_ body: (ReadTransaction) throws -> R) throws -> R {
        lock.lockShared()
        defer { lock.unlock() }
        let txn = ReadTransaction(environment: self, handle: try beginShared(readOnly: true))
        defer { txn.abort() }
        return try body(txn)
    }

    /// Runs `body` in a write transaction: commits when it returns, aborts when it throws.
    ///
    /// Synchronous; write transactions are serialised across threads and processes. The body is
    /// never retried: on ``LMDBError/isMapFull`` the caller may ``setMapSize(_:)`` and call again.
    ///
    /// - Parameter body: The work to do; it must not let the transaction escape.
    /// - Returns: `body`'s result, once committed.
    /// - Throws: Whatever `body` throws (after aborting), or ``LMDBError`` if the transaction
    ///   cannot begin (e.g. `.accessDenied` on a read-only environment) or commit fails
    ///   (e.g. `.mapFull`).
    public func write<R>(_ body: (WriteTransaction) throws -> R) throws -> R {
        lock.lockShared()
        defer { lock.unlock() }
        let txn = WriteTransaction(environment: self, handle: try beginShared(readOnly: false))
        let result: R
        do {
            result = try body(txn)
        } catch {
            txn.abort()
            throw error
        }
        try txn.commit()
        return result
    }

    /// Begins a write transaction that outlives any closure: the caller ends it with
    /// ``WriteTransaction/commit()`` or ``WriteTransaction/abort()`` (dropping it aborts it).
    ///
    /// For a writer that keeps changes pending across several units of work and commits them
    /// once. Until it ends, this environment's ``setMapSize(_:)`` waits, and other write
    /// transactions (in any process) block: end it before either, on the thread that began it.
    /// - Throws: ``LMDBError`` if the transaction cannot begin.
    public func beginWrite() throws(LMDBError) -> WriteTransaction {
        lock.lockShared()
        do {
            let txn = WriteTransaction(environment: self, handle: try beginShared(readOnly: false))
            txn.holdsLock = true
            return txn
        } catch {
            lock.unlock()
            throw error
        }
    }

    /// Runs `body` in a read transaction, with typed errors (for internal use).
    private func readTyped<R>(_ body: (ReadTransaction) throws(LMDBError) -> R) throws(LMDBError) -> R {
        lock.lockShared()
        defer { lock.unlock() }
        let txn = ReadTransaction(environment: self, handle: try beginShared(readOnly: true))
        defer { txn.abort() }
        return try body(txn)
    }

    /// Begins a transaction while the lock is held shared, adopting a map grown by another
    /// process (`MDB_MAP_RESIZED`) by briefly taking the lock exclusively. Returns with it shared.
    private func beginShared(readOnly: Bool) throws(LMDBError) -> OpaquePointer {
        var attempts = 0
        while true {
            var txn: OpaquePointer?
            let rc = mdb_txn_begin(handle, nil, readOnly ? UInt32(MDB_RDONLY) : 0, &txn)
            if rc == MDB_MAP_RESIZED && attempts < 8 {
                attempts += 1
                lock.unlock()
                let adopted = lock.withExclusive { mdb_env_set_mapsize(handle, 0) }
                lock.lockShared()
                try check(adopted, "mdb_env_set_mapsize")
                continue
            }
            try check(rc, "mdb_txn_begin")
            guard let txn else { throw LMDBError(.invalidArgument, operation: "mdb_txn_begin") }
            return txn
        }
    }

    /// Begins a transaction while the lock is held exclusively, adopting a resized map.
    private func beginLocked(readOnly: Bool) throws(LMDBError) -> OpaquePointer {
        var txn: OpaquePointer?
        var rc = mdb_txn_begin(handle, nil, readOnly ? UInt32(MDB_RDONLY) : 0, &txn)
        if rc == MDB_MAP_RESIZED {
            try check(mdb_env_set_mapsize(handle, 0), "mdb_env_set_mapsize")
            rc = mdb_txn_begin(handle, nil, readOnly ? UInt32(MDB_RDONLY) : 0, &txn)
        }
        try check(rc, "mdb_txn_begin")
        guard let txn else { throw LMDBError(.invalidArgument, operation: "mdb_txn_begin") }
        return txn
    }

    /// The current map size in bytes.
    public var mapSize: Int { info().mapSize }

    /// Changes the map size, e.g. after ``LMDBError/isMapFull``.
    ///
    /// Safe while other threads use the environment: waits until no transaction of this
    /// environment is active. **Deadlocks if called from inside one of its transaction closures.**
    /// Other processes adopt the new size on their next transaction.
    ///
    /// - Parameter bytes: The new size; LMDB never shrinks below the space in use.
    /// - Throws: ``LMDBError`` if `mdb_env_set_mapsize` fails.
    public func setMapSize(_ bytes: Int) throws(LMDBError) {
        guard bytes > 0 else { throw LMDBError(.invalidArgument, operation: "mdb_env_set_mapsize") }
        try lock.withExclusive { () throws(LMDBError) in
            try check(mdb_env_set_mapsize(handle, bytes), "mdb_env_set_mapsize")
        }
    }

    /// Reports environment-wide information.
    ///
    /// - Returns: Map size, last page and transaction IDs, reader slots and page size.
    public func info() -> EnvironmentInfo {
        lock.withShared {
            var i = MDB_envinfo()
            var s = MDB_stat()
            mdb_env_info(handle, &i)
            mdb_env_stat(handle, &s)
            return EnvironmentInfo(
                mapSize: i.me_mapsize, lastPageNumber: i.me_last_pgno, lastTransactionID: i.me_last_txnid,
                maxReaders: Int(i.me_maxreaders), readersUsed: Int(i.me_numreaders), pageSize: Int(s.ms_psize))
        }
    }

    /// Reports the statistics of a database as of the latest commit.
    ///
    /// - Parameter db: The database.
    /// - Returns: Entry count, tree depth and page counts.
    /// - Throws: ``LMDBError`` if the read transaction or `mdb_stat` fails.
    public func stat(_ db: Database) throws(LMDBError) -> DatabaseStat {
        try readTyped { (txn) throws(LMDBError) in try txn.stat(db) }
    }

    /// Copies the environment to a new file (or directory, with `subdirectory`) as a consistent snapshot.
    ///
    /// - Parameters:
    ///   - path: The target; a file path for the default (`MDB_NOSUBDIR`) layout, else an existing empty directory.
    ///   - compact: Omit free pages and renumber pages (`MDB_CP_COMPACT`).
    /// - Throws: ``LMDBError`` if `mdb_env_copy2` fails (e.g. `EEXIST` when the target file already exists).
    public func copy(to path: String, compact: Bool) throws(LMDBError) {
        try lock.withShared { () throws(LMDBError) in
            try check(mdb_env_copy2(handle, path, compact ? UInt32(MDB_CP_COMPACT) : 0), "mdb_env_copy2")
        }
    }

    /// Flushes the data buffers to disk (needed only when opened with `durable: false`).
    ///
    /// - Parameter force: Flush even if the environment was opened with `MDB_NOSYNC`.
    /// - Throws: ``LMDBError`` if `mdb_env_sync` fails (e.g. `.accessDenied` when read-only).
    public func sync(force: Bool) throws(LMDBError) {
        try check(mdb_env_sync(handle, force ? 1 : 0), "mdb_env_sync")
    }

    /// The reader slots in use now, by any process (this one's open read transactions included);
    /// ``EnvironmentInfo/readersUsed`` is the most ever used at once, which never shrinks.
    public func readersInUse() -> Int {
        var lines = 0
        _ = mdb_reader_list(handle, { _, context in
            context?.assumingMemoryBound(to: Int.self).pointee += 1
            return 0
        }, &lines)
        // The first line is the table's header ("pid thread txnid"), or "(no active readers)".
        return max(0, lines - 1)
    }

    /// Releases reader slots held by processes that no longer exist.
    ///
    /// - Returns: The number of stale slots cleared.
    /// - Throws: ``LMDBError`` if `mdb_reader_check` fails.
    @discardableResult
    public func clearStaleReaders() throws(LMDBError) -> Int {
        var dead: Int32 = 0
        try check(mdb_reader_check(handle, &dead), "mdb_reader_check")
        return Int(dead)
    }
}
