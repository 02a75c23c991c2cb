import Foundation
import ParleyClient
import ParleyProtocol
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The crash test's rounds, kill timers and load run on plain threads (a kill must find them
/// mid-request, whatever the cooperative pool is doing); their connections are the client
/// library's. This runs one piece of async work to its end from such a thread.
enum Blocking {
    /// Runs `body` in a task and waits for it on the calling thread, which must not be one of
    /// the concurrency pool's (the crash test calls it only from `main` and its own threads).
    /// - Throws: ``Stuck`` when `body` has not finished within `timeout` (the task is cancelled).
    static func run<T: Sendable>(
        timeout: Duration = Patience.duration, _ body: @escaping @Sendable () async throws -> T
    ) throws -> T {
        let outcome = Mutex<Result<T, any Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        let task = Task {
            let result: Result<T, any Error>
            do { result = .success(try await body()) } catch { result = .failure(error) }
            outcome.withLock { $0 = result }
            done.signal()
        }
        guard done.wait(timeout: .now() + .seconds(Int(timeout.components.seconds))) == .success else {
            task.cancel()
            throw Stuck(timeout: timeout)
        }
        // The semaphore is signalled only after the outcome is stored.
        guard let result = outcome.withLock({ $0 }) else { throw ParleyError.closed }
        return try result.get()
    }
}

/// Work that did not finish within its patience: the daemon is stuck.
struct Stuck: Error, CustomStringConvertible {
    let timeout: Duration
    var description: String { "no progress within \(timeout)" }
}

/// How long a connection or an answer may take before the daemon counts as stuck: generous,
/// so a loaded machine never trips it; a killed daemon ends the connection at once anyway.
enum Patience {
    static let duration: Duration = .seconds(120)
    static var seconds: Int { Int(duration.components.seconds) }
}

/// What became of one command sent to the daemon.
enum CommandAnswer: Sendable {
    /// Acknowledged, with its result.
    case result(JSONValue)
    /// Refused with this error.
    case refused(RemoteError)
    /// No answer: the connection ended first (the expected outcome of a kill).
    case lost(String)

    /// The result, if acknowledged.
    var result: JSONValue? {
        if case .result(let result) = self { return result }
        return nil
    }
}

extension ParleyConnection {
    /// Connects from a plain thread (see ``Blocking``).
    static func open(_ path: String) throws -> ParleyConnection {
        try Blocking.run { try await ParleyConnection.connect(path: path, timeout: Patience.duration) }
    }

    /// Sends one command and says what became of it.
    func send(_ spec: CommandSpec) async -> CommandAnswer {
        do {
            return .result(try await call(spec.method, spec.params, timeout: Patience.duration))
        } catch .remote(let error) {
            return .refused(error)
        } catch {
            return .lost("\(error)")
        }
    }

    /// ``send(_:)`` from a plain thread.
    func sendBlocking(_ spec: CommandSpec) -> CommandAnswer {
        (try? Blocking.run { await self.send(spec) }) ?? .lost("the client stopped")
    }

    /// Closes the connection from a plain thread.
    func closeBlocking() {
        _ = try? Blocking.run { await self.close() }
    }
}

/// A raw Unix-socket connection, for the soak's misbehaving clients (a subscriber that never
/// reads, half a request line): what they do is exactly what the client library never does.
final class RawConnection {
    private var fd: Int32

    /// Connects, or returns nil.
    init?(path: String) {
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            close()
            return nil
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let connected = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard connected == 0 else {
            close()
            return nil
        }
    }

    deinit { close() }

    /// Writes `text` as it is (no newline added); false when the connection is gone.
    @discardableResult
    func write(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes {
                Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
            }
            guard written > 0 else { return false }
            offset += written
        }
        return true
    }

    /// Closes the socket.
    func close() {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
    }
}
