import Foundation
import LMDB

/// A unique temporary directory, removed when `body` finishes.
func withTemporaryDirectory<R>(_ body: (String) throws -> R) throws -> R {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("lmdb-tests-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: url) }
    return try body(url.path)
}

/// The big-endian bytes of `value`, so keys sort numerically.
func bigEndian(_ value: UInt64) -> [UInt8] {
    withUnsafeBytes(of: value.bigEndian) { Array($0) }
}

/// Decodes big-endian bytes back to a `UInt64`.
func decodeBigEndian(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
    bytes.reduce(0) { ($0 << 8) | UInt64($1) }
}

/// An error thrown from transaction bodies to test rollback.
struct Rollback: Error, Equatable {}

/// A thread-safe boolean flag.
final class Flag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    var isSet: Bool { lock.withLock { value } }
    func set() { lock.withLock { value = true } }
}

/// A thread-safe list of problems found by background threads.
final class Problems: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [String] = []
    var all: [String] { lock.withLock { items } }
    func add(_ problem: String) { lock.withLock { items.append(problem) } }
}

/// A running thread that can be waited for.
final class RunningThread: Sendable {
    private let done = DispatchSemaphore(value: 0)
    fileprivate func finish() { done.signal() }
    func wait() { done.wait() }
}

/// Starts `body` on a new (non-cooperative) thread.
func startThread(_ body: @escaping @Sendable () -> Void) -> RunningThread {
    let running = RunningThread()
    let thread = Thread {
        body()
        running.finish()
    }
    thread.start()
    return running
}
