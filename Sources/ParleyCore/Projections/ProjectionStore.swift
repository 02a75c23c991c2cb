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

/// Projection tables held in memory, sorted like LMDB: for tests and offline replay.
public final class MemoryProjections: ProjectionWriting, @unchecked Sendable {
    /// Every table's entries.
    public private(set) var tables: [Table: [[UInt8]: [UInt8]]] = [:]

    /// Creates empty tables.
    public init() {}

    /// The value stored under `key`, if any.
    public func get(_ table: Table, _ key: [UInt8]) -> [UInt8]? { tables[table]?[key] }

    /// Entries whose key starts with `prefix`, in byte order.
    public func scan(_ table: Table, prefix: [UInt8], after: [UInt8]?, limit: Int) -> [(key: [UInt8], value: [UInt8])] {
        guard let entries = tables[table] else { return [] }
        let keys = entries.keys
            .filter { key in
                guard key.starts(with: prefix) else { return false }
                guard let after else { return true }
                return after.lexicographicallyPrecedes(key)
            }
            .sorted { $0.lexicographicallyPrecedes($1) }
        return keys.prefix(limit).map { ($0, entries[$0] ?? []) }
    }

    /// Stores `value` under `key`.
    public func put(_ table: Table, _ key: [UInt8], _ value: [UInt8]) { tables[table, default: [:]][key] = value }

    /// Removes `key`.
    public func delete(_ table: Table, _ key: [UInt8]) { tables[table]?[key] = nil }

    /// Every entry of every table in key order, for comparing two stores byte for byte.
    public func dump() -> [(table: Table, key: [UInt8], value: [UInt8])] {
        Table.allCases.flatMap { table in
            (tables[table] ?? [:]).sorted { $0.key.lexicographicallyPrecedes($1.key) }.map { (table, $0.key, $0.value) }
        }
    }
}
