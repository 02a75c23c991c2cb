import Foundation
import ParleyCore
import ParleyServer
import ParleyStore
import Testing

/// The real `parleyd` executable, started as a child process on a private directory.
final class DaemonProcess: @unchecked Sendable {
    let directory: String
    let process: ChildProcess
    private let stderr: OutputCollector
    /// Where it listens (DIR/parleyd.sock unless the test chose another).
    let socket: String

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

    /// Starts the daemon and waits until `socket` answers (or it exits). A `launcher` (a
    /// command and its options) starts the daemon through it, as a service manager would.
    init(directory: String, arguments: [String] = [], socket: String? = nil, launcher: [String] = []) async throws {
        self.directory = directory
        let socket = socket ?? directory + "/parleyd.sock"
        self.socket = socket
        let daemon = [try Self.executable(), "--data", directory, "--demo"] + arguments
        let command = launcher + daemon
        let (process, errors) = try ChildProcess.spawn(command[0], Array(command.dropFirst()))
        self.process = process
        stderr = OutputCollector(errors)
        try await waitUntil("parleyd to answer on \(socket)") {
            if let client = try? await TestClient.connect(path: socket) {
                client.disconnect()
                return true
            }
            guard process.isRunning else { throw DaemonFailed(log: stderr.wholeText()) }
            return false
        }
    }

    deinit {
        // A test that failed midway must not leave its daemon running.
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    /// What the daemon logged so far (everything, once it has exited).
    var log: String { process.isRunning ? stderr.text : stderr.wholeText() }

    /// Sends a signal and waits for the exit status; a daemon still running after
    /// ``Patience/timeout`` is stuck: the test fails and it is killed.
    func stop(_ signal: Int32 = SIGTERM) async -> Int32 {
        kill(process.processIdentifier, signal)
        await waitForExit("parleyd to exit after signal \(signal)")
        return process.terminationStatus
    }

    /// Waits until the process has exited (SIGKILL and a failed test after ``Patience/timeout``).
    func waitForExit(_ what: String) async {
        let process = self.process
        do {
            try await waitUntil(what) { !process.isRunning }
        } catch {
            kill(process.processIdentifier, SIGKILL)
            try? await waitUntil("parleyd to die of SIGKILL") { !process.isRunning }
        }
    }

    /// Private (anonymous) resident memory in KiB, from /proc: the heap, not LMDB's file-backed map.
    var privateKiB: Int {
        let status = (try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("RssAnon:") } ?? ""
        return Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
    }
}

/// A child process that inherits no descriptor but its standard ones.
///
/// Foundation's `Process` lets a child started at the same moment as another inherit that
/// other's descriptors: its exit-watching socket and its pipes. A daemon that inherited them
/// kept a tool's pipe or exit unseen until the daemon's own test stopped it, and with the test
/// runner's few threads blocked on such waits, the suite hung under load. Here `posix_spawn`
/// closes every descriptor from 3 up in the child, and a thread of its own reaps it.
final class ChildProcess: @unchecked Sendable {
    let processIdentifier: pid_t
    private let lock = NSLock()
    private var status: Int32?

    private init(_ pid: pid_t) {
        processIdentifier = pid
        Thread { [self] in
            var raw: Int32 = 0
            while waitpid(pid, &raw, 0) == -1 && errno == EINTR {}
            // Like Foundation: the exit code, or the number of the signal that ended it.
            let code = (raw & 0x7f) == 0 ? (raw >> 8) & 0xff : raw & 0x7f
            lock.withLock { status = code }
        }.start()
    }

    /// Whether it has not exited yet.
    var isRunning: Bool { lock.withLock { status == nil } }

    /// The exit code, or the signal that ended it (-1 while it runs).
    var terminationStatus: Int32 { lock.withLock { status ?? -1 } }

    /// A glibc function Swift's Glibc module does not declare (it is a GNU extension).
    private static func glibc<F>(_ name: String, as type: F.Type) -> F {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), name) else { fatalError("glibc has no \(name) (2.34 or later is needed)") }
        return unsafeBitCast(symbol, to: type)
    }

    private static let addCloseFrom = glibc(
        "posix_spawn_file_actions_addclosefrom_np", as: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self
    )
    private static let pipe2 = glibc("pipe2", as: (@convention(c) (UnsafeMutablePointer<Int32>, Int32) -> Int32).self)

    /// Starts `executable` with `arguments`, stdin and stdout on /dev/null; returns it and the
    /// read end of its stderr.
    static func spawn(_ executable: String, _ arguments: [String]) throws -> (ChildProcess, FileHandle) {
        let (process, _, stderr) = try spawn(executable, arguments, capturingStdout: false)
        return (process, stderr)
    }

    /// Starts `executable` with `arguments`, stdin on /dev/null; returns it and the read ends of
    /// its stdout and stderr.
    static func spawnCapturing(_ executable: String, _ arguments: [String]) throws -> (
        ChildProcess, stdout: FileHandle, stderr: FileHandle
    ) {
        let (process, stdout, stderr) = try spawn(executable, arguments, capturingStdout: true)
        guard let stdout else { throw POSIXError(.EIO) }
        return (process, stdout, stderr)
    }

    private static func pipe() throws -> [Int32] {
        var pipe: [Int32] = [-1, -1]
        guard Self.pipe2(&pipe, O_CLOEXEC) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        return pipe
    }

    private static func spawn(_ executable: String, _ arguments: [String], capturingStdout: Bool) throws -> (
        ChildProcess, FileHandle?, FileHandle
    ) {
        let pipe = try Self.pipe()
        let out = capturingStdout ? try Self.pipe() : nil
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        if let out {
            posix_spawn_file_actions_adddup2(&actions, out[1], 1)
        } else {
            posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        }
        posix_spawn_file_actions_adddup2(&actions, pipe[1], 2)
        _ = Self.addCloseFrom(&actions, 3)
        // Default signal handling and no blocked signals, whatever the test runner set.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
        close(pipe[1])
        if let out { close(out[1]) }
        guard result == 0 else {
            close(pipe[0])
            if let out { close(out[0]) }
            throw POSIXError(POSIXErrorCode(rawValue: result) ?? .EIO)
        }
        return (
            ChildProcess(pid), out.map { FileHandle(fileDescriptor: $0[0], closeOnDealloc: true) },
            FileHandle(fileDescriptor: pipe[0], closeOnDealloc: true)
        )
    }
}

/// Collects what a child process writes to a pipe, on a thread of its own, so the child never
/// blocks on a full pipe and the test can look at its output while it runs.
final class OutputCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    private let ended = DispatchSemaphore(value: 0)

    /// Reads `handle` until its end. Plain `read(2)`: Foundation's `availableData` stops the
    /// whole test process (`fatalError`) on any read error, where this loop ends the output.
    init(_ handle: FileHandle) {
        Thread { [self] in
            var chunk = [UInt8](repeating: 0, count: 65536)
            while true {
                let count = chunk.withUnsafeMutableBytes { Glibc.read(handle.fileDescriptor, $0.baseAddress, $0.count) }
                if count < 0 && errno == EINTR { continue }
                if count <= 0 { break }
                lock.withLock { data.append(contentsOf: chunk[..<count]) }
            }
            ended.signal()
        }.start()
    }

    /// The output so far.
    var text: String { lock.withLock { String(decoding: data, as: UTF8.self) } }

    /// All of the output: waits (up to ``Patience/timeout``) for the end of the pipe. Call once the child has exited.
    func wholeText() -> String {
        if ended.wait(timeout: .now() + .seconds(Patience.seconds)) == .success { ended.signal() }
        return text
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
        let daemon = try await DaemonProcess(directory: dir.path)
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

        let restarted = try await DaemonProcess(directory: dir.path)
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
        let daemon = try await DaemonProcess(directory: dir.path)
        let second = try runTool(try DaemonProcess.executable(), ["--data", dir.path, "--socket", dir.path + "/other.sock"])
        #expect(second.status == 1)
        #expect(second.output.contains("another parleyd holds the data directory"), "\(second.output)")
        #expect(await daemon.stop() == 0)
    }

    @Test("a stale socket file is replaced; a regular file at the socket path is left untouched")
    func socketPathHandling() async throws {
        let dir = try TemporaryDirectory()
        let daemon = try await DaemonProcess(directory: dir.path)
        kill(daemon.process.processIdentifier, SIGKILL)
        await daemon.waitForExit("parleyd to die of SIGKILL")
        #expect(FileManager.default.fileExists(atPath: daemon.socket), "SIGKILL leaves a stale socket behind")
        let restarted = try await DaemonProcess(directory: dir.path)
        #expect(await restarted.stop() == 0)

        let notSocket = dir.path + "/notes.txt"
        try "keep me".write(toFile: notSocket, atomically: true, encoding: .utf8)
        let refused = try runTool(try DaemonProcess.executable(), ["--data", dir.path, "--socket", notSocket])
        #expect(refused.status == 1)
        #expect(refused.output.contains("is not a socket"), "\(refused.output)")
        #expect(try String(contentsOfFile: notSocket, encoding: .utf8) == "keep me")
    }

    @Test("a group- or world-writable data directory is refused")
    func writableDirectoryRefused() throws {
        let dir = try TemporaryDirectory()
        chmod(dir.path, 0o777)
        let refused = try runTool(try DaemonProcess.executable(), ["--data", dir.path])
        #expect(refused.status == 1)
        #expect(refused.output.contains("group- or world-writable"), "\(refused.output)")
    }

    /// Builds, before any daemon runs, a data directory whose log holds the demo directory,
    /// alice logged in and `messages` SMS of `text` to 100 customers, in large batches.
    static func prebuiltLog(in directory: String, messages: Int, text: String) throws {
        let engine = try Engine(directory: directory)
        _ = try engine.execute(DemoDirectory.commands.map { CommandRequest($0, actor: .system) })
        _ = try engine.execute([CommandRequest(.login(Login(agentId: "alice", state: .ready)), actor: .system)])
        for start in stride(from: 0, to: messages, by: 500) {
            let outcomes = try engine.execute((start..<min(messages, start + 500)).map { i in
                let customer = "+1555888" + String(format: "%04d", i % 100)
                return CommandRequest(.send(SendMessage(agentId: "alice", serviceId: "support", customerNumber: customer, text: text)), actor: .system)
            })
            for case .rejected(let why) in outcomes { Issue.record("a prebuilt send was refused: \(why)") }
        }
    }

    @Test(
        "a subscriber that never reads costs bounded memory, then gets events.end (slowConsumer) while writers go on",
        .disabled(if: Patience.sanitized, "sanitizers change memory use")
    )
    func slowSubscriberIsBounded() async throws {
        // What the subscriber leaves unread is fixed, not whatever a time window let the writers
        // send: a backlog of 12 000 SMS of 1 500 characters (about 1.6 KiB a notification), in
        // the log before the daemon starts.
        let dir = try TemporaryDirectory()
        let backlog = 12_000
        try Self.prebuiltLog(in: dir.path, messages: backlog, text: String(repeating: "x", count: 1500))
        // Cut off after 2 s without write progress; the grace is long enough for any machine to
        // read what was queued before the cut-off, so the reading below is never too late.
        let daemon = try await DaemonProcess(
            directory: dir.path, arguments: ["--slow-consumer-timeout", "2", "--slow-consumer-grace", "\(Patience.seconds)"]
        )
        let writer = try await TestClient.connect(path: daemon.socket)
        var sent = 0
        func send() async throws {
            let customer = "+1555777" + String(format: "%04d", sent % 100)
            sent += 1
            let answer = try await writer.call("sms.send", [
                "agentId": "alice", "serviceId": "support", "customerNumber": customer, "text": "live \(sent)",
            ])
            #expect(answer["result"] != nil, "other clients are unaffected: \(answer)")
        }
        try await send()  // the daemon's first command allocates what every later one reuses
        let head = try #require(try await writer.result("log.head")["position"] as? Int)
        #expect(head > backlog)
        let before = daemon.privateKiB

        // Subscribes from 0 and never reads again (not even the answer): the daemon reads the
        // backlog from the log, fills the socket, makes no progress and cuts the subscriber off.
        let slow = try await TestClient.connect(path: daemon.socket)
        try await slow.sendLine(jsonLine(["jsonrpc": "2.0", "id": 1, "method": "events.subscribe", "params": ["after": 0]]))
        var peak = before
        try await waitUntil("the daemon to cut the subscriber off as a slow consumer") {
            try await send()  // the writers go on meanwhile, and are served
            peak = max(peak, daemon.privateKiB)
            return sent > 20 && daemon.log.contains("slow consumer")
        }
        for _ in 0..<20 {
            try await send()
            peak = max(peak, daemon.privateKiB)
        }

        // Now it reads: what was queued before the cut-off, in order from position 1, then
        // events.end {slowConsumer} naming the last position it got, then the end of the stream.
        var positions: [Int] = []
        var eventBytes = 0
        var first: [String: Any]?
        var last: [String: Any] = [:]
        while let line = try await slow.readLine() {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            if object["method"] as? String == "events.event", let position = (object["params"] as? [String: Any])?["position"] as? Int {
                positions.append(position)
                eventBytes += line.utf8.count + 1
            }
            if first == nil { first = object }
            last = object
        }
        #expect(first?["id"] as? Int == 1 && first?["result"] != nil, "the subscribe answer comes first: \(first ?? [:])")
        #expect(last["method"] as? String == "events.end", "the last line is events.end: \(last)")
        let end = last["params"] as? [String: Any]
        #expect(end?["reason"] as? String == "slowConsumer")
        #expect(end?["resumeAfter"] as? Int == positions.last, "resumeAfter is the last event it was sent")
        #expect(positions == Array(1..<(positions.count + 1)), "every event it was sent, in order")

        // The daemon's growth has a fixed bound, whatever the backlog: the subscription's batch of
        // 512 events the socket could not take (its buffer), the next batch waiting to be written
        // (read, rendered line by line, joined, buffered: four copies), one more copy for what the
        // allocator keeps, the feed's recent events (at most 1 024 of the writers' short ones,
        // under 0.6 KiB each) and 3 MiB for everything else. The backlog left unread is more than
        // twice that: a daemon that queued events for its subscriber instead of reading the log
        // as a cursor would grow by all of it.
        let lineBytes = eventBytes / max(1, positions.count)
        let boundKiB = (6 * 512 * lineBytes + 1024 * 600) / 1024 + 3 * 1024
        let unreadKiB = (backlog - positions.count) * lineBytes / 1024
        #expect(unreadKiB > 2 * boundKiB, "the backlog is large enough to tell a cursor from a queue")
        print("slow subscriber: daemon private memory \(before) KiB before, peak \(peak) KiB (+\(peak - before), bound \(boundKiB)); it got \(positions.count) events (\(eventBytes / 1024) KiB) before the cut-off, ~\(unreadKiB) KiB unread; \(sent) live sends meanwhile")
        #expect(peak - before < boundKiB, "private memory grew by \(peak - before) KiB")
        #expect(try await writer.result("log.head")["position"] as? Int ?? 0 > head, "the writer is still served")
        #expect(await daemon.stop() == 0)
    }
}
