import CLMDB

/// A read-only LMDB transaction: a consistent snapshot of the environment.
///
/// Handed to the closure of ``Environment/read(_:)`` (and, as ``WriteTransaction``, of
/// ``Environment/write(_:)``). **It must not escape that closure**: once the closure returns
/// the transaction has ended and every method throws ``LMDBError/Code/badTransaction``.
///
/// > Important: Buffers returned by `get` and by ``Cursor`` point
/// > directly into the memory map and are valid **only until the transaction ends** (and, in a
/// > write transaction, only until the next modification). Copy them (`Array(buffer)`) to keep them.
public class ReadTransaction {
    /// The owning environment (kept alive while the transaction object exists).
    let environment: Environment
    /// The `MDB_txn*`, or `nil` once the transaction has ended.
    var handle: OpaquePointer?
    /// Cursors opened in this transaction that are still open, closed when it ends.
    private var cursors: [ObjectIdentifier: WeakCursor] = [:]
    /// Whether ending the transaction releases the environment's lock (``Environment/beginWrite()``).
    var holdsLock = false

    init(environment: Environment, handle: OpaquePointer) {
        self.environment = environment
        self.handle = handle
    }

    deinit {
        abort()
    }

    /// The live `MDB_txn*`, or an error naming `operation` if the transaction has ended.
    func activeHandle(_ operation: String) throws(LMDBError) -> OpaquePointer {
        guard let handle else { throw .ended(operation) }
        return handle
    }

    /// Looks up a key.
    ///
    /// - Parameters:
    ///   - db: The database to search.
    ///   - key: The key bytes.
    /// - Returns: The value, or `nil` if the key is absent. The buffer points into the map and is
    ///   valid only until the transaction ends.
    /// - Throws: ``LMDBError`` for any failure other than `MDB_NOTFOUND`.
    public func get(_ db: Database, _ key: UnsafeRawBufferPointer) throws(LMDBError) -> UnsafeRawBufferPointer? {
        let txn = try activeHandle("mdb_get")
        var k = MDB_val(key)
        var v = MDB_val()
        let rc = mdb_get(txn, db.dbi, &k, &v)
        if rc == MDB_NOTFOUND { return nil }
        try check(rc, "mdb_get")
        return v.buffer
    }

    /// Looks up a key given as a byte array.
    ///
    /// - Parameters:
    ///   - db: The database to search.
    ///   - key: The key bytes.
    /// - Returns: The value, or `nil` if the key is absent. The buffer points into the map and is
    ///   valid only until the transaction ends.
    /// - Throws: ``LMDBError`` for any failure other than `MDB_NOTFOUND`.
    public func get(_ db: Database, _ key: [UInt8]) throws(LMDBError) -> UnsafeRawBufferPointer? {
        try key.withBytes { (k) throws(LMDBError) in try get(db, k) }
    }

    /// Opens a cursor over a database.
    ///
    /// The cursor is closed when it is deinitialised or when the transaction ends, whichever
    /// comes first; after that its methods throw ``LMDBError/Code/badTransaction``.
    ///
    /// - Parameter db: The database to iterate.
    /// - Returns: An unpositioned cursor.
    /// - Throws: ``LMDBError`` if `mdb_cursor_open` fails.
    public func cursor(_ db: Database) throws(LMDBError) -> Cursor {
        let txn = try activeHandle("mdb_cursor_open")
        var raw: OpaquePointer?
        try check(mdb_cursor_open(txn, db.dbi, &raw), "mdb_cursor_open")
        guard let raw else { throw LMDBError(.invalidArgument, operation: "mdb_cursor_open") }
        let cursor = Cursor(transaction: self, handle: raw)
        cursors[ObjectIdentifier(cursor)] = WeakCursor(cursor)
        return cursor
    }

    /// Counts the entries of a database as seen by this transaction.
    ///
    /// - Parameter db: The database.
    /// - Returns: The number of key/value entries.
    /// - Throws: ``LMDBError`` if `mdb_stat` fails.
    public func entryCount(_ db: Database) throws(LMDBError) -> Int {
        try stat(db).entries
    }

    /// Reads the statistics of a database (`mdb_stat`).
    func stat(_ db: Database) throws(LMDBError) -> DatabaseStat {
        let txn = try activeHandle("mdb_stat")
        var s = MDB_stat()
        try check(mdb_stat(txn, db.dbi, &s), "mdb_stat")
        return DatabaseStat(
            entries: s.ms_entries, depth: Int(s.ms_depth), branchPages: s.ms_branch_pages,
            leafPages: s.ms_leaf_pages, overflowPages: s.ms_overflow_pages, pageSize: Int(s.ms_psize))
    }

    /// Forgets a cursor that closed itself on deinitialisation.
    func forget(_ id: ObjectIdentifier) {
        cursors[id] = nil
    }

    /// Closes every cursor still open; must precede ending the transaction.
    private func closeCursors() {
        for entry in cursors.values { entry.cursor?.invalidate() }
        cursors.removeAll()
    }

    /// Aborts the transaction if still active (how read transactions end).
    func abort() {
        guard let txn = handle else { return }
        closeCursors()
        handle = nil
        mdb_txn_abort(txn)
        releaseLock()
    }

    /// Commits the transaction; it has ended afterwards whether or not this succeeds.
    func commit() throws(LMDBError) {
        let txn = try activeHandle("mdb_txn_commit")
        closeCursors()
        handle = nil
        defer { releaseLock() }
        try check(mdb_txn_commit(txn), "mdb_txn_commit")
    }

    private func releaseLock() {
        guard holdsLock else { return }
        holdsLock = false
        environment.lock.unlock()
    }
}

/// A weak reference to a cursor, so an open transaction does not keep its cursors alive.
struct WeakCursor {
    weak var cursor: Cursor?
    init(_ cursor: Cursor) { self.cursor = cursor }
}
