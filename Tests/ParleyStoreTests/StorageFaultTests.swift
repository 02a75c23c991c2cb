import Foundation
import LMDB
import ParleyCore
import ParleyStore
import Testing

/// Warnings an engine reports while opening.
final class Warnings: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    var all: [String] { lock.withLock { lines } }
    func add(_ line: String) { lock.withLock { lines.append(line) } }
}

/// Opens an engine with deterministic ids and clock, collecting its warnings.
func openEngine(_ directory: String, warnings: Warnings) throws -> Engine {
    try Engine(
        directory: directory,
        options: EngineOptions(initialMapSize: 1 << 20, clock: fakeClock(), warning: { warnings.add($0) }),
        ids: SequentialIDs()
    )
}

/// Changes the projections of `dir` directly through LMDB, as a bad restore or a bug would.
func editProjections(_ dir: TemporaryDirectory, _ body: (WriteTransaction, Database, Database) throws -> Void) throws {
    let environment = try Environment(
        path: dir.child(Engine.projectionsFile), options: EnvironmentOptions(maxDatabases: Table.allCases.count + 1)
    )
    let meta = try environment.openDatabase(Table.meta.name)
    let agents = try environment.openDatabase(Table.agents.name)
    try environment.write { txn in try body(txn, meta, agents) }
}

/// Storage faults met at open: damaged projections are rebuilt from the log with a warning;
/// a damaged log is refused, naming the position, and never modified.
@Suite("Storage faults", .serialized)
struct StorageFaultTests {
    enum ProjectionDamage: String, CaseIterable, CustomStringConvertible {
        case notLMDB, truncated, otherFormat, aheadOfLog, undecodableRecord, unsyncedAtSystemCrash
        var description: String { rawValue }

        /// What the warning must say.
        var warning: String {
            switch self {
            case .notLMDB: "cannot be opened"
            case .truncated: "is truncated"
            case .otherFormat: "are of format \"parley-projections/0\""
            case .aheadOfLog: "ahead of the log's head"
            case .undecodableRecord: "does not decode"
            case .unsyncedAtSystemCrash: "without fsync when the system stopped"
            }
        }
    }

    @Test("projections that fail their checks at open are rebuilt from the log, with a warning saying why", arguments: ProjectionDamage.allCases)
    func damagedProjectionsAreRebuilt(_ damage: ProjectionDamage) throws {
        let dir = try TemporaryDirectory()
        let head: UInt64
        let loginAnn: UInt64
        do {
            let engine = try openEngine(dir.path)
            try run(engine, scenarioCommands)
            head = engine.head.position
            loginAnn = try #require(try allEvents(engine).first {
                if case .agentLoggedIn(let e) = $0.recorded.event { return e.agentId == "ann" }
                return false
            }?.recorded.position)
        }
        let projections = dir.child(Engine.projectionsFile)
        switch damage {
        case .notLMDB:
            try Data(repeating: 0xAB, count: 64 << 10).write(to: URL(fileURLWithPath: projections))
        case .truncated:
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: projections))
            try handle.truncate(atOffset: 3 * 4096)
            try handle.close()
        case .otherFormat:
            try editProjections(dir) { txn, meta, _ in try txn.put(meta, key: Key.of("format"), value: Key.of("parley-projections/0")) }
        case .aheadOfLog:
            try editProjections(dir) { txn, meta, _ in try txn.put(meta, key: Key.of("checkpoint"), value: Key.bigEndian(head + 100)) }
        case .undecodableRecord:
            // A record catch-up must read is garbage: catch-up replays ann's login over it.
            try editProjections(dir) { txn, meta, agents in
                try txn.put(agents, key: Key.of("ann"), value: [0xFF, 0xFF, 0xFF])
                try txn.put(meta, key: Key.of("checkpoint"), value: Key.bigEndian(loginAnn - 1))
            }
        case .unsyncedAtSystemCrash:
            // A torn file may look sound: only the marker of another boot tells. Catch-up would
            // never read this record (the checkpoint is the head); the rebuild replaces it.
            try editProjections(dir) { txn, _, agents in try txn.put(agents, key: Key.of("ann"), value: [0xFF, 0xFF, 0xFF]) }
            try Data("another-boot\n".utf8).write(to: URL(fileURLWithPath: dir.child(UnsyncedMarker.fileName)))
        }
        let logBefore = try Data(contentsOf: URL(fileURLWithPath: dir.child(Engine.logFile)))
        let warnings = Warnings()
        let reopened = try openEngine(dir.path, warnings: warnings)
        #expect(warnings.all.count == 1, "\(warnings.all)")
        #expect(warnings.all.first?.contains(damage.warning) == true, "\(warnings.all)")
        #expect(warnings.all.first?.contains("rebuilding") == true, "\(warnings.all)")
        #expect(reopened.head.position == head)
        #expect(try reopened.projections.read { try $0.checkpoint() } == head)
        expectSameDump(try reopened.projections.dump(), try rebuiltDump(of: reopened, scratch: dir))
        #expect(try Data(contentsOf: URL(fileURLWithPath: dir.child(Engine.logFile))) == logBefore, "the log is never written")
        // And the store works on: a new command is decided against the rebuilt projections.
        try run(reopened, [.logout(Logout(agentId: "bob"))])
    }

    @Test("sound projections open without a warning")
    func soundProjectionsNoWarning() throws {
        let dir = try TemporaryDirectory()
        do { try run(try openEngine(dir.path), scenarioCommands) }
        // Not flushed, as after a killed daemon: the marker names this boot, so nothing is rebuilt.
        #expect(UnsyncedMarker.state(of: DataDirectory(dir.path)) == .thisBoot)
        let warnings = Warnings()
        let engine = try openEngine(dir.path, warnings: warnings)
        #expect(warnings.all.isEmpty, "\(warnings.all)")
        try engine.flush()
        #expect(UnsyncedMarker.state(of: DataDirectory(dir.path)) == .clean, "a clean shutdown removes the marker")
        #expect(UnsyncedMarker.distrust(of: DataDirectory(dir.path)) == nil)
    }

    @Test("projections a system crash may have torn are left out of a backup, and the read-only tools say why")
    func unsyncedProjectionsLeftOutOfBackup() throws {
        let dir = try TemporaryDirectory()
        do { try run(try openEngine(dir.path), scenarioCommands) }
        try Data("another-boot\n".utf8).write(to: URL(fileURLWithPath: dir.child(UnsyncedMarker.fileName)))
        let reason = try #require(UnsyncedMarker.distrust(of: DataDirectory(dir.path)))
        #expect(reason.contains("another-boot") && reason.contains("rebuilds them"), "\(reason)")
        let backup = dir.child("backup")
        _ = try Backup.copy(directory: dir.path, to: backup)
        #expect(FileManager.default.fileExists(atPath: DataDirectory(backup).log))
        #expect(!FileManager.default.fileExists(atPath: DataDirectory(backup).projections))
        let statistics = try LogStatistics.of(directory: dir.path)
        #expect(statistics.projectionsCheckpoint == nil)
    }

    @Test("a damaged event in the log's tail is refused at open, naming its position; the log is left as it is", arguments: [
        Tampering.flipByte, .delete, .swap,
    ])
    func damagedTailRefused(_ tampering: Tampering) throws {
        let dir = try TemporaryDirectory()
        let head: UInt64
        do {
            let engine = try openEngine(dir.path)
            try run(engine, scenarioCommands)
            head = engine.head.position
        }
        let position = head - 3
        try tamper(dir, tampering, at: position)
        let before = try Data(contentsOf: URL(fileURLWithPath: dir.child(Engine.logFile)))
        do {
            _ = try openEngine(dir.path)
            Issue.record("a damaged log was opened")
        } catch StoreError.corrupt(let found, let reason) {
            #expect(found == position, "\(String(describing: found)): \(reason)")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: dir.child(Engine.logFile))) == before, "the log was not modified")
        // Read-only tools still open it, so `parley audit verify` can report the finding
        // (for a deleted event, at the missing position).
        let verifier = ChainVerifier(log: try openEngine(dir.path, readOnly: true).log)
        let finding = try #require(try verifier.verify().finding)
        #expect(finding.position == position, "\(finding)")
    }

    @Test("the open checks the tail window and every event catch-up replays, not the whole log")
    func openCheckIsBounded() throws {
        let dir = try TemporaryDirectory()
        let early: UInt64 = 5
        let head: UInt64
        do {
            let engine = try openEngine(dir.path)
            try run(engine, directoryCommands)
            // Over 1 024 events, so position 5 lies outside the tail window.
            let templates = (0..<1200).map {
                CommandRequest(.putTemplate(PutTemplate(templateId: "t\($0)", title: "T\($0)", text: "Text \($0)")), actor: admin)
            }
            _ = try engine.execute(templates)
            head = engine.head.position
        }
        try tamper(dir, .flipByte, at: early)
        // Projections at the head: only the tail window is checked, and it is sound.
        do { _ = try openEngine(dir.path) }
        // Projections behind the damaged event: catch-up would replay it, so the open refuses.
        try editProjections(dir) { txn, meta, _ in try txn.put(meta, key: Key.of("checkpoint"), value: Key.bigEndian(early - 1)) }
        #expect(throws: StoreError.self) { _ = try openEngine(dir.path) }
        do {
            _ = try openEngine(dir.path)
        } catch StoreError.corrupt(let found, _) {
            #expect(found == early)
        }
        #expect(head > 1024 + early)
    }

    @Test("a log whose idempotency index is gone is refused, not given a new empty one; projections missing a table are rebuilt")
    func missingDatabasesAreDamage() throws {
        let dir = try TemporaryDirectory()
        do {
            let engine = try openEngine(dir.path)
            try run(engine, scenarioCommands)
        }
        do {
            let projections = try Environment(
                path: dir.child(Engine.projectionsFile), options: EnvironmentOptions(maxDatabases: Table.allCases.count + 1))
            let agents = try projections.openDatabase(Table.agents.name)
            try projections.write { txn in try txn.drop(agents) }
        }
        let warnings = Warnings()
        do { _ = try openEngine(dir.path, warnings: warnings) }
        #expect(warnings.all.contains { $0.contains("has no \"agents\" table") }, "\(warnings.all)")

        do {
            let log = try Environment(path: dir.child(Engine.logFile), options: EnvironmentOptions(maxDatabases: 8))
            let index = try log.openDatabase("idempotency")
            try log.write { txn in try txn.drop(index) }
        }
        let before = try Data(contentsOf: URL(fileURLWithPath: dir.child(Engine.logFile)))
        for readOnly in [false, true] {
            do {
                _ = try openEngine(dir.path, readOnly: readOnly)
                Issue.record("a log without its idempotency index was opened (read-only: \(readOnly))")
            } catch StoreError.corrupt(nil, let reason) {
                #expect(reason.contains("\"idempotency\""), "\(reason)")
            }
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: dir.child(Engine.logFile))) == before, "the log was not modified")
    }

    @Test("a truncated log file is refused at open instead of faulting on a missing page")
    func truncatedLogRefused() throws {
        let dir = try TemporaryDirectory()
        do {
            let engine = try openEngine(dir.path)
            try run(engine, directoryCommands)
            _ = try engine.execute((0..<300).map {
                CommandRequest(.putTemplate(PutTemplate(templateId: "t\($0)", title: "T\($0)", text: "Text \($0)")), actor: admin)
            })
        }
        let path = dir.child(Engine.logFile)
        let size = try #require((try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.truncate(atOffset: UInt64(size / 2))
        try handle.close()
        do {
            _ = try openEngine(dir.path)
            Issue.record("a truncated log was opened")
        } catch StoreError.corrupt(_, let reason) {
            #expect(reason.contains("truncated"), "\(reason)")
        }
    }
}
