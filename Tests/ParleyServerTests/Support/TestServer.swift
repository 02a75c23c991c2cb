import Foundation
import Logging
import ParleyCore
import ParleyProtocol
import ParleyServer
import ParleyStore
import ServiceLifecycle
import Testing

/// A unique temporary directory (mode 0700), removed when released.
final class TemporaryDirectory: @unchecked Sendable {
    let path: String

    init() throws {
        // Short paths: a Unix socket path must fit in 108 bytes.
        path = "/tmp/pt-" + String(UUID().uuidString.prefix(8))
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// Deterministic clock for golden transcripts.
final class StepClock: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Int64 = 1_796_000_000_000
    func next() -> Int64 {
        lock.lock()
        defer { lock.unlock() }
        value += 1000
        return value
    }
}

/// A daemon running inside the test process: engine, writer, socket server in a service group.
final class TestServer: @unchecked Sendable {
    let directory: TemporaryDirectory
    let engine: Engine
    let context: ServerContext
    let socketPath: String
    private let daemon: Daemon
    private var runTask: Task<Void, any Error>?

    init(
        limits: ServerLimits = ServerLimits(), policy: RolePolicy? = nil, slowConsumerTimeout: Duration = .seconds(10),
        lineTimeout: Duration = .seconds(30), seedDemo: Bool = true, deterministic: Bool = true,
        checkpointInterval: Duration = .milliseconds(20)
    ) async throws {
        directory = try TemporaryDirectory()
        socketPath = directory.path + "/s.sock"
        let clock = StepClock()
        var tick: @Sendable () -> Int64 = { Engine.wallClock() }
        var ids: any IDSource = TimeOrderedIDs(clock: Engine.wallClock)
        if deterministic {
            tick = { clock.next() }
            ids = SequentialIDs()
        }
        engine = try Engine(directory: directory.path + "/data", options: EngineOptions(clock: tick), ids: ids)
        if seedDemo { _ = try engine.execute(DemoDirectory.commands.map { CommandRequest($0, actor: .system) }) }
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let ready = AsyncStream<Void>.makeStream()
        let configuration = DaemonConfiguration(
            socketPath: socketPath, policy: policy ?? RolePolicy(ownUid: getuid()), limits: limits,
            slowConsumerTimeout: slowConsumerTimeout, lineTimeout: lineTimeout, checkpointInterval: checkpointInterval
        )
        daemon = Daemon(engine: engine, configuration: configuration, logger: logger, ready: { ready.continuation.yield() })
        context = daemon.context
        let daemon = self.daemon
        runTask = Task { try await daemon.run() }
        for await _ in ready.stream { break }
    }

    /// Reads the projections once they hold every command answered so far (the writer commits
    /// projection changes at its checkpoints).
    func readProjections<R>(_ body: (LMDBProjections) throws -> R) async throws -> R {
        await context.writer.projectionsCaughtUp()
        return try engine.projections.read(body)
    }

    /// Triggers the graceful shutdown and waits for the group to end.
    func stop() async throws {
        await daemon.triggerGracefulShutdown()
        try await runTask?.value
    }

    /// Opens a client connection (reads the greeting).
    func connect() async throws -> TestClient { try await TestClient.connect(path: socketPath) }

    /// An in-process session for `roles` (no socket), for role and golden tests.
    func session(roles: [Role], uid: UInt32 = 4242) -> InProcessClient {
        InProcessClient(context: context, peer: Peer(uid: uid, gids: [], pid: 0, roles: roles))
    }

    deinit { runTask?.cancel() }
}

/// A JSON-lines client over a Unix socket, for tests.
///
/// Its socket calls block, so they run on the client's own dispatch queue: blocking the
/// few threads of Swift's cooperative pool would starve the in-process server's sessions.
final class TestClient: @unchecked Sendable {
    private var fd: Int32
    private let queue = DispatchQueue(label: "test-client")
    private var buffer: [UInt8] = []
    private var nextId = 0
    /// The greeting's params.
    private(set) var greeting: [String: Any] = [:]
    /// Notifications received while waiting for answers.
    var notifications: [[String: Any]] = []

    init(path: String, timeout: Int = Patience.seconds) throws {
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let connected = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard connected == 0 else {
            let code = POSIXErrorCode(rawValue: errno) ?? .EIO
            // Every stored property is set, so `deinit` runs after this throw: it must find no
            // descriptor, or it closes the same number again — by then possibly another
            // thread's file (a daemon's log, a pipe being read).
            close(fd)
            fd = -1
            throw POSIXError(code)
        }
        var time = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
    }

    /// Connects and reads the greeting.
    static func connect(path: String, timeout: Int = Patience.seconds) async throws -> TestClient {
        let client = try TestClient(path: path, timeout: timeout)
        let hello = try await client.readObject()
        client.greeting = hello["params"] as? [String: Any] ?? [:]
        return client
    }

    /// Closes the socket once; later calls and `deinit` do nothing (the number may be reused).
    func disconnect() {
        let open = fdLock.withLock { () -> Int32 in
            defer { fd = -1 }
            return fd
        }
        if open >= 0 { close(open) }
    }

    private let fdLock = NSLock()

    deinit { disconnect() }

    private func blocking<T>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        let boxed: SendableBox<T> = try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { SendableBox(try body()) }) }
        }
        return boxed.value
    }

    /// Sends raw bytes.
    func sendRaw(_ bytes: [UInt8]) async throws { try await blocking { try self.blockingSend(bytes) } }

    private func blockingSend(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard written > 0 else { throw POSIXError(.EPIPE) }
            offset += written
        }
    }

    /// Sends one line.
    func sendLine(_ line: String) async throws { try await sendRaw(Array((line + "\n").utf8)) }

    /// Reads one line; nil at end of stream.
    func readLine() async throws -> String? { try await blocking { try self.blockingReadLine() } }

    private func blockingReadLine() throws -> String? {
        while true {
            if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: buffer[..<newline], as: UTF8.self)
                buffer.removeFirst(newline + 1)
                return line
            }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count == 0 { return nil }
            guard count > 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
            buffer += chunk[..<count]
        }
    }

    /// Reads one JSON object line.
    func readObject() async throws -> [String: Any] { try await blocking { try self.blockingReadObject() } }

    private func blockingReadObject() throws -> [String: Any] {
        guard let line = try blockingReadLine() else { throw POSIXError(.ECONNRESET) }
        guard let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
            throw POSIXError(.EBADMSG)
        }
        return object
    }

    /// Sends a request and returns its answer (result or error object), stashing notifications.
    @discardableResult
    func call(_ method: String, _ params: [String: Any] = [:]) async throws -> [String: Any] {
        let params = SendableBox(params)
        return try await blocking {
            self.nextId += 1
            let id = self.nextId
            let data = try JSONSerialization.data(withJSONObject: ["jsonrpc": "2.0", "id": id, "method": method, "params": params.value])
            try self.blockingSend(Array(data) + [UInt8(ascii: "\n")])
            while true {
                let object = try self.blockingReadObject()
                if object["id"] as? Int == id { return object }
                self.notifications.append(object)
            }
        }
    }

    /// The `result` of a call, failing the test on an error answer.
    @discardableResult
    func result(_ method: String, _ params: [String: Any] = [:], sourceLocation: SourceLocation = #_sourceLocation) async throws -> [String: Any] {
        let answer = try await call(method, params)
        guard let result = answer["result"] as? [String: Any] else {
            Issue.record("\(method) failed: \(answer)", sourceLocation: sourceLocation)
            throw POSIXError(.EPROTO)
        }
        return result
    }

    /// The `error.data.type` of a call that must fail.
    func errorType(_ method: String, _ params: [String: Any] = [:]) async throws -> String? {
        let answer = try await call(method, params)
        return ((answer["error"] as? [String: Any])?["data"] as? [String: Any])?["type"] as? String
    }

    /// Reads notifications until one with `method` arrives (or the stream ends).
    func next(_ method: String) async throws -> [String: Any]? {
        try await blocking {
            if let index = self.notifications.firstIndex(where: { $0["method"] as? String == method }) {
                return self.notifications.remove(at: index)
            }
            while true {
                let object = try self.blockingReadObject()
                if object["method"] as? String == method { return object }
                self.notifications.append(object)
            }
        }
    }
}

/// Carries a non-Sendable value (JSON dictionaries) to the client's queue.
struct SendableBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

/// A session inside the process with chosen roles, speaking the same protocol.
final class InProcessClient: @unchecked Sendable {
    let connection = InProcessConnection()
    private var iterator: AsyncStream<String>.Iterator
    private var nextId = 0
    let task: Task<Void, Never>

    init(context: ServerContext, peer: Peer) {
        let session = Session(context: context, peer: peer, sink: connection)
        let input = connection.input
        task = Task { await session.run(input) }
        iterator = connection.output.makeAsyncIterator()
    }

    /// The next line from the server.
    func nextLine() async -> String? { await iterator.next() }

    /// Sends a raw line and returns the next line that is not a notification.
    func exchange(_ line: String) async -> String? {
        connection.send(line)
        while let answer = await iterator.next() {
            if !answer.contains("\"method\":") || answer.contains("\"id\":") { return answer }
        }
        return nil
    }

    deinit { connection.close() }
}

/// JSON text of a value (for building requests).
func jsonLine(_ object: [String: Any]) -> String {
    String(decoding: (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data(), as: UTF8.self)
}

/// The `error` member of an answer: code, data.type, data.field and data.retryable.
struct AnswerError {
    var code: Int?
    var type: String?
    var field: String?
    var retryable: Bool?

    /// Nil when the answer is not an error.
    init?(_ answer: [String: Any]) {
        guard let error = answer["error"] as? [String: Any] else { return nil }
        code = error["code"] as? Int
        let data = error["data"] as? [String: Any]
        type = data?["type"] as? String
        field = data?["field"] as? String
        retryable = data?["retryable"] as? Bool
    }
}
