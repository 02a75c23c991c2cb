public import Logging
public import ParleyClient
public import ParleyProtocol
import Synchronization

/// The outbound loop every connector runs: the messages ``ConnectorFollower`` hands over, each
/// given to a carrier-specific `deliver`, at most ``concurrency`` at once, until ``stop()``.
public final class OutboundPump: Sendable {
    let client: ParleyClient
    /// The connector name its submissions are recorded under.
    public let connector: String
    let concurrency: Int
    let logger: Logger
    /// Whether ``stop()`` was called, and the task following the log, to cancel then.
    private let state = Mutex<(stopping: Bool, following: Task<Void, any Error>?)>((false, nil))

    /// A pump for the connector named `connector`; `client` is not closed by it.
    public init(client: ParleyClient, connector: String, concurrency: Int, logger: Logger) {
        self.client = client
        self.connector = connector
        self.concurrency = max(concurrency, 1)
        self.logger = logger
    }

    /// Hands every message owed, then every new one, to `deliver`, until ``stop()``; returns
    /// once the deliveries under way have finished.
    /// - Throws: a refusal of the contract's queries (the connection lacks the carrier role).
    public func run(_ deliver: @escaping @Sendable (OutboundMessage) async -> Void) async throws {
        let (messages, queue) = AsyncStream.makeStream(of: OutboundMessage.self)
        let follower = ConnectorFollower(client: client, connector: connector, logger: logger)
        let following = Task {
            defer { queue.finish() }
            try await follower.run { queue.yield($0) }
        }
        let stopped = state.withLock { state in
            state.following = following
            return state.stopping
        }
        if stopped { following.cancel() }
        await withTaskGroup(of: Void.self) { group in
            var running = 0
            for await message in messages {
                if isStopping { continue }
                if running >= concurrency {
                    await group.next()
                    running -= 1
                }
                group.addTask { await deliver(message) }
                running += 1
            }
        }
        do {
            try await following.value
        } catch is CancellationError {
        } catch ParleyError.closed {}
    }

    /// Stops taking messages; a delivery under way finishes what it is sending.
    public func stop() {
        let following = state.withLock { state in
            state.stopping = true
            return state.following
        }
        following?.cancel()
    }

    /// Whether ``stop()`` was called.
    public var isStopping: Bool { state.withLock { $0.stopping } }

    /// Records the submission of `message` (`carrier.submit`) before anything is sent: its
    /// attempt, or nil when it must not be sent (a carrier accepted it meanwhile, or the daemon
    /// refused).
    public func recordSubmission(_ message: OutboundMessage) async -> Int? {
        do {
            let result = try await client.call(
                "carrier.submit", ["messageId": .string(message.messageId), "connector": .string(connector)])
            return Int(result["attempt"]?.uint64 ?? 1)
        } catch {
            // MessageAlreadyAccepted: another listing of a message already done.
            if error.remote?.type != "MessageAlreadyAccepted" {
                logger.error(
                    "carrier.submit.refused", metadata: ["messageId": "\(message.messageId)", "error": "\(error)"])
            }
            return nil
        }
    }

    /// Records a report (`carrier.status`); whether the daemon took it.
    public func report(_ params: [String: JSONValue]) async -> Bool {
        do {
            try await client.call("carrier.status", params)
            return true
        } catch {
            logger.error(
                "carrier.status.failed",
                metadata: ["messageId": "\(params["messageId"]?.string ?? "")", "error": "\(error)"])
            return false
        }
    }
}
