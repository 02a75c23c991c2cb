import CLMDB

/// A cursor over one database within a transaction, from ``ReadTransaction/cursor(_:)``.
///
/// Every move returns the entry it lands on, or `nil` when there is none (`MDB_NOTFOUND`).
/// The returned buffers point into the memory map and are **valid only until the transaction
/// ends** (in a write transaction, until the next modification). The cursor is closed
/// automatically when it is deinitialised or its transaction ends; it must not escape the
/// transaction's closure (using it afterwards throws ``LMDBError/Code/badTransaction``).
public final class Cursor {
    /// The transaction this cursor belongs to.
    private let transaction: ReadTransaction
    /// The `MDB_cursor*`, or `nil` once closed.
    private var handle: OpaquePointer?

    init(transaction: ReadTransaction, handle: OpaquePointer) {
        self.transaction = transaction
        self.handle = handle
    }

    deinit {
        if let handle {
            mdb_cursor_close(handle)
            transaction.forget(ObjectIdentifier(self))
        }
    }

    /// Closes the cursor; called by the transaction before it ends.
    func invalidate() {
        guard let handle else { return }
        self.handle = nil
        mdb_cursor_close(handle)
    }

    /// Moves to the first entry.
    ///
    /// - Returns: The first entry, or `nil` if the database is empty.
    /// - Throws: ``LMDBError`` for any failure other than `MDB_NOTFOUND`.
    public func first() throws(LMDBError) -> (key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer)? {
        try move(MDB_FIRST)
    }

    /// Moves to the last entry.
    ///
    /// - Returns: The last entry, or `nil` if the database is empty.
    /// - Throws: ``LMDBError`` for any failure other than `MDB_NOTFOUND`.
    public func last() throws(LMDBError) -> (key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer)? {
        try move(MDB_LAST)
    }

    /// Moves to the next entry (the first one if the cursor is unpositioned).
    ///
    /// - Returns: The next entry, or `nil` past the end.
    /// - Throws: ``LMDBError`` for any failure other than `MDB_NOTFOUND`.
    public func next() throws(LMDBError) -> (key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer)? {
        try move(MDB_NEXT)
    }

    /// Moves to the previous entry (the last one if the cursor is unpositioned).
    ///
    /// - Returns: The previous entry, or `nil` before the start.
    /// - Throws: ``LMDBError`` for any failure other than `MDB_NOTFOUND`.
    public func previous() throws(LMDBError) -> (key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer)? {
        try move(MDB_PREV)
    }

    /// Moves to the first entry whose key is greater than or equal to `key` (`MDB_SET_RANGE`).
    ///
    /// - Parameter key: The key bytes to seek to.
    /// - Returns: The entry found, or `nil` if every key is smaller.
    /// - Throws: ``LMDBError`` for any failure other than `MDB_NOTFOUND`.
    public func seek(
        atOrAfter key: [UInt8]
    ) throws(LMDBError) -> (key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer)? {
        try key.withBytes { (k) throws(LMDBError) in try move(MDB_SET_RANGE, key: k) }
    }

    /// Runs `mdb_cursor_get` with `op`, mapping `MDB_NOTFOUND` to `nil`.
    private func move(
        _ op: MDB_cursor_op, key: UnsafeRawBufferPointer? = nil
    ) throws(LMDBError) -> (key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer)? {
        guard let handle else { throw .ended("mdb_cursor_get") }
        var k = key.map { MDB_val($0) } ?? MDB_val()
        var v = MDB_val()
        let rc = mdb_cursor_get(handle, &k, &v, op)
        if rc == MDB_NOTFOUND { return nil }
        try check(rc, "mdb_cursor_get")
        return (k.buffer, v.buffer)
    }
}
