/// Limits failed sign-ins: after `limit` failures within `window` for one agent id, or from one
/// address, further attempts are refused until the oldest of them leaves the window. A success
/// clears the agent's failures, not the address's.
public struct LoginThrottle: Sendable {
    /// Failures allowed per key within the window.
    public let limit: Int
    /// How long a failure counts.
    public let window: Duration
    private var failures: [String: [ContinuousClock.Instant]] = [:]

    public init(limit: Int = 5, window: Duration = .seconds(300)) {
        self.limit = limit
        self.window = window
    }

    /// How long `keys` must wait before another attempt, or nil when one is allowed now.
    /// - Parameter limit: the failures allowed for these keys, when not ``limit``.
    public mutating func wait(for keys: [String], now: ContinuousClock.Instant, limit: Int? = nil) -> Duration? {
        let limit = limit ?? self.limit
        var longest: Duration?
        for key in keys {
            let recent = (failures[key] ?? []).filter { now - $0 < window }
            failures[key] = recent.isEmpty ? nil : recent
            if recent.count >= limit, let oldest = recent.first {
                let wait = window - (now - oldest)
                longest = max(longest ?? wait, wait)
            }
        }
        return longest
    }

    /// Counts a failed attempt against each key.
    public mutating func failed(_ keys: [String], now: ContinuousClock.Instant) {
        for key in keys { failures[key, default: []].append(now) }
        // A flood from many addresses must not grow memory without bound: forget the stale ones.
        if failures.count > 10_000 { failures = failures.filter { now - ($0.value.last ?? now) < window } }
    }

    /// Forgets `key`'s failures (after a successful sign-in).
    public mutating func succeeded(_ key: String) { failures[key] = nil }
}
