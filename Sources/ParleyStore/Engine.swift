import LMDB
public import ParleyCore
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Options for opening a data directory.
public struct EngineOptions: Sendable {
    /// Open without write access: queries and log reads only, beside a running daemon.
    public var readOnly: Bool
    /// Initial map size of each environment, in bytes.
    public var initialMapSize: Int
    /// The map never grows past this; beyond it commands fail with ``StoreError/full(mapSize:)``.
    public var maxMapSize: Int
    /// Milliseconds since the Unix epoch.
    public var clock: @Sendable () -> Int64
    /// Told, in a sentence, when opening repairs something: damaged projections rebuilt from the log.
    public var warning: @Sendable (String) -> Void

    /// Creates options; by default writable, 64 MiB growing to 1 TiB, wall-clock time, warnings dropped.
    public init(
        readOnly: Bool = false, initialMapSize: Int = 64 << 20, maxMapSize: Int = 1 << 40,
        clock: @escaping @Sendable () -> Int64 = Engine.wallClock, warning: @escaping @Sendable (String) -> Void = { _ in }
    ) {
        self.readOnly = readOnly
        self.initialMapSize = initialMapSize
        self.maxMapSize = maxMapSize
        self.clock = clock
        self.warning = warning
    }
}

/// A data directory opened: the event log, the projections, and the decision loop that
/// turns batches of commands into appended events (group commit).
///
/// ``execute(_:deferringProjections:)`` and ``checkpointProjections()`` must be called from one
/// thread at a time (the daemon's writer thread). Reads — ``projections``, ``log``, ``head`` —
/// are safe from any thread and never wait for it; ``projections`` shows the last checkpoint
/// (``projectionsPosition``), which may be behind ``head`` while changes are deferred.
public final class Engine: Sendable {
    /// The event log.
    public let log: EventLog
    /// The projections.
    public let projections: ProjectionDatabase
    /// The data directory.
    public let directory: String
    private let options: EngineOptions
    /// Used only inside `execute`, which runs on one thread at a time.
    nonisolated(unsafe) private let ids: any IDSource
    private let committedHead: Mutex<LogHead>
    private let projectionsBehind = Mutex(false)
    /// Projection changes of batches already in the log, not yet committed (writer thread only).
    nonisolated(unsafe) private var pending: LMDBProjections?
    nonisolated(unsafe) private var pendingBatches = 0
    /// The head the committed projections are at; see ``projectionsPosition``.
    private let visibleProjections = Mutex<UInt64>(0)

    /// The log file name inside the data directory.
    public static let logFile = "log.mdb"
    /// The projections file name inside the data directory.
    public static let projectionsFile = "projections.mdb"

    /// Opens the data directory, creating it when writable and missing, and brings the
    /// projections up to the log's head.
    ///
    /// A writable open checks what it can in bounded time: the log file covers its pages, and
    /// the chain of the last ``OpenChecks/tailWindow`` events and of every event catch-up replays
    /// is intact; a damaged log is refused (``StoreError/corrupt(position:reason:)``) and never
    /// modified. Projections that LMDB refuses, that are truncated, of another format, ahead of
    /// the log, or hold a record that does not decode are rebuilt from the log, with a warning.
    /// - Parameters:
    ///   - directory: The data directory.
    ///   - options: Read-only, map sizes, clock, warnings.
    ///   - ids: Source of new conversation and message ids; by default ``TimeOrderedIDs`` on
    ///     `options.clock`. A writable open tells it the greatest ids already stored.
    /// - Throws: ``StoreError``.
    public init(directory: String, options: EngineOptions = .init(), ids: (any IDSource)? = nil) throws {
        if !options.readOnly { try Self.makeDirectory(directory) }
        self.directory = directory
        self.options = options
        let ids = ids ?? TimeOrderedIDs(clock: options.clock)
        self.ids = ids
        log = try EventLog(
            path: DataDirectory(directory).log, readOnly: options.readOnly, mapSize: options.initialMapSize, upgraded: options.warning
        )
        projections = try Self.openProjections(in: DataDirectory(directory), options: options)
        committedHead = Mutex(try log.head())
        if !options.readOnly {
            try openingCatchUp()
            ids.resume(after: try projections.lastKeys([.conversations, .messages]))
        }
    }

    /// Opens the projections; when writable, replaces a file LMDB refuses, that is truncated, or
    /// that a system crash may have torn (``UnsyncedMarker``), and marks them unsynced.
    private static func openProjections(in directory: DataDirectory, options: EngineOptions) throws -> ProjectionDatabase {
        let path = directory.projections
        func open() throws -> ProjectionDatabase {
            try ProjectionDatabase(path: path, readOnly: options.readOnly, mapSize: options.initialMapSize)
        }
        if options.readOnly { return try open() }
        if let distrust = UnsyncedMarker.distrust(of: directory) {
            options.warning("\(distrust); rebuilding them now")
            unlink(path)
            unlink(path + "-lock")
        }
        try UnsyncedMarker.set(in: directory)
        let reason: String
        do {
            return try open()
        } catch StoreError.corrupt(.none, let truncated) {
            reason = truncated
        } catch StoreError.storage(let error) where OpenChecks.isDamage(error) {
            reason = "\(Self.projectionsFile) cannot be opened (\(error))"
        }
        options.warning("\(reason); replacing it and rebuilding the projections from the log")
        unlink(path)
        unlink(path + "-lock")
        return try open()
    }

    /// The newest committed position and hash.
    public var head: LogHead { committedHead.withLock { $0 } }

    /// Milliseconds since the Unix epoch from the system clock.
    @Sendable public static func wallClock() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
    }

    private static func makeDirectory(_ path: String) throws {
        if mkdir(path, 0o750) != 0, errno != EEXIST {
            throw StoreError.system(SystemError("mkdir \(path)"))
        }
    }

    // MARK: Catching up

    /// Catch-up at open: checks the log's tail and what will be replayed, and rebuilds the
    /// projections from scratch, with a warning, when they fail their checks.
    private func openingCatchUp() throws {
        let head = self.head
        var reason: String?
        var checkpoint: UInt64 = 0
        do {
            let stored = try projections.read { view in
                (checkpoint: try view.checkpoint(), format: try projections.storedFormat(in: view.reader))
            }
            checkpoint = stored.checkpoint
            let format = stored.format
            if let format, format != ProjectionDatabase.format {
                reason = "are of format \"\(format)\", not \"\(ProjectionDatabase.format)\""
            } else if checkpoint > head.position {
                reason = "are at position \(checkpoint), ahead of the log's head \(head.position)"
            } else if format == nil, checkpoint > 0 {
                reason = "have a checkpoint but no format marker"
            }
        } catch where OpenChecks.isProjectionDamage(error) {
            reason = "cannot be read (\(error))"
        }
        let replayFrom = reason == nil ? checkpoint : 0
        let window = head.position > OpenChecks.tailWindow ? head.position - OpenChecks.tailWindow : 0
        try OpenChecks.verifyChain(of: log, after: min(replayFrom, window), head: head)
        if let reason { options.warning("the projections \(reason); rebuilding them from the log") }
        do {
            if reason == nil {
                try catchUp()
                return
            }
        } catch where OpenChecks.isProjectionDamage(error) {
            options.warning("the projections hold a record that does not decode (\(error)); rebuilding them from the log")
            if replayFrom > 0 { try OpenChecks.verifyChain(of: log, after: 0, head: head) }
        }
        _ = try projections.apply(from: log, after: 0, to: head.position, reset: true, maxMapSize: options.maxMapSize)
        visibleProjections.withLock { $0 = head.position }
    }

    /// Applies every log event after the projections' checkpoint, first committing changes
    /// pending from ``execute(_:deferringProjections:)``: call it where that runs. Rebuilds from scratch when
    /// the projections are of another format or ahead of the log (restored from elsewhere).
    /// - Returns: The number of events applied.
    @discardableResult
    public func catchUp(progress: ((UInt64) -> Void)? = nil) throws -> Int {
        if pending != nil { checkpointProjections() }  // a second write transaction here would wait for ever
        let head = self.head
        let (checkpoint, format) = try projections.read { view in
            (try view.checkpoint(), try projections.storedFormat(in: view.reader))
        }
        let applied = try projections.apply(
            from: log, after: checkpoint, to: head.position,
            reset: format != ProjectionDatabase.format || checkpoint > head.position, maxMapSize: options.maxMapSize,
            progress: progress
        )
        visibleProjections.withLock { $0 = head.position }
        return applied
    }

    // MARK: Executing commands

    /// Decides every request in order against the projections (each sees the effects of the
    /// ones before it), appends all accepted events in one durable log commit, applies them
    /// to the projections, and returns one outcome per request.
    ///
    /// Nothing is acknowledged before the log commit is durable. A refused request appends
    /// nothing and does not affect the others.
    ///
    /// With `deferringProjections`, the projection changes stay pending in one write transaction
    /// across batches (the next batch decides against them) until ``checkpointProjections()``:
    /// readers see the projections as of the last checkpoint (``projectionsPosition``), and a crash
    /// loses nothing but work that catch-up redoes from the log. Otherwise they are committed
    /// before this returns.
    /// - Throws: ``StoreError`` when the batch could not be committed; then nothing of it was.
    public func execute(_ batch: [CommandRequest], deferringProjections: Bool = false) throws -> [CommandOutcome] {
        guard !options.readOnly else { throw StoreError.readOnly }
        let now = options.clock()
        while true {
            if projectionsBehind.withLock({ $0 }) {
                // An earlier batch is in the log but not in the projections: never decide against them.
                try catchUp()
                projectionsBehind.withLock { $0 = false }
            }
            var outcomes: [CommandOutcome] = []
            var newHead = head
            do {
                let view = try pending ?? projections.beginWrite()
                pending = view
                try tagged(.log) {
                    try log.environment.write { txn in
                        (outcomes, newHead) = try decideAndAppend(batch, now: now, view: view, txn: txn)
                    }
                }
            } catch {
                // Nothing of this batch is in the log, but the pending view holds part of it.
                discardPending()
                if let full = error as? MapFull {
                    try grow(full.environment == .log ? log.environment : projections.environment)
                    continue
                }
                if let error = error as? LMDBError, error.isMapFull {
                    try grow(projections.environment)
                    continue
                }
                throw error
            }
            // Durable from here on: whatever happens to the projections, these outcomes stand.
            committedHead.withLock { $0 = newHead }
            pendingBatches += 1
            if !deferringProjections { checkpointProjections() }
            return outcomes
        }
    }

    /// How many executed batches have projection changes waiting for ``checkpointProjections()``
    /// (writer thread only).
    public var pendingProjectionBatches: Int { pendingBatches }

    /// The log position the projections that readers see are at: the head at the last checkpoint
    /// of this (writable) engine. A read-only engine beside a daemon reads the stored
    /// `checkpoint` instead, which moves as the daemon writes.
    public var projectionsPosition: UInt64 { visibleProjections.withLock { $0 } }

    /// Commits the projection changes of every batch executed since the last checkpoint, so that
    /// readers see the projections at the log's head. Called on the thread that runs
    /// ``execute(_:deferringProjections:)`` (the pending write transaction belongs to it), or
    /// once that thread has ended.
    ///
    /// A commit that fails costs nothing durable: the projections catch up from the log, now or
    /// before the next batch is decided.
    /// - Returns: Whether readers now see the projections at the log's head (false only when
    ///   both the commit and the repair failed, e.g. with the disk full).
    @discardableResult
    public func checkpointProjections() -> Bool {
        guard let view = pending else {
            repairIfBehind()
            return projectionsPosition >= head.position
        }
        pending = nil
        pendingBatches = 0
        do {
            try view.commit()
            visibleProjections.withLock { $0 = head.position }
        } catch {
            projectionsBehind.withLock { $0 = true }
            do {
                if (error as? LMDBError)?.isMapFull == true { try grow(projections.environment) }
                try catchUp()
                projectionsBehind.withLock { $0 = false }
            } catch {
                // Repaired before the next batch, which cannot proceed until the projections catch up.
            }
        }
        return projectionsPosition >= head.position
    }

    /// Catches the projections up after a failed batch or checkpoint left them behind the log;
    /// on failure they stay marked, and the next batch tries again before deciding anything.
    private func repairIfBehind() {
        guard projectionsBehind.withLock({ $0 }) else { return }
        if (try? catchUp()) != nil { projectionsBehind.withLock { $0 = false } }
    }

    /// Drops the pending projection changes; the projections catch up from the log before the
    /// next batch when they held any committed batch.
    private func discardPending() {
        guard let view = pending else { return }
        view.abort()
        pending = nil
        if pendingBatches > 0 { projectionsBehind.withLock { $0 = true } }
        pendingBatches = 0
    }

    /// Commits the pending projections, forces them to disk (they commit without fsync) and
    /// removes the ``UnsyncedMarker``; called last, at a clean shutdown.
    public func flush() throws {
        guard !options.readOnly else { return }
        checkpointProjections()
        try projections.environment.sync(force: true)
        try UnsyncedMarker.clear(in: DataDirectory(directory))
    }

    private func decideAndAppend(
        _ batch: [CommandRequest], now: Int64, view: LMDBProjections, txn: WriteTransaction
    ) throws -> ([CommandOutcome], LogHead) {
        var head = self.head
        var outcomes: [CommandOutcome] = []
        outcomes.reserveCapacity(batch.count)
        var versions: [String: UInt64] = [:]
        let projector = Projector(store: view)
        for request in batch {
            let key = request.idempotencyKey.map { IdempotencyKey(scope: request.command.idempotencyScope, key: $0) }
            if let key, let entry = try log.idempotencyEntry(key, in: txn) {
                guard entry.fingerprint == request.command.fingerprint else {
                    outcomes.append(.rejected(.idempotencyKeyReused(key: key.key)))
                    continue
                }
                let original = entry.first <= entry.last
                    ? try log.read(after: entry.first - 1, limit: Int(entry.last - entry.first + 1), in: txn).map(\.recorded)
                    : []
                let state = resultingState(request.command, original, view)
                outcomes.append(.accepted(CommandResult(events: original, position: entry.last, replayed: true, state: state)))
                continue
            }
            if let key, key.key.isEmpty || key.key.utf8.count > Limits.reference {
                outcomes.append(.rejected(.invalidArgument(
                    field: "idempotencyKey", reason: "must be 1 to \(Limits.reference) bytes"
                )))
                continue
            }
            let events: [Event]
            do {
                events = try tagged(.projections) {
                    try Decider(state: view, ids: ids, head: head.position).decide(request.command)
                }
            } catch let rejection as Rejection {
                outcomes.append(.rejected(rejection))
                continue
            } catch let error as LMDBError {
                // A value LMDB refuses as a key (empty, or over 511 bytes) fails this command, not the batch.
                outcomes.append(.rejected(.invalidArgument(field: "params", reason: "an id is empty or too long (\(error.code.rawValue))")))
                continue
            }
            var recorded: [RecordedEvent] = []
            recorded.reserveCapacity(events.count)
            for (offset, event) in events.enumerated() {
                let stream = event.stream
                let version: UInt64
                if let known = versions[stream] {
                    version = known + 1
                } else {
                    version = try tagged(.projections) { try view.streamVersion(stream) } + 1
                }
                versions[stream] = version
                recorded.append(RecordedEvent(
                    position: head.position + UInt64(offset) + 1, stream: stream, streamVersion: version,
                    timestamp: now, actor: request.actor, idempotencyKey: key, event: event
                ))
            }
            let first = head.position + 1
            head = try tagged(.log) { try log.append(recorded, after: head, in: txn) }
            if let key {
                try tagged(.log) {
                    try log.putIdempotencyEntry(
                        key, IdempotencyEntry(first: first, last: head.position, fingerprint: request.command.fingerprint),
                        in: txn
                    )
                }
            }
            try tagged(.projections) {
                try projector.apply(recorded)
                if recorded.isEmpty == false { try view.put(.meta, MetaKey.checkpoint, Key.bigEndian(head.position)) }
            }
            let state = resultingState(request.command, recorded, view)
            outcomes.append(.accepted(CommandResult(events: recorded, position: head.position, replayed: false, state: state)))
        }
        return (outcomes, head)
    }

    /// What `command` left, for its answer and the feed. A failed read costs the answer its
    /// extras (and the feed its shortcut), never the batch.
    private func resultingState(_ command: Command, _ events: [RecordedEvent], _ view: LMDBProjections) -> ResultingState {
        (try? ResultingState.read(after: command, events: events, in: view)) ?? ResultingState()
    }

    // MARK: Map growth

    private enum Side { case log, projections }

    private struct MapFull: Error { let environment: Side }

    private func tagged<R>(_ side: Side, _ body: () throws -> R) throws -> R {
        do { return try body() } catch let error as LMDBError where error.isMapFull { throw MapFull(environment: side) }
    }

    private func grow(_ environment: Environment) throws {
        try MapGrowth.grow(environment, maximum: options.maxMapSize)
    }
}
