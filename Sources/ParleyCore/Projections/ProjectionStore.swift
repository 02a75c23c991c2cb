/// Read access to projection tables. Implemented over an LMDB transaction and in memory.
public protocol ProjectionReading {
    /// The value stored under `key`, if any.
    func get(_ table: Table, _ key: [UInt8]) throws -> [UInt8]?
    /// Entries whose key starts with `prefix`, in key order, after `after` (exclusive) when given.
    func scan(_ table: Table, prefix: [UInt8], after: [UInt8]?, limit: Int) throws -> [(key: [UInt8], value: [UInt8])]
    /// Calls `body` with the bytes stored under `key`, without copying them out, if there are any.
    /// The buffer is valid only during the call.
    func withValue<R>(_ table: Table, _ key: [UInt8], _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R?
}

extension ProjectionReading {
    /// Reads through ``get(_:_:)``: a copy, for stores whose values are Swift arrays anyway.
    public func withValue<R>(_ table: Table, _ key: [UInt8], _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R? {
        guard let bytes = try get(table, key) else { return nil }
        return try bytes.withUnsafeBytes(body)
    }
}

/// Write access to projection tables.
public protocol ProjectionWriting: ProjectionReading {
    /// Stores `value` under `key`, replacing any previous value.
    func put(_ table: Table, _ key: [UInt8], _ value: [UInt8]) throws
    /// Removes `key` if present.
    func delete(_ table: Table, _ key: [UInt8]) throws
}

/// Projection tables held in memory, ordered like LMDB: for tests, audits and replays.
///
/// The tables scanned by owner (`owner 0x00 rest` keys: transcripts, Recent, open chats,
/// pending requests) also keep each owner's keys, sorted lazily, so those scans cost
/// about the owner's size, not a sort of the whole table.
public final class MemoryProjections: ProjectionWriting, @unchecked Sendable {
    /// Every table's entries.
    public private(set) var tables: [Table: [[UInt8]: [UInt8]]] = [:]
    private var owners: [Table: [[UInt8]: OwnerKeys]] = [:]

    /// Tables whose scans are by owner prefix.
    private static let ownerScanned: Set<Table> = [.transcripts, .recent, .agentChats, .pendingRequests]

    /// One owner's keys; `sorted` is rebuilt on demand after an out-of-order change.
    private final class OwnerKeys {
        var keys = Set<[UInt8]>()
        var sorted: [[UInt8]]? = []

        func ordered() -> [[UInt8]] {
            if let sorted { return sorted }
            let fresh = keys.sorted { $0.lexicographicallyPrecedes($1) }
            sorted = fresh
            return fresh
        }
    }

    /// Creates empty tables.
    public init() {}

    /// The value stored under `key`, if any.
    public func get(_ table: Table, _ key: [UInt8]) -> [UInt8]? { tables[table]?[key] }

    /// Entries whose key starts with `prefix`, in byte order, after `after` when given.
    public func scan(_ table: Table, prefix: [UInt8], after: [UInt8]?, limit: Int) -> [(key: [UInt8], value: [UInt8])] {
        guard let entries = tables[table] else { return [] }
        let candidates: [[UInt8]]
        if Self.ownerScanned.contains(table), let owner = Self.owner(of: prefix), owner.count == prefix.count {
            candidates = owners[table]?[owner]?.ordered() ?? []
        } else {
            candidates = entries.keys.filter { $0.starts(with: prefix) }.sorted { $0.lexicographicallyPrecedes($1) }
        }
        let start = after.map { bound in Self.firstIndex(above: bound, in: candidates) } ?? 0
        return candidates[start...].prefix(limit).map { ($0, entries[$0] ?? []) }
    }

    /// Stores `value` under `key`.
    public func put(_ table: Table, _ key: [UInt8], _ value: [UInt8]) {
        let isNew = tables[table, default: [:]].updateValue(value, forKey: key) == nil
        guard isNew, Self.ownerScanned.contains(table), let owner = Self.owner(of: key) else { return }
        let index = ownerKeys(table, owner)
        index.keys.insert(key)
        if let last = index.sorted?.last, !last.lexicographicallyPrecedes(key) {
            index.sorted = nil
        } else {
            index.sorted?.append(key)
        }
    }

    /// Removes `key`.
    public func delete(_ table: Table, _ key: [UInt8]) {
        guard tables[table]?.removeValue(forKey: key) != nil, Self.ownerScanned.contains(table),
            let owner = Self.owner(of: key), let index = owners[table]?[owner]
        else { return }
        index.keys.remove(key)
        index.sorted = nil
    }

    private func ownerKeys(_ table: Table, _ owner: [UInt8]) -> OwnerKeys {
        if let existing = owners[table]?[owner] { return existing }
        let created = OwnerKeys()
        owners[table, default: [:]][owner] = created
        return created
    }

    /// Every entry of every table in key order, for comparing two stores byte for byte.
    public func dump() -> [(table: Table, key: [UInt8], value: [UInt8])] {
        Table.allCases.flatMap { table in
            (tables[table] ?? [:]).sorted { $0.key.lexicographicallyPrecedes($1.key) }.map { (table, $0.key, $0.value) }
        }
    }

    /// The `owner 0x00` prefix of a key, if it has one.
    private static func owner(of key: [UInt8]) -> [UInt8]? {
        guard let zero = key.firstIndex(of: 0) else { return nil }
        return Array(key[...zero])
    }

    /// The index of the first key in sorted `keys` above `bound`.
    private static func firstIndex(above bound: [UInt8], in keys: [[UInt8]]) -> Int {
        var low = 0
        var high = keys.count
        while low < high {
            let middle = (low + high) / 2
            if bound.lexicographicallyPrecedes(keys[middle]) { high = middle } else { low = middle + 1 }
        }
        return low
    }
}
