import Foundation
import Testing

/// How long a test waits for something that must happen before it calls the test stuck.
///
/// Tests wait for conditions, never for a guessed time: this bound only ends a test that is
/// really stuck, so it is generous enough that a loaded machine (the whole suite on two
/// cores beside other builds, or a sanitizer build) never reaches it.
enum Patience {
    /// Whether the suite runs under a sanitizer, an order of magnitude slower.
    static let sanitized = ProcessInfo.processInfo.environment["PARLEY_SANITIZER"] != nil
    /// The longest wait for one condition, one line or one answer.
    static let timeout: Duration = sanitized ? .seconds(600) : .seconds(120)
    /// ``timeout`` in whole seconds (for socket receive timeouts).
    static var seconds: Int { Int(timeout.components.seconds) }
}

/// A condition that did not come true within its patience.
struct WaitTimedOut: Error, CustomStringConvertible {
    let what: String
    let timeout: Duration
    var description: String { "waited \(timeout) for \(what)" }
}

/// Polls `condition` every `interval` until it holds. After `timeout` it records an issue
/// naming `what` and throws ``WaitTimedOut``.
func waitUntil(
    _ what: @autoclosure () -> String, timeout: Duration = Patience.timeout,
    every interval: Duration = .milliseconds(10),
    sourceLocation: SourceLocation = #_sourceLocation, _ condition: () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while try await !condition() {
        guard ContinuousClock.now < deadline else {
            let failure = WaitTimedOut(what: what(), timeout: timeout)
            Issue.record("\(failure)", sourceLocation: sourceLocation)
            throw failure
        }
        try await Task.sleep(for: interval)
    }
}

/// The value `body` produces, or nil when it has produced none after `timeout` (the task is
/// then cancelled).
func withTimeout<T: Sendable>(_ timeout: Duration = Patience.timeout, _ body: @escaping @Sendable () async -> T?) async
    -> T?
{
    await withTaskGroup(of: T?.self) { group in
        group.addTask { await body() }
        group.addTask {
            try? await Task.sleep(for: timeout)
            return nil
        }
        let first = await group.next() ?? nil
        group.cancelAll()
        return first
    }
}

/// A flag one task sets and others read.
final class Flag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    var isSet: Bool { lock.withLock { value } }
    func set() { lock.withLock { value = true } }
}
