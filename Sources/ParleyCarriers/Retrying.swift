/// What one try of a carrier's API came to.
public enum CarrierAnswer: Sendable, Equatable {
    /// The carrier took it; with its id for it when it gave one.
    case accepted(reference: String?)
    /// The carrier refused it (the request itself is at fault); the reason is its answer.
    case refused(String)
    /// The carrier could not be reached or asked us to come back; try again later.
    case unavailable(String)
}

/// What came of sending one message or part, after its tries.
public enum SendOutcome: Sendable, Equatable {
    case accepted(reference: String?)
    /// Refused more often than the policy allows; the reason is the last answer.
    case refused(String)
    /// The connector stopped before the carrier took it.
    case stopped
}

/// How a connector tries again: an unavailable carrier forever, with a pause that doubles up
/// to ``maxPause``, so a message stays `queued` and is never lost; a refusal up to
/// ``maxRefusals`` more times.
public struct RetryPolicy: Sendable {
    public var maxRefusals: Int
    public var firstPause: Duration = .milliseconds(250)
    public var maxPause: Duration

    /// A policy; the first pause is 250 ms.
    public init(maxRefusals: Int, maxPause: Duration) {
        self.maxRefusals = maxRefusals
        self.maxPause = maxPause
    }

    /// Tries `attempt`, each try paced by `pacer`, until it is accepted, refused for good, or
    /// `isStopping` says so; `onRetry` hears of each retry (the problem and the pause).
    public func run(
        pacer: Pacer, isStopping: () -> Bool, onRetry: (String, Duration) -> Void,
        _ attempt: () async -> CarrierAnswer
    ) async -> SendOutcome {
        var pause = firstPause
        var refusals = 0
        while true {
            if isStopping() { return .stopped }
            do {
                try await pacer.wait()
            } catch {
                return .stopped
            }
            let problem: String
            switch await attempt() {
            case .accepted(let reference): return .accepted(reference: reference)
            case .refused(let reason):
                refusals += 1
                if refusals > maxRefusals { return .refused(reason) }
                problem = reason
            case .unavailable(let reason): problem = reason
            }
            onRetry(problem, pause)
            do {
                try await Task.sleep(for: pause)
            } catch {
                return .stopped
            }
            pause = min(pause * 2, maxPause)
        }
    }
}

extension Duration {
    /// The duration in whole nanoseconds (for AsyncHTTPClient's timeouts).
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
