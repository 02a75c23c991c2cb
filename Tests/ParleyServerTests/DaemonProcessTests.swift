import Foundation
import Testing

/// The real `parleyd` executable, started as a child process on a private directory.
final class Daemon: @unchecked Sendable {
    let directory: String
    let process = Process()
    private let errors = Pipe()
    var socket: String { directory + "/parleyd.sock" }

    static func executable() throws -> String {
        let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for candidate in [beside, beside.deletingLastPathComponent()] {
            let path = candidate.appendingPathComponent("parleyd").path
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        var root = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { root.deleteLastPathComponent() }
        return root.path + "/.build/debug/parleyd"
    }

    /// Starts the daemon and waits until its socket answers.
    init(directory: String, arguments: [String] = []) async throws {
        self.directory = directory
        process.executableURL = URL(fileURLWithPath: try Self.executable())
        process.arguments = ["--data", directory, "--demo"] + arguments
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        for _ in 0..<200 {
            if let client = try? await TestClient.connect(path: socket) {
                client.disconnect()
                return
            }
            guard process.isRunning else { break }
            try await Task.sleep(for: .milliseconds(25))
        }
        throw DaemonFailed(log: log)
    }

    /// What the daemon logged so far (call after it exits).
    var log: String { String(decoding: errors.fileHandleForReading.availableData, as: UTF8.self) }

    /// Sends a signal and waits for the exit status.
    func stop(_ signal: Int32 = SIGTERM) async -> Int32 {
        kill(process.processIdentifier, signal)
        while process.isRunning { try? await Task.sleep(for: .milliseconds(10)) }
        return process.terminationStatus
    }

    /// Private (anonymous) resident memory in KiB, from /proc: the heap, not LMDB's file-backed map.
    var privateKiB: Int {
        let status = (try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("RssAnon:") } ?? ""
        return Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
    }
}

struct DaemonFailed: Error, CustomStringConvertible {
    let log: String
    var description: String { "parleyd did not start: \(log)" }
}

/// Runs a command-line tool to completion.
func runTool(_ path: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

@Suite("The parleyd process", .serialized)
struct DaemonProcessTests {
    @Test("SIGTERM: subscriptions get events.end (shutdown, resumeAfter), the socket is removed, exit 0; a restart keeps everything")
    func gracefulShutdownAndRestart() async throws {
        let dir = try TemporaryDirectory()
        let daemon = try await Daemon(directory: dir.path)
        let client = try await TestClient.connect(path: daemon.socket)
        try await client.result("agent.login", ["agentId": "alice", "state": "Ready"])
        let sent = try await client.result("sms.send", [
            "agentId": "alice", "serviceId": "support", "customerNumber": "+15557770001", "text": "before the restart",
        ])
        let conversation = try #require(sent["conversationId"] as? String)
        let subscriber = try await TestClient.connect(path: daemon.socket)
        try await subscriber.result("events.subscribe", ["after": 0])
        _ = try await subscriber.next("events.caughtUp")
        let headBefore = try await client.result("log.head")

        #expect(await daemon.stop() == 0)
        let end = try #require(try await subscriber.next("events.end"))
        let params = try #require(end["params"] as? [String: Any])
        #expect(params["reason"] as? String == "shutdown")
        #expect(params["resumeAfter"] as? Int == headBefore["position"] as? Int)
        #expect(try await subscriber.readLine() == nil, "the connection is closed after events.end")
        #expect(!FileManager.default.fileExists(atPath: daemon.socket), "the socket is removed")

        let restarted = try await Daemon(directory: dir.path)
        let again = try await TestClient.connect(path: restarted.socket)
        let headAfter = try await again.result("log.head")
        #expect(headAfter["position"] as? Int == headBefore["position"] as? Int)
        #expect(headAfter["hash"] as? String == headBefore["hash"] as? String)
        let transcript = try await again.result("conversation.get", ["conversationId": conversation])
        let messages = try #require(transcript["messages"] as? [[String: Any]])
        #expect(messages.map { $0["text"] as? String } == ["before the restart"])
        let view = try await again.result("agent.view", ["agentId": "alice"])
        #expect((view["agent"] as? [String: Any])?["state"] as? String == "Ready")
        #expect(await restarted.stop(SIGINT) == 0)
    }

    @Test("a second daemon on the same data directory is refused with a clear message")
    func secondDaemonRefused() async throws {
        let dir = try TemporaryDirectory()
        let daemon = try await Daemon(directory: dir.path)
        let second = try runTool(try Daemon.executable(), ["--data", dir.path, "--socket", dir.path + "/other.sock"])
        #expect(second.status == 1)
        #expect(second.output.contains("another parleyd holds the data directory"), "\(second.output)")
        #expect(await daemon.stop() == 0)
    }

    @Test("a stale socket file is replaced; a regular file at the socket path is left untouched")
    func socketPathHandling() async throws {
        let dir = try TemporaryDirectory()
        let daemon = try await Daemon(directory: dir.path)
        kill(daemon.process.processIdentifier, SIGKILL)
        while daemon.process.isRunning { try await Task.sleep(for: .milliseconds(10)) }
        #expect(FileManager.default.fileExists(atPath: daemon.socket), "SIGKILL leaves a stale socket behind")
        let restarted = try await Daemon(directory: dir.path)
        #expect(await restarted.stop() == 0)

        let notSocket = dir.path + "/notes.txt"
        try "keep me".write(toFile: notSocket, atomically: true, encoding: .utf8)
        let refused = try runTool(try Daemon.executable(), ["--data", dir.path, "--socket", notSocket])
        #expect(refused.status == 1)
        #expect(refused.output.contains("is not a socket"), "\(refused.output)")
        #expect(try String(contentsOfFile: notSocket, encoding: .utf8) == "keep me")
    }

    @Test("a group- or world-writable data directory is refused")
    func writableDirectoryRefused() throws {
        let dir = try TemporaryDirectory()
        chmod(dir.path, 0o777)
        let refused = try runTool(try Daemon.executable(), ["--data", dir.path])
        #expect(refused.status == 1)
        #expect(refused.output.contains("group- or world-writable"), "\(refused.output)")
    }

    @Test(
        "a subscriber that never reads costs bounded memory, then gets events.end (slowConsumer) while writers go on",
        .disabled(if: ProcessInfo.processInfo.environment["PARLEY_SANITIZER"] != nil, "sanitizers change memory use")
    )
    func slowSubscriberIsBounded() async throws {
        let dir = try TemporaryDirectory()
        let daemon = try await Daemon(directory: dir.path, arguments: ["--slow-consumer-timeout", "2"])
        let slow = try await TestClient.connect(path: daemon.socket)
        try await slow.result("events.subscribe", ["after": 0])
        let writer = try await TestClient.connect(path: daemon.socket)
        try await writer.result("agent.login", ["agentId": "alice", "state": "Ready"])
        let before = daemon.privateKiB
        let text = String(repeating: "x", count: 1200)
        var peak = before
        // The daemon cuts the subscriber off about 2 s after its socket fills, then gives it 30 s
        // to read what was queued before closing: the writing stops after 15 s however busy the
        // machine, so the reading below starts within that grace.
        let sends = 2500
        let deadline = ContinuousClock.now + .seconds(15)
        for i in 0..<sends where ContinuousClock.now < deadline || i < 300 {
            let answer = try await writer.call("sms.send", [
                "agentId": "alice", "serviceId": "support", "customerNumber": "+1555888\(String(format: "%04d", i))", "text": text,
            ])
            #expect(answer["result"] != nil)
            if i % 250 == 0 { peak = max(peak, daemon.privateKiB) }
        }
        peak = max(peak, daemon.privateKiB)
        let unread = try await writer.result("log.read", ["after": 0, "limit": 1])  // the head, for the figure below
        let head = unread["asOf"] as? Int ?? 0
        let unreadKiB = head * 1500 / 1024
        print("slow subscriber: daemon private memory \(before) KiB before, peak \(peak) KiB, ~\(unreadKiB) KiB of notifications unread")
        #expect(peak - before < unreadKiB / 2, "private memory grew by \(peak - before) KiB")
        try await Task.sleep(for: .seconds(3))
        var last: [String: Any] = [:]
        while let line = try await slow.readLine() {
            if let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] { last = object }
        }
        #expect(last["method"] as? String == "events.end", "the last line is events.end")
        #expect((last["params"] as? [String: Any])?["reason"] as? String == "slowConsumer")
        #expect(try await writer.result("log.head")["position"] != nil, "other clients are unaffected")
        #expect(await daemon.stop() == 0)
    }
}
