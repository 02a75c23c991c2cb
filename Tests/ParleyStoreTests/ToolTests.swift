import Foundation
import LMDB
import ParleyCore
import ParleyStore
import Testing

/// Runs `parley` with arguments; returns its exit status and output.
func parley(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: try parleyExecutable())
    process.arguments = arguments
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    let stderr = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
}

/// A fixture data directory holding the scenario log (every event type).
func fixture(_ dir: TemporaryDirectory) throws -> (head: LogHead, events: Int) {
    let engine = try openEngine(dir.path)
    try run(engine, scenarioCommands)
    return (engine.head, Int(engine.head.position))
}

@Suite("Offline tools", .serialized)
struct ToolTests {
    @Test("log dump prints every event as a JSON line with its chain hash, and honours --after/--until")
    func logDump() throws {
        let dir = try TemporaryDirectory()
        let (head, count) = try fixture(dir)
        let all = try parley(["log", "dump", "--data", dir.path])
        #expect(all.status == 0)
        let lines = all.stdout.split(separator: "\n")
        #expect(lines.count == count)
        let lastLine = String(lines.last ?? "")
        let parsed = try JSONSerialization.jsonObject(with: Data(lastLine.utf8))
        let last = try #require(parsed as? [String: Any])
        #expect(last["hash"] as? String == head.hash.hex)
        #expect(last["position"] as? Int == count)
        let middle = try parley(["log", "dump", "--data", dir.path, "--after", "5", "--until", "9"])
        #expect(middle.stdout.split(separator: "\n").count == 4)
        try validateWithSchemas(lines.map(String.init), scratch: dir)
    }

    @Test("audit verify passes on a sound log and prints events, head position and hash")
    func verifyPasses() throws {
        let dir = try TemporaryDirectory()
        let (head, count) = try fixture(dir)
        let result = try parley(["audit", "verify", "--data", dir.path, "--json"])
        #expect(result.status == 0, "\(result.stdout) \(result.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(report["events"] as? Int == count)
        #expect(report["headHash"] as? String == head.hash.hex)
        #expect(report["projectionsCheckedAt"] as? Int == count)
        #expect((report["findings"] as? [Any])?.isEmpty == true)
    }

    @Test("projections of another format: verify, stats and backup check and copy the log without them")
    func projectionsOfAnotherFormat() throws {
        let dir = try TemporaryDirectory()
        let (head, count) = try fixture(dir)
        try editProjections(dir) { txn, meta, _ in
            try txn.put(meta, key: Key.of("format"), value: Key.of("parley-projections/1"))
        }
        let verify = try parley(["audit", "verify", "--data", dir.path, "--json"])
        #expect(verify.status == 0, "\(verify.stdout) \(verify.stderr)")
        #expect(verify.stderr.contains("format parley-projections/1, not \(ProjectionDatabase.format)"), "\(verify.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(verify.stdout.utf8)) as? [String: Any])
        #expect(report["events"] as? Int == count)
        #expect((report["findings"] as? [Any])?.isEmpty == true)
        #expect(report["projectionsCheckedAt"] == nil || report["projectionsCheckedAt"] is NSNull)
        let stats = try parley(["stats", "--data", dir.path])
        #expect(stats.status == 0, "\(stats.stdout) \(stats.stderr)")
        let target = dir.child("backup")
        let backup = try parley(["backup", "--data", dir.path, "--to", target])
        #expect(backup.status == 0, "\(backup.stdout) \(backup.stderr)")
        #expect(FileManager.default.fileExists(atPath: DataDirectory(target).log))
        #expect(!FileManager.default.fileExists(atPath: DataDirectory(target).projections), "derived: rebuilt on the copy")
        #expect(head.position == UInt64(count))
    }

    @Test("tampering makes audit verify exit 1 naming the position", arguments: Tampering.allCases)
    func tampering(_ tampering: Tampering) throws {
        let dir = try TemporaryDirectory()
        let (head, _) = try fixture(dir)
        try tamper(dir, tampering, at: 7, head: head.position)
        let extra = tampering == .truncateTail ? ["--head", "\(head.position):\(head.hash.hex)"] : []
        let result = try parley(["audit", "verify", "--data", dir.path] + extra)
        #expect(result.status == 1, "\(result.stdout)")
        #expect(result.stdout.contains("FINDING  position 7"), "\(result.stdout)")
    }


    @Test("audit replay shows what an agent saw at a position")
    func replay() throws {
        let dir = try TemporaryDirectory()
        _ = try fixture(dir)
        let engine = try openEngine(dir.path, readOnly: true)
        let firstDid = try #require(try allEvents(engine).first { event in
            if case .inboundReceived(let e) = event.recorded.event { return e.to == "+15550001001" }
            return false
        }).recorded.position
        let before = try parley(["audit", "replay", "--data", dir.path, "--until", "\(firstDid - 1)", "--agent", "ann"])
        let after = try parley(["audit", "replay", "--data", dir.path, "--until", "\(firstDid)", "--agent", "ann"])
        #expect(before.status == 0 && after.status == 0)
        func unread(_ json: String) throws -> Int? {
            let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
            return ((object?["view"] as? [String: Any])?["agent"] as? [String: Any])?["unread"] as? Int
        }
        #expect(try unread(before.stdout) == 0)
        #expect(try unread(after.stdout) == 1)
        let submitted = try parley(["audit", "replay", "--data", dir.path, "--until", "14", "--conversation", "c-1"])
        let sent = try parley(["audit", "replay", "--data", dir.path, "--until", "15", "--conversation", "c-1"])
        let delivered = try parley(["audit", "replay", "--data", dir.path, "--until", "16", "--conversation", "c-1"])
        #expect(submitted.stdout.contains("\"status\":\"queued\""), "at 14 kannel had only submitted it")
        #expect(submitted.stdout.contains("\"submission\":{\"attempt\":1,\"connector\":\"kannel\""))
        #expect(sent.stdout.contains("\"status\":\"sent\""), "at 15 the carrier had reported sent")
        #expect(delivered.stdout.contains("\"status\":\"delivered\""), "at 16, delivered")
    }

    @Test("projections rebuild gives byte-identical projections and refuses while a daemon holds the directory")
    func rebuild() throws {
        let dir = try TemporaryDirectory()
        let live: [(table: Table, key: [UInt8], value: [UInt8])]
        do {
            let engine = try openEngine(dir.path)
            try run(engine, scenarioCommands)
            live = try engine.projections.dump()
        }
        let result = try parley(["projections", "rebuild", "--data", dir.path])
        #expect(result.status == 0, "\(result.stderr)")
        let reopened = try openEngine(dir.path, readOnly: true)
        expectSameDump(try reopened.projections.dump(), live)

        let lock = try DirectoryLock(directory: dir.path)
        let refused = try parley(["projections", "rebuild", "--data", dir.path])
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("holds"))
        withExtendedLifetime(lock) {}
    }

    @Test("a rebuild killed at random moments leaves a directory that opens with correct projections")
    func rebuildKilled() throws {
        let dir = try TemporaryDirectory()
        let expected: [(table: Table, key: [UInt8], value: [UInt8])]
        do {
            let engine = try openEngine(dir.path, mapSize: 1 << 20)
            try run(engine, directoryCommands + [.login(Login(agentId: "ann"))])
            for batch in 0..<30 {
                _ = try engine.execute((0..<100).map { i in
                    CommandRequest(.send(SendMessage(agentId: "ann", serviceId: "sales", customerNumber: "+1555300\(String(format: "%04d", batch * 100 + i))", text: "m")), actor: frontend)
                })
            }
            expected = try engine.projections.dump()
        }
        var generator = SplitMix64(seed: 42)
        let scratch = DataDirectory(dir.path).projections + ".rebuild"
        var killedMidRebuild = 0
        for round in 0..<8 {
            // Odd rounds: a rebuild that stops itself once its first chunk is in the scratch file,
            // before the swap, killed there however fast or slow the machine. Even rounds: the real
            // `parley projections rebuild`, killed at a random moment, before, during or after.
            let paused = round % 2 == 1
            let child = Process()
            child.executableURL = URL(fileURLWithPath: try parleyExecutable(paused ? "parley-debug" : "parley"))
            child.arguments = paused ? ["rebuild-paused", "--data", dir.path] : ["projections", "rebuild", "--data", dir.path]
            let output = Pipe()
            child.standardOutput = paused ? output : FileHandle.nullDevice
            child.standardError = FileHandle.nullDevice
            try child.run()
            if paused {
                // It prints `paused` just before it stops itself; end of file means it exited instead.
                if Self.readLine(output.fileHandleForReading.fileDescriptor) == "paused",
                    FileManager.default.fileExists(atPath: scratch)
                {
                    killedMidRebuild += 1
                }
            } else {
                usleep(UInt32.random(in: 1_000...120_000, using: &generator))
            }
            kill(child.processIdentifier, SIGKILL)
            child.waitUntilExit()
            let engine = try openEngine(dir.path)
            expectSameDump(try engine.projections.dump(), expected)
        }
        #expect(killedMidRebuild > 0, "no round caught the rebuild at work")
        #expect(killedMidRebuild == 4, "every odd round kills a rebuild stopped at work")
    }

    /// The first line read from `descriptor` (blocking), or what came before end of file.
    private static func readLine(_ descriptor: Int32) -> String {
        var line: [UInt8] = []
        var byte: UInt8 = 0
        while true {
            let count = read(descriptor, &byte, 1)
            if count < 0, errno == EINTR { continue }
            guard count == 1, byte != UInt8(ascii: "\n") else { break }
            line.append(byte)
        }
        return String(decoding: line, as: UTF8.self)
    }

    @Test("a backup taken under write load verifies and matches the log up to its head")
    func backupUnderLoad() async throws {
        let dir = try TemporaryDirectory()
        let engine = try openEngine(dir.path)
        try run(engine, directoryCommands + [.login(Login(agentId: "ann"))])
        // The writer goes on until the backup has finished, and the backup starts once the first
        // batch is in: the whole copy is taken under write load, however the two are scheduled.
        // The writer has a thread of its own: a loop that waits for the test body must not hold
        // one of the test runner's few cooperative threads, which the test body needs.
        let (started, signalStarted) = AsyncStream.makeStream(of: Void.self)
        let (finished, signalFinished) = AsyncStream.makeStream(of: String?.self)
        let backupDone = BackupFlag()
        Thread {
            var failure: String?
            do {
                var batch = 0
                while batch < 2 || !backupDone.isSet {
                    _ = try engine.execute((0..<20).map { i in
                        CommandRequest(.send(SendMessage(agentId: "ann", serviceId: "sales", customerNumber: "+1555400\(String(format: "%05d", batch * 20 + i))", text: "load")), actor: frontend)
                    })
                    batch += 1
                    if batch == 1 { signalStarted.finish() }
                }
            } catch {
                failure = "\(error)"
            }
            signalStarted.finish()
            signalFinished.yield(failure)
            signalFinished.finish()
        }.start()
        for await _ in started {}
        let copy = dir.child("copy")
        let result = try parley(["backup", "--data", dir.path, "--to", copy])
        backupDone.set()
        #expect(result.status == 0, "\(result.stderr)")
        for await failure in finished { #expect(failure == nil, "the writer failed: \(failure ?? "")") }
        let verify = try parley(["audit", "verify", "--data", copy])
        #expect(verify.status == 0, "\(verify.stdout)")
        let backupLog = try EventLog(path: copy + "/" + Engine.logFile, readOnly: true, mapSize: 1 << 20)
        let backupHead = try backupLog.head()
        #expect(backupHead.position > 0 && backupHead.position <= engine.head.position)
        #expect(try engine.log.event(at: backupHead.position)?.hash == backupHead.hash, "the copy is a prefix of the live log")
        let again = try parley(["backup", "--data", dir.path, "--to", copy])
        #expect(again.status == 2, "an existing copy is not overwritten")
    }

    @Test("stats counts events by type; usage errors exit 2")
    func stats() throws {
        let dir = try TemporaryDirectory()
        let (_, count) = try fixture(dir)
        let result = try parley(["stats", "--data", dir.path, "--json"])
        #expect(result.status == 0)
        let stats = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(stats["events"] as? Int == count)
        let byType = try #require(stats["eventsByType"] as? [String: Int])
        #expect(byType.values.reduce(0, +) == count)
        #expect(byType["MessageSent"] == 2)
        #expect(try parley(["stats", "--data", dir.child("missing")]).status == 2)
        #expect(try parley(["audit", "verify", "--no-such-flag"]).status == 2)
    }
}

/// Set once the backup has finished, so the writer knows it may stop.
final class BackupFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    var isSet: Bool { lock.withLock { value } }
    func set() { lock.withLock { value = true } }
}
