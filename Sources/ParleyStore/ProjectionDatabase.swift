public import LMDB
public import ParleyCore

/// The projection store in `projections.mdb`: one LMDB database per ``ParleyCore/Table``.
///
/// Derived from the log and rebuildable at any time, so it is opened without fsync on
/// commit (`durable: false`): a crash can lose its newest commits but never the log's,
/// and the store catches up from its checkpoint on the next open.
public final class ProjectionDatabase: Sendable {
    /// The LMDB environment of `projections.mdb`.
    public let environment: Environment
    let databases: [Database]

    /// The value of `meta["format"]` this build writes and reads.
    public static let format = "parley-projections/6"

    /// Opens (or creates) the projection store at `path`.
    /// - Throws: ``StoreError`` if it cannot be opened; ``StoreError/corrupt(position:reason:)``
    ///   with no position when the file is shorter than its last commit says;
    ///   ``StoreError/incompatibleFormat(found:)`` when opened read-only and written in another
    ///   format (its tables may differ; the daemon rebuilds such projections at open).
    public init(path: String, readOnly: Bool, mapSize: Int) throws(StoreError) {
        if let truncated = OpenChecks.truncation(path: path) {
            throw StoreError.corrupt(position: nil, reason: truncated)
        }
        do {
            environment = try Environment(
                path: path,
                options: EnvironmentOptions(
                    mapSize: mapSize, maxDatabases: Table.allCases.count + 1, readOnly: readOnly, durable: false)
            )
        } catch {
            throw StoreError.storage(error)
        }
        do {
            // Tables are created only in a new file: one missing beside others means damage
            // (the daemon then rebuilds the projections), not an empty table to fill.
            var found: [Table: Database] = [:]
            for table in Table.allCases {
                found[table] = try environment.existingDatabase(table.name)
            }
            if found.isEmpty, !readOnly {
                let created = try environment.createDatabases(Table.allCases.map(\.name))
                for (table, database) in zip(Table.allCases, created) { found[table] = database }
            }
            if readOnly, let meta = found[.meta] {
                let format = try environment.read { txn in try Self.storedFormat(in: txn, meta: meta) }
                guard format == Self.format else { throw StoreError.incompatibleFormat(found: format ?? "none") }
            }
            let missing = Table.allCases.filter { found[$0] == nil }
            guard missing.isEmpty else {
                let what = missing.map { "\"\($0.name)\"" }.joined(separator: ", ")
                throw StoreError.corrupt(position: nil, reason: "projections.mdb has no \(what) table: it is damaged")
            }
            self.databases = Table.allCases.compactMap { found[$0] }
        } catch let error as StoreError {
            throw error
        } catch let error as LMDBError {
            throw StoreError.storage(error)
        } catch {
            throw StoreError.corrupt(position: nil, reason: "\(error)")
        }
    }

    /// Opens the projections at `path` read-only, or nil when they are in another format.
    static func ifCurrentFormat(path: String) throws -> ProjectionDatabase? {
        do {
            return try ProjectionDatabase(path: path, readOnly: true, mapSize: 64 << 20)
        } catch StoreError.incompatibleFormat {
            return nil
        }
    }

    /// The handle of `table`.
    func database(_ table: Table) -> Database { databases[Int(table.rawValue)] }

    /// The stored format marker, if any.
    func storedFormat(in txn: ReadTransaction) throws -> String? {
        try Self.storedFormat(in: txn, meta: database(.meta))
    }

    private static func storedFormat(in txn: ReadTransaction, meta: Database) throws -> String? {
        try txn.get(meta, Key.of("format")).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Runs `body` over a read-only view of the projections, in one short read transaction.
    public func read<R>(_ body: (LMDBProjections) throws -> R) throws -> R {
        try environment.read { txn in try body(LMDBProjections(database: self, reader: txn, writer: nil)) }
    }

    /// Runs `body` over a writable view, committed when it returns.
    func write<R>(_ body: (LMDBProjections) throws -> R) throws -> R {
        try environment.write { txn in try body(LMDBProjections(database: self, reader: txn, writer: txn)) }
    }

    /// Begins a writable view that stays open until its ``LMDBProjections/commit()``: the
    /// engine's pending projection changes, kept across batches.
    func beginWrite() throws -> LMDBProjections {
        let txn = try environment.beginWrite()
        return LMDBProjections(database: self, reader: txn, writer: txn)
    }

    /// Empties every table and marks the format, in `txn`.
    func reset(in projections: LMDBProjections) throws {
        guard let writer = projections.writer else { throw StoreError.readOnly }
        for table in Table.allCases { try writer.clear(database(table)) }
        try writer.put(database(.meta), key: Key.of("format"), value: Key.of(Self.format))
    }

    /// The greatest key of each of `tables`, as UTF-8 text (for ids), where the table has any.
    public func lastKeys(_ tables: [Table]) throws -> [String] {
        try environment.read { txn in
            try tables.compactMap { table in
                try txn.cursor(database(table)).last().map { String(decoding: $0.key, as: UTF8.self) }
            }
        }
    }

    /// Every entry of every table in key order (for comparing stores byte for byte).
    public func dump() throws -> [(table: Table, key: [UInt8], value: [UInt8])] {
        try environment.read { txn in try dump(in: txn) }
    }

    /// Every entry of every table as `txn` sees them.
    func dump(in txn: ReadTransaction) throws -> [(table: Table, key: [UInt8], value: [UInt8])] {
        do {
            var result: [(table: Table, key: [UInt8], value: [UInt8])] = []
            for table in Table.allCases {
                let cursor = try txn.cursor(database(table))
                var entry = try cursor.first()
                while let current = entry {
                    result.append((table, Array(current.key), Array(current.value)))
                    entry = try cursor.next()
                }
            }
            return result
        }
    }

    /// The checkpoint and every entry, from one snapshot.
    public func snapshot() throws -> (checkpoint: UInt64, entries: [(table: Table, key: [UInt8], value: [UInt8])]) {
        try environment.read { txn in
            (try LMDBProjections(database: self, reader: txn, writer: nil).checkpoint(), try dump(in: txn))
        }
    }
}

/// The projection tables seen through one LMDB transaction.
public final class LMDBProjections: ProjectionWriting {
    let database: ProjectionDatabase
    let reader: ReadTransaction
    let writer: WriteTransaction?

    init(database: ProjectionDatabase, reader: ReadTransaction, writer: WriteTransaction?) {
        self.database = database
        self.reader = reader
        self.writer = writer
    }

    /// The value under `key`, copied out of the map. An empty key is never stored (LMDB refuses
    /// it with `MDB_BAD_VALSIZE`), so it has no value: a query for an empty id is an unknown id.
    public func get(_ table: Table, _ key: [UInt8]) throws -> [UInt8]? {
        guard !key.isEmpty else { return nil }
        return try reader.get(database.database(table), key).map { Array($0) }
    }

    /// Calls `body` with the value under `key` in place, inside the map (no copy).
    public func withValue<R>(_ table: Table, _ key: [UInt8], _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R?
    {
        guard !key.isEmpty else { return nil }  // never stored, as in `get`
        guard let value = try reader.get(database.database(table), key) else { return nil }
        return try body(value)
    }

    /// Entries under `prefix` in key order, after `after` when given.
    public func scan(_ table: Table, prefix: [UInt8], after: [UInt8]?, limit: Int) throws -> [(
        key: [UInt8], value: [UInt8]
    )] {
        guard limit > 0 else { return [] }
        let cursor = try reader.cursor(database.database(table))
        let start = after ?? prefix
        var entry = start.isEmpty ? try cursor.first() : try cursor.seek(atOrAfter: start)
        if let after, let first = entry, first.key.elementsEqual(after) { entry = try cursor.next() }
        var result: [(key: [UInt8], value: [UInt8])] = []
        while let current = entry, result.count < limit, current.key.starts(with: prefix) {
            result.append((Array(current.key), Array(current.value)))
            entry = try cursor.next()
        }
        return result
    }

    /// Commits a view from ``ProjectionDatabase/beginWrite()``.
    func commit() throws {
        guard let writer else { throw StoreError.readOnly }
        try writer.commit()
    }

    /// Discards a view from ``ProjectionDatabase/beginWrite()``.
    func abort() { writer?.abort() }

    /// Stores `value` under `key`.
    public func put(_ table: Table, _ key: [UInt8], _ value: [UInt8]) throws {
        guard let writer else { throw StoreError.readOnly }
        try writer.put(database.database(table), key: key, value: value)
    }

    /// Removes `key` if present.
    public func delete(_ table: Table, _ key: [UInt8]) throws {
        guard let writer else { throw StoreError.readOnly }
        try writer.delete(database.database(table), key: key)
    }
}
