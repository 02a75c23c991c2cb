import CLMDB

/// A read-write LMDB transaction, handed to the closure of ``Environment/write(_:)``.
///
/// It offers every ``ReadTransaction`` method and sees its own uncommitted changes. It must
/// not escape the closure, and must be used only on the thread that runs the closure.
/// Buffers read through it are valid only until the next modification or the end of the transaction.
public final class WriteTransaction: ReadTransaction {
    /// Options for `put`.
    public struct PutFlags: OptionSet, Sendable {
        /// The raw `mdb_put` flag bits.
        public let rawValue: UInt32

        /// Creates flags from raw `mdb_put` bits.
        ///
        /// - Parameter rawValue: The flag bits.
        public init(rawValue: UInt32) { self.rawValue = rawValue }

        /// `MDB_APPEND`: the key sorts after every existing key (fast bulk load). Otherwise
        /// the put fails with ``LMDBError/Code/keyExists``.
        public static let append = PutFlags(rawValue: UInt32(MDB_APPEND))
        /// `MDB_NOOVERWRITE`: fail with ``LMDBError/Code/keyExists`` if the key is present.
        public static let noOverwrite = PutFlags(rawValue: UInt32(MDB_NOOVERWRITE))
    }

    /// Commits a transaction begun with ``Environment/beginWrite()``; it has ended afterwards
    /// whether or not this succeeds. (A closure's transaction is committed by ``Environment/write(_:)``.)
    /// - Throws: ``LMDBError``, e.g. `.mapFull`.
    public override func commit() throws(LMDBError) { try super.commit() }

    /// Aborts a transaction begun with ``Environment/beginWrite()``, discarding its changes.
    public override func abort() { super.abort() }

    /// Stores a value under a key, replacing any existing value unless `flags` forbid it.
    ///
    /// - Parameters:
    ///   - db: The database.
    ///   - key: The key bytes (1 to 511 bytes with default LMDB builds).
    ///   - value: The value bytes.
    ///   - flags: Put options.
    /// - Throws: ``LMDBError``, e.g. `.keyExists`, `.mapFull`, or `.badValueSize` for an empty key.
    public func put(
        _ db: Database, key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer, flags: PutFlags = []
    ) throws(LMDBError) {
        let txn = try activeHandle("mdb_put")
        var k = MDB_val(key)
        var v = MDB_val(value)
        try check(mdb_put(txn, db.dbi, &k, &v, flags.rawValue), "mdb_put")
    }

    /// Stores a value under a key given as byte arrays.
    ///
    /// - Parameters:
    ///   - db: The database.
    ///   - key: The key bytes.
    ///   - value: The value bytes.
    ///   - flags: Put options.
    /// - Throws: ``LMDBError``, e.g. `.keyExists` or `.mapFull`.
    public func put(_ db: Database, key: [UInt8], value: [UInt8], flags: PutFlags = []) throws(LMDBError) {
        try key.withBytes { (k) throws(LMDBError) in
            try value.withBytes { (v) throws(LMDBError) in
                try put(db, key: k, value: v, flags: flags)
            }
        }
    }

    /// Deletes a key.
    ///
    /// - Parameters:
    ///   - db: The database.
    ///   - key: The key bytes.
    /// - Returns: `true` if the key existed, `false` if it was absent.
    /// - Throws: ``LMDBError`` for any failure other than `MDB_NOTFOUND`.
    @discardableResult
    public func delete(_ db: Database, key: [UInt8]) throws(LMDBError) -> Bool {
        let txn = try activeHandle("mdb_del")
        let rc = key.withUnsafeBytes { k in
            var kv = MDB_val(k)
            return mdb_del(txn, db.dbi, &kv, nil)
        }
        if rc == MDB_NOTFOUND { return false }
        try check(rc, "mdb_del")
        return true
    }

    /// Removes every entry of a database, keeping the database itself (`mdb_drop(…, 0)`).
    ///
    /// - Parameter db: The database to empty.
    /// - Throws: ``LMDBError`` if `mdb_drop` fails.
    public func clear(_ db: Database) throws(LMDBError) {
        let txn = try activeHandle("mdb_drop")
        try check(mdb_drop(txn, db.dbi, 0), "mdb_drop")
    }

    /// Deletes a named database and its entries from the environment (`mdb_drop(…, 1)`);
    /// `db`'s handle is closed with it and must not be used again.
    ///
    /// - Parameter db: The database to delete.
    /// - Throws: ``LMDBError`` if `mdb_drop` fails.
    public func drop(_ db: Database) throws(LMDBError) {
        let txn = try activeHandle("mdb_drop")
        try check(mdb_drop(txn, db.dbi, 1), "mdb_drop")
    }
}
