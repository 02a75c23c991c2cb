public import LMDB
public import ParleyCore

/// The append-only event log in `log.mdb`: events by position and the idempotency index.
/// Layout in `schemas/storage.md`.
///
/// Appends touch the end of `events` only (and the idempotency index, for commands with a
/// key), so a durable commit writes few, adjacent pages. Each stream's last version, which
/// the engine needs to number the next event, is derived data and lives in the projections.
///
/// The log owns its LMDB environment. Appends happen inside a write transaction the
/// caller runs (``Engine`` groups many commands into one); reads use short read
/// transactions and never block the writer.
public final class EventLog: Sendable {
    /// The LMDB environment of `log.mdb`.
    public let environment: Environment
    let events: Database
    let idempotency: Database
    let meta: Database

    /// The value of `meta["format"]` this build writes and reads.
    public static let format = "parley-log/2"
    /// The format before this one: the same events and idempotency index, plus a per-stream
    /// index (`streams`). Read as it is; a writable open upgrades it by deleting that index.
    public static let previousFormat = "parley-log/1"

    /// Opens (or creates) the log at `path`.
    /// - Parameters:
    ///   - path: The `log.mdb` file; its directory must exist.
    ///   - readOnly: Open without write access (beside a running daemon).
    ///   - mapSize: Initial map size in bytes.
    ///   - upgraded: Told, in a sentence, when a writable open upgrades a log of ``previousFormat``.
    /// - Throws: ``StoreError`` if it cannot be opened or is not a Parley log.
    public init(path: String, readOnly: Bool, mapSize: Int, upgraded: (String) -> Void = { _ in }) throws(StoreError) {
        // Before LMDB maps the file: it would fault on a page past the end of a truncated file.
        if let truncated = OpenChecks.truncation(path: path) {
            throw StoreError.corrupt(position: nil, reason: truncated)
        }
        do {
            environment = try Environment(
                path: path, options: EnvironmentOptions(mapSize: mapSize, maxDatabases: 8, readOnly: readOnly)
            )
        } catch {
            throw StoreError.storage(error)
        }
        // The databases are created only in a new file: one missing beside the others means the
        // file is damaged, and creating it empty would lose what it held (the idempotency index).
        var found: [String: Database] = [:]
        do {
            for name in Self.databases {
                found[name] = try environment.existingDatabase(name)
            }
            if found.isEmpty, !readOnly {
                // In one transaction: a kill while a new log is created leaves all or none.
                let created = try environment.createDatabases(Self.databases)
                for (name, database) in zip(Self.databases, created) { found[name] = database }
            }
        } catch {
            throw StoreError.storage(error)
        }
        let missing = Self.databases.filter { found[$0] == nil }
        guard let events = found["events"], let idempotency = found["idempotency"], let meta = found["meta"] else {
            let what = missing.map { "\"\($0)\"" }.joined(separator: ", ")
            throw StoreError.corrupt(position: nil, reason: "log.mdb has no \(what) database: it is damaged or not a Parley log")
        }
        self.events = events
        self.idempotency = idempotency
        self.meta = meta
        try checkFormat(readOnly: readOnly, upgraded: upgraded)
    }

    /// The named databases of a log.
    private static let databases = ["events", "idempotency", "meta"]

    private func checkFormat(readOnly: Bool, upgraded: (String) -> Void) throws(StoreError) {
        let found: String?
        do {
            found = try environment.read { txn in try txn.get(meta, Key.of("format")).map { String(decoding: $0, as: UTF8.self) } }
        } catch { throw StoreError.wrap(error) }
        if found == Self.previousFormat {
            if !readOnly { try upgrade(upgraded) }
        } else if let found {
            guard found == Self.format else { throw StoreError.incompatibleFormat(found: found) }
        } else if !readOnly {
            // A new log is marked with its format; a log holding events without a format mark is damaged.
            guard try lastStoredPosition() == 0 else {
                throw StoreError.corrupt(position: nil, reason: "log.mdb holds events but no format mark: its meta database is damaged")
            }
            do {
                try environment.write { txn in try txn.put(meta, key: Key.of("format"), value: Key.of(Self.format)) }
            } catch { throw StoreError.wrap(error) }
        }
    }

    /// Deletes the per-stream index of a ``previousFormat`` log and marks it ``format``, in one
    /// durable commit: its events and idempotency index are already this format's.
    private func upgrade(_ upgraded: (String) -> Void) throws(StoreError) {
        do {
            let streams = try environment.openDatabase("streams")
            try environment.write { txn in
                try txn.drop(streams)
                try txn.put(meta, key: Key.of("format"), value: Key.of(Self.format))
            }
        } catch { throw StoreError.wrap(error) }
        upgraded("log.mdb upgraded from \(Self.previousFormat) to \(Self.format): its per-stream index was deleted (stream versions are now kept in the projections)")
    }

    // MARK: Reading

    /// The newest position and hash.
    public func head() throws(StoreError) -> LogHead {
        do { return try environment.read { txn in try head(in: txn) } } catch { throw StoreError.wrap(error) }
    }

    /// The head as seen by `txn`.
    func head(in txn: ReadTransaction) throws -> LogHead {
        guard let last = try txn.cursor(events).last() else { return .empty }
        let event = try decode(last.value, key: last.key)
        return LogHead(position: event.recorded.position, hash: event.hash)
    }

    /// Up to `limit` events after position `after`, in order, from one short read transaction.
    public func read(after: UInt64, limit: Int) throws(StoreError) -> [StoredEvent] {
        do {
            return try environment.read { txn in try read(after: after, limit: limit, in: txn) }
        } catch { throw StoreError.wrap(error) }
    }

    func read(after: UInt64, limit: Int, in txn: ReadTransaction) throws -> [StoredEvent] {
        guard limit > 0 else { return [] }
        let cursor = try txn.cursor(events)
        var result: [StoredEvent] = []
        var entry = try cursor.seek(atOrAfter: Key.bigEndian(after &+ 1))
        if after == .max { entry = nil }
        while let current = entry, result.count < limit {
            result.append(try decode(current.value, key: current.key))
            entry = try cursor.next()
        }
        return result
    }

    /// Calls `body` with every stored value after `after` (and up to `until`), raw and
    /// undecoded, in chunks of short read transactions. The buffers are valid only during the call.
    /// - Returns: The number of events visited.
    @discardableResult
    public func scan(
        after: UInt64 = 0, until: UInt64 = .max, chunk: Int = 8192,
        _ body: (_ position: UInt64, _ value: UnsafeRawBufferPointer) throws -> Void
    ) throws -> Int {
        var next = after
        var visited = 0
        while next < until {
            let count = try environment.read { txn -> Int in
                let cursor = try txn.cursor(events)
                var entry = try cursor.seek(atOrAfter: Key.bigEndian(next &+ 1))
                var seen = 0
                while let current = entry, seen < chunk {
                    let position = Self.position(of: current.key)
                    // LMDB keeps keys in order; a damaged B-tree may not, and would make this loop forever.
                    guard position > next else {
                        throw StoreError.corrupt(
                            position: position, reason: "the log's keys are out of order (\(position) after \(next)): its B-tree is damaged")
                    }
                    guard position <= until else { break }
                    try body(position, current.value)
                    next = position
                    seen += 1
                    entry = try cursor.next()
                }
                return seen
            }
            visited += count
            if count < chunk { break }
        }
        return visited
    }

    /// The stored event at `position`, if any.
    public func event(at position: UInt64) throws(StoreError) -> StoredEvent? {
        do {
            return try environment.read { txn in
                try txn.get(events, Key.bigEndian(position)).map { try decode($0, key: nil) }
            }
        } catch { throw StoreError.wrap(error) }
    }

    /// The number of events.
    public func eventCount() throws(StoreError) -> Int {
        do { return try environment.read { txn in try txn.entryCount(events) } } catch { throw StoreError.wrap(error) }
    }

    func decode(_ value: UnsafeRawBufferPointer, key: UnsafeRawBufferPointer?) throws -> StoredEvent {
        do {
            return try StoredEvent(decoding: value)
        } catch {
            throw StoreError.corrupt(position: key.map(Self.position(of:)), reason: error.reason)
        }
    }

    /// Reads an 8-byte big-endian position.
    static func position(of raw: UnsafeRawBufferPointer) -> UInt64 {
        raw.prefix(8).reduce(0) { $0 << 8 | UInt64($1) }
    }

    // MARK: Appending

    /// Appends events whose positions follow `head`, extending the hash chain.
    /// - Returns: The new head.
    func append(_ recorded: [RecordedEvent], after head: LogHead, in txn: WriteTransaction) throws -> LogHead {
        var head = head
        for event in recorded {
            precondition(event.position == head.position + 1, "positions are assigned gaplessly by the engine")
            let (value, hash) = StoredEvent.encode(event, after: head.hash)
            try txn.put(events, key: Key.bigEndian(event.position), value: value, flags: .append)
            head = LogHead(position: event.position, hash: hash)
        }
        return head
    }

    /// The idempotency entry for `key`, if a command with it was accepted.
    func idempotencyEntry(_ key: IdempotencyKey, in txn: ReadTransaction) throws -> IdempotencyEntry? {
        guard let raw = try txn.get(idempotency, key.indexKey) else { return nil }
        guard raw.count == 24 else { throw StoreError.corrupt(position: nil, reason: "idempotency entry of \(raw.count) bytes") }
        return IdempotencyEntry(
            first: Self.position(of: UnsafeRawBufferPointer(rebasing: raw[0..<8])),
            last: Self.position(of: UnsafeRawBufferPointer(rebasing: raw[8..<16])),
            fingerprint: Self.position(of: UnsafeRawBufferPointer(rebasing: raw[16..<24]))
        )
    }

    /// The idempotency entry for `key`, from a fresh read transaction.
    public func idempotencyEntry(_ key: IdempotencyKey) throws(StoreError) -> IdempotencyEntry? {
        do { return try environment.read { txn in try idempotencyEntry(key, in: txn) } } catch { throw StoreError.wrap(error) }
    }

    func putIdempotencyEntry(_ key: IdempotencyKey, _ entry: IdempotencyEntry, in txn: WriteTransaction) throws {
        let value = Key.bigEndian(entry.first) + Key.bigEndian(entry.last) + Key.bigEndian(entry.fingerprint)
        try txn.put(idempotency, key: key.indexKey, value: value, flags: .noOverwrite)
    }
}

/// What an idempotency key produced: the positions of its events and the command's fingerprint.
/// `first > last` when the command appended nothing.
public struct IdempotencyEntry: Sendable, Hashable {
    /// The first event's position.
    public var first: UInt64
    /// The last event's position.
    public var last: UInt64
    /// ``ParleyCore/Command/fingerprint`` of the command.
    public var fingerprint: UInt64
}

extension StoreError {
    /// Wraps any error from the LMDB layer or below as a ``StoreError``.
    static func wrap(_ error: any Error) -> StoreError {
        switch error {
        case let error as StoreError: error
        case let error as LMDBError: .storage(error)
        case let error as BinaryDecodingError: .corrupt(position: nil, reason: error.reason)
        default: .corrupt(position: nil, reason: "\(error)")
        }
    }
}
