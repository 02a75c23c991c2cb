import Foundation
import LMDB
import ParleyCore
import ParleyStore
import Testing

/// `parley audit verify` on logs changed through LMDB itself: each change is one finding at
/// its position, the chain and the values are checked past it, and the report says exactly
/// where the replay and the projection comparison stopped.
@Suite("Audit of a damaged log")
struct AuditDamageTests {
    /// A log of a few hundred events (the directory, then sends to 40 customers), its head,
    /// and the position of a send in the middle of it.
    static func log() throws -> (dir: TemporaryDirectory, head: LogHead, middle: UInt64) {
        let dir = try TemporaryDirectory()
        let engine = try openEngine(dir.path, mapSize: 4 << 20)
        try run(engine, directoryCommands + [.login(Login(agentId: "ann"))])
        for batch in 0..<10 {
            let outcomes = try engine.execute(
                (0..<30).map { i in
                    let n = batch * 30 + i
                    return CommandRequest(
                        .send(
                            SendMessage(
                                agentId: "ann", serviceId: "sales",
                                customerNumber: "+1555300\(String(format: "%04d", n % 40))",
                                text: "message \(String(format: "%04d", n))"
                            )), actor: frontend)
                })
            #expect(outcomes.allSatisfy { $0.result != nil })
        }
        let middle = try #require(
            try allEvents(engine).first { event in
                if case .messageSent(let e) = event.recorded.event { return e.text == "message 0150" }
                return false
            }
        ).recorded.position
        return (dir, engine.head, middle)
    }

    /// Verifies `dir` as `parley audit verify` does.
    static func audit(_ dir: TemporaryDirectory, expectedHead: LogHead? = nil) throws -> Auditor.Report {
        let log = try EventLog(path: dir.child(Engine.logFile), readOnly: true, mapSize: 4 << 20)
        let projections = try ProjectionDatabase(
            path: dir.child(Engine.projectionsFile), readOnly: true, mapSize: 4 << 20)
        return try Auditor(log: log, projections: projections).verify(expectedHead: expectedHead)
    }

    /// Flips one bit of the message text stored at `position` and, with `rehash`, writes the
    /// event's own hash anew, as someone covering their tracks would.
    static func changeText(_ dir: TemporaryDirectory, at position: UInt64, rehash: Bool) throws {
        let environment = try Environment(path: dir.child(Engine.logFile), options: EnvironmentOptions(maxDatabases: 8))
        let events = try environment.openDatabase("events")
        try environment.write { txn in
            let key = Key.bigEndian(position)
            var value = try #require(try txn.get(events, key).map { Array($0) })
            let text = Array("message 0150".utf8)
            let at = try #require(
                (0...(value.count - text.count)).first { value[$0..<($0 + text.count)].elementsEqual(text) })
            value[at + text.count - 1] ^= 0x01  // "0150" → "0151"
            if rehash {
                let changed = try value.withUnsafeBytes { try StoredEvent(decoding: $0) }
                value = StoredEvent.encode(changed.recorded, after: changed.prevHash).value
            }
            try txn.put(events, key: key, value: value)
        }
    }

    static func replayNote(_ what: String, at stop: UInt64) -> String {
        "the replay (domain invariants, projections) stopped at the \(what) at \(stop): it covered positions 1…\(stop - 1)"
    }

    static func projectionsNote(_ what: String, at stop: UInt64, checkpoint: UInt64) -> String {
        "projections not compared: the stored ones are at position \(checkpoint), and the replay stopped at the \(what) at \(stop), so it rebuilt them only up to \(stop - 1)"
    }

    @Test("a sound log: every check covers the whole log and nothing is noted")
    func sound() throws {
        let (dir, head, _) = try Self.log()
        let report = try Self.audit(dir, expectedHead: head)
        #expect(report.ok, "\(report.findings)")
        #expect(report.events == Int(head.position))
        #expect(report.chainCheckedFrom == 1 && report.chainCheckedThrough == head.position)
        #expect(report.valuesChecked == Int(head.position))
        #expect(report.replayedThrough == head.position && report.replayStoppedAt == nil)
        #expect(report.projectionsCheckedAt == head.position)
        #expect(report.indexesChecked)
        #expect(report.notes.isEmpty)
    }

    @Test("a flipped body byte is one finding, and the chain and values are checked past it")
    func flippedByte() throws {
        let (dir, head, middle) = try Self.log()
        try tamper(dir, .flipByte, at: middle)
        let decodes = try {
            let log = try EventLog(path: dir.child(Engine.logFile), readOnly: true, mapSize: 4 << 20)
            return (try? log.event(at: middle)) != nil
        }()
        let report = try Self.audit(dir, expectedHead: head)
        #expect(report.findings.map(\.position) == [middle], "\(report.findings)")
        #expect(
            report.findings.first?.problem.hasPrefix("hash does not match the event's bytes") == true,
            "\(report.findings)")
        #expect(report.events == Int(head.position))
        #expect(report.chainCheckedFrom == 1 && report.chainCheckedThrough == head.position)
        #expect(report.valuesChecked == Int(head.position) - (decodes ? 0 : 1))
        #expect(report.replayedThrough == middle - 1 && report.replayStoppedAt == middle)
        #expect(report.projectionsCheckpoint == head.position && report.projectionsCheckedAt == nil)
        #expect(!report.indexesChecked)
        #expect(
            report.notes == [
                Self.replayNote("damaged event", at: middle),
                Self.projectionsNote("damaged event", at: middle, checkpoint: head.position),
                "idempotency index not checked: the log is damaged",
            ])
    }

    @Test("a deleted event is one finding: the gap, at the missing position")
    func deletedEvent() throws {
        let (dir, head, middle) = try Self.log()
        try tamper(dir, .delete, at: middle)
        let report = try Self.audit(dir, expectedHead: head)
        #expect(report.findings.map(\.position) == [middle], "\(report.findings)")
        #expect(report.findings.first?.problem == "missing: the log goes from \(middle - 1) to \(middle + 1)")
        #expect(report.events == Int(head.position) - 1)
        #expect(report.chainCheckedFrom == 1 && report.chainCheckedThrough == head.position)
        #expect(report.valuesChecked == Int(head.position) - 1)
        #expect(report.replayedThrough == middle - 1 && report.replayStoppedAt == middle)
        #expect(report.projectionsCheckedAt == nil)
        #expect(
            report.notes.prefix(2) == [
                Self.replayNote("missing event", at: middle),
                Self.projectionsNote("missing event", at: middle, checkpoint: head.position),
            ])
    }

    @Test("two swapped events are two findings, at the two positions")
    func swappedEvents() throws {
        let (dir, head, middle) = try Self.log()
        try tamper(dir, .swap, at: middle)
        let report = try Self.audit(dir, expectedHead: head)
        #expect(report.findings.map(\.position) == [middle, middle + 1], "\(report.findings)")
        #expect(
            report.findings.first?.problem.contains("holds the event of position \(middle + 1)") == true,
            "\(report.findings)")
        #expect(
            report.findings.last?.problem.contains("holds the event of position \(middle)") == true,
            "\(report.findings)")
        #expect(report.events == Int(head.position))
        #expect(report.chainCheckedThrough == head.position)
        #expect(report.valuesChecked == Int(head.position))
        #expect(report.replayedThrough == middle - 1 && report.replayStoppedAt == middle)
        #expect(
            report.notes.prefix(2) == [
                Self.replayNote("damaged event", at: middle),
                Self.projectionsNote("damaged event", at: middle, checkpoint: head.position),
            ])
    }

    @Test("the last event removed is one finding at its position, with or without the recorded head")
    func lastEventRemoved() throws {
        let (dir, head, _) = try Self.log()
        try tamper(dir, .truncateTail, at: head.position, head: head.position)
        for expected in [head, nil] {
            let report = try Self.audit(dir, expectedHead: expected)
            #expect(report.findings.map(\.position) == [head.position], "\(report.findings)")
            let problem = report.findings.first?.problem ?? ""
            #expect(
                problem.contains(
                    "the projections were built up to position \(head.position) but the log ends at \(head.position - 1)"
                ))
            #expect(problem.contains("its head was recorded at \(head.position)") == (expected != nil), "\(problem)")
            #expect(report.events == Int(head.position) - 1)
            #expect(report.chainCheckedThrough == head.position - 1)
            #expect(report.replayedThrough == head.position - 1 && report.replayStoppedAt == nil)
            #expect(report.projectionsCheckedAt == nil)
            #expect(
                report.notes == [
                    "projections not compared: the stored ones are at position \(head.position), past the log's last event \(head.position - 1)",
                    "idempotency index not checked: events are missing from its end",
                ])
        }
    }

    @Test("a byte flipped with its own hash recomputed is one finding: the prevHash break at the next event")
    func rehashedEvent() throws {
        let (dir, head, middle) = try Self.log()
        try Self.changeText(dir, at: middle, rehash: true)
        let report = try Self.audit(dir, expectedHead: head)
        #expect(report.findings.map(\.position) == [middle + 1], "\(report.findings)")
        #expect(report.findings.first?.problem == "prevHash does not match the hash of the event at \(middle)")
        #expect(report.events == Int(head.position))
        #expect(report.chainCheckedThrough == head.position)
        #expect(report.valuesChecked == Int(head.position))
        #expect(report.replayedThrough == middle && report.replayStoppedAt == middle + 1)
        #expect(
            report.notes.prefix(2) == [
                Self.replayNote("damaged event", at: middle + 1),
                Self.projectionsNote("damaged event", at: middle + 1, checkpoint: head.position),
            ])
    }

    @Test("damage past the first is found too, each once")
    func twoDamages() throws {
        let (dir, head, middle) = try Self.log()
        try Self.changeText(dir, at: middle, rehash: false)
        try tamper(dir, .delete, at: middle + 50)
        let report = try Self.audit(dir, expectedHead: head)
        #expect(report.findings.map(\.position) == [middle, middle + 50], "\(report.findings)")
        #expect(report.findings.first?.problem == "hash does not match the event's bytes")
        #expect(report.replayStoppedAt == middle)
    }

    @Test("parley audit verify prints the ranges checked and where it stopped, and exits 1")
    func toolOutput() throws {
        let (dir, head, middle) = try Self.log()
        try Self.changeText(dir, at: middle, rehash: false)
        let result = try parley(["audit", "verify", "--data", dir.path, "--head", "\(head.position):\(head.hash.hex)"])
        #expect(result.status == 1, "\(result.stdout) \(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.contains("events:      \(head.position)"), "\(result.stdout)")
        #expect(
            lines.contains(
                "chain:       positions 1…\(head.position) (hashes, prevHash links, gapless positions, stream versions)"
            ))
        #expect(lines.contains("values:      \(head.position) events (every event that decodes)"))
        #expect(
            lines.contains(
                "replay:      positions 1…\(middle - 1) (domain invariants, projections); stopped at \(middle)"))
        #expect(lines.contains("projections: not compared"))
        #expect(
            lines.contains("NOTE     " + Self.projectionsNote("damaged event", at: middle, checkpoint: head.position)))
        #expect(
            lines.filter { $0.hasPrefix("FINDING") } == [
                "FINDING  position \(middle): hash does not match the event's bytes"
            ])
        #expect(lines.last == "1 finding(s)")
        #expect(!result.stderr.contains("\r"), "no progress line when stderr is not a terminal")
    }
}
