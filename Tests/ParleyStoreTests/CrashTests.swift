import Foundation
import ParleyCore
import ParleyStore
import Testing

@Suite("Crashes and other processes", .serialized)
struct CrashTests {
    /// Kills per run: `PARLEY_CRASH_KILLS` (default 25; the long run in the README uses 500).
    static let kills = ProcessInfo.processInfo.environment["PARLEY_CRASH_KILLS"].flatMap(Int.init) ?? 25

    /// Microseconds after start at which the child is killed: a sanitizer build starts far slower.
    static let killWindow: ClosedRange<UInt32> =
        ProcessInfo.processInfo.environment["PARLEY_SANITIZER"] == nil ? 20_000...150_000 : 300_000...1_500_000

    @Test("SIGKILL at random moments loses no reported commit; positions, chain and projections stay right")
    func killAtRandomMoments() throws {
        let dir = try TemporaryDirectory()
        let executable = try parleyExecutable("parley-debug")
        var generator = SplitMix64(seed: UInt64(Date().timeIntervalSince1970))
        var reported: [(batch: Int, last: UInt64)] = []
        var checkedBatches = 0
        for kill in 0..<Self.kills {
            let child = Process()
            child.executableURL = URL(fileURLWithPath: executable)
            child.arguments = [
                "append-loop", "--data", dir.path, "--batch-size", "8", "--start-batch", "\(kill * 1_000_000)",
                "--map-size", "\(128 << 10)",
            ]
            let output = Pipe()
            child.standardOutput = output
            child.standardError = FileHandle.nullDevice
            try child.run()
            var early = Data()
            if kill % 2 == 0 {
                // Any moment: during start-up, recovery or the first commits.
                usleep(UInt32.random(in: Self.killWindow, using: &generator))
            } else {
                // Once the child has reported a commit, among the commits that follow: these rounds
                // always have reported batches to check, however slowly this machine starts the child.
                do {
                    early = try Self.read(output.fileHandleForReading, until: "committed ")
                } catch {
                    Foundation.kill(child.processIdentifier, SIGKILL)
                    child.waitUntilExit()
                    throw error
                }
                usleep(UInt32.random(in: 0...(Self.killWindow.upperBound / 2), using: &generator))
            }
            Foundation.kill(child.processIdentifier, SIGKILL)
            child.waitUntilExit()
            #expect(child.terminationReason == .uncaughtSignal, "the child must be killed, not exit")
            let text = String(decoding: early + output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            if kill % 2 == 1 { #expect(text.contains("committed "), "kill \(kill) came after a reported commit") }
            for line in text.split(separator: "\n") {
                let parts = line.split(separator: " ")
                guard parts.count == 4, parts[0] == "committed", let batch = Int(parts[1]), let last = UInt64(parts[3]) else {
                    continue
                }
                reported.append((batch, last))
            }

            let engine = try openEngine(dir.path)
            let report = try ChainVerifier(log: engine.log).verify()
            #expect(report.finding == nil, "after kill \(kill): \(String(describing: report.finding))")
            #expect(report.head == engine.head)
            for (batch, last) in reported {
                #expect(engine.head.position >= last, "batch \(batch) was reported committed up to \(last)")
                for index in 0..<8 {
                    let scope = index % 2 == 0 ? "agent:a1" : "agent:a2"
                    let n = batch * 8 + index
                    let key = n % 5 == 4 ? IdempotencyKey(scope: "carrier", key: "b\(batch)-\(index)") : IdempotencyKey(scope: scope, key: "b\(batch)-\(index)")
                    let entry = try engine.log.idempotencyEntry(key)
                    #expect(entry != nil, "batch \(batch) command \(index) is missing after kill \(kill)")
                    if let entry, entry.first <= entry.last {
                        let events = try engine.log.read(after: entry.first - 1, limit: Int(entry.last - entry.first + 1))
                        #expect(events.allSatisfy { $0.recorded.idempotencyKey == key })
                    }
                }
                checkedBatches += 1
            }
            reported.removeAll()
            expectSameDump(try engine.projections.dump(), try rebuiltDump(of: engine, scratch: dir))
        }
        print("crash test: \(Self.kills) kills survived, \(checkedBatches) reported batches checked")
        #expect(checkedBatches > 0, "the child never reported a commit; the kills came too early to test anything")
    }

    /// Reads `handle` until what was read contains `marker`; returns all of it. A child that
    /// writes no such line within two minutes (ten under a sanitizer) is stuck: the test fails.
    static func read(_ handle: FileHandle, until marker: String) throws -> Data {
        let patience: TimeInterval = ProcessInfo.processInfo.environment["PARLEY_SANITIZER"] == nil ? 120 : 600
        let deadline = Date().addingTimeInterval(patience)
        var data = Data()
        var descriptor = pollfd(fd: handle.fileDescriptor, events: Int16(POLLIN), revents: 0)
        while !String(decoding: data, as: UTF8.self).contains(marker) {
            let left = deadline.timeIntervalSinceNow
            guard left > 0 else {
                Issue.record("the child wrote no \"\(marker)\" within \(Int(patience)) s")
                throw POSIXError(.ETIMEDOUT)
            }
            guard poll(&descriptor, 1, Int32(min(left, 1) * 1000)) > 0 else { continue }
            let chunk = handle.availableData
            if chunk.isEmpty {
                Issue.record("the child ended its output before writing \"\(marker)\"")
                throw POSIXError(.EPIPE)
            }
            data.append(chunk)
        }
        return data
    }

    @Test("another process reads the log read-only while this one writes")
    func readOnlyReaderInAnotherProcess() throws {
        let dir = try TemporaryDirectory()
        let engine = try openEngine(dir.path)
        try run(engine, scenarioCommands)
        let executable = try parleyExecutable("parley-debug")
        for round in 0..<3 {
            let child = Process()
            child.executableURL = URL(fileURLWithPath: executable)
            child.arguments = ["head", "--data", dir.path]
            let output = Pipe()
            child.standardOutput = output
            try child.run()
            try run(engine, [.receive(ReceiveInbound(from: "+1555123000\(round)", to: "+15550000001", text: "while reading"))])
            child.waitUntilExit()
            #expect(child.terminationStatus == 0)
            let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            let parts = text.split(separator: " ")
            let position = try #require(parts.first.flatMap { UInt64($0) })
            let stored = try #require(try engine.log.event(at: position))
            #expect(parts.count == 2 && parts[1].trimmingCharacters(in: .whitespacesAndNewlines) == stored.hash.hex)
            #expect(position <= engine.head.position)
        }
    }
}
