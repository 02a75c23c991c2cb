/// Spaces out sends to at most a rate: each caller gets the next free slot, `1/rate` after
/// the one before, and waits for it.
public actor Pacer {
    private let interval: Duration
    private var next = ContinuousClock.now

    /// A pacer for `perSecond` sends a second (no limit when 0 or less).
    public init(perSecond: Double) {
        interval = perSecond > 0 ? .nanoseconds(Int64(1e9 / perSecond)) : .zero
    }

    /// Waits for the caller's slot.
    public func wait() async throws {
        guard interval > .zero else { return }
        let now = ContinuousClock.now
        let slot = max(now, next)
        next = slot + interval
        if slot > now { try await Task.sleep(until: slot, clock: .continuous) }
    }
}
