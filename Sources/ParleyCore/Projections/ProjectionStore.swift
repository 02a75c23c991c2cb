/// Read access to projection tables. Implemented over an LMDB transaction and in memory.
public protocol ProjectionReading {
    /// The value stored under `key`, if any.
    func get(_ table: Table, _ key: [UInt8]) throws -> [UInt8]?
    /// Entries whose key starts with `prefix`, in key order, after `after` (exclusive) when given.
    func scan(_ table: Table, prefix: [UInt8], after: [UInt8]?, limit: Int) throws -> [(key: [UInt8], value: [UInt8])]
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
/// Keys of the form `owner 0x00 rest` are also kept sorted per owner, so the prefix scans
/// the projections make (a transcript, an agent's Recent items) cost a binary search, not
/// a sort of the whole table.
public final class MemoryProjections: ProjectionWriting, @unchecked Sendable {
    /// Every table's entries.
    public private(set) var tables: [Table: [[UInt8]: [UInt8]]] = [:]
    private var owners: [Table: [[UInt8]: [[UInt8]]]] = [:]

    /// Creates empty tables.
    public init() {}

    /// The value stored under `key`, if any.
    public func get(_ table: Table, _ key: [UInt8]) -> [UInt8]? { tables[table]?[key] }

    /// Entries whose key starts with `prefix`, in byte order, after `after` when given.
    public func scan(_ table: Table, prefix: [UInt8], after: [UInt8]?, limit: Int) -> [(key: [UInt8], value: [UInt8])] {
        guard let entries = tables[table] else { return [] }
        let candidates: [[UInt8]]
        if let owner = Self.owner(of: prefix), owner.count == prefix.count {
            candidates = owners[table]?[owner] ?? []
        } else {
            candidates = entries.keys.filter { $0.starts(with: prefix) }.sorted { $0.lexicographicallyPrecedes($1) }
        }
        let start = after.map { bound in Self.insertionIndex(of: bound, in: candidates, after: true) } ?? 0
        return candidates[start...].prefix(limit).map { ($0, entries[$0] ?? []) }
    }

    /// Stores `value` under `key`.
    public func put(_ table: Table, _ key: [UInt8], _ value: [UInt8]) {
        if tables[table, default: [:]].updateValue(value, forKey: key) == nil, let owner = Self.owner(of: key) {
            var keys = owners[table, default: [:]][owner, default: []]
            keys.insert(key, at: Self.insertionIndex(of: key, in: keys, after: false))
            owners[table, default: [:]][owner] = keys
        }
    }

    /// Removes `key`.
    public func delete(_ table: Table, _ key: [UInt8]) {
        guard tables[table]?.removeValue(forKey: key) != nil, let owner = Self.owner(of: key) else { return }
        guard var keys = owners[table]?[owner] else { return }
        let index = Self.insertionIndex(of: key, in: keys, after: false)
        if index < keys.count, keys[index] == key { keys.remove(at: index) }
        owners[table]?[owner] = keys.isEmpty ? nil : keys
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

    /// Where `key` goes in sorted `keys`: the first index not below it (or, with `after`, above it).
    private static func insertionIndex(of key: [UInt8], in keys: [[UInt8]], after: Bool) -> Int {
        var low = 0
        var high = keys.count
        while low < high {
            let middle = (low + high) / 2
            let goesRight = after ? !key.lexicographicallyPrecedes(keys[middle]) : keys[middle].lexicographicallyPrecedes(key)
            if goesRight { low = middle + 1 } else { high = middle }
        }
        return low
    }
}
