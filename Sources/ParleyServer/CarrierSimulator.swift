import Foundation
import Logging
import ParleyCore
import ParleyProtocol
public import ServiceLifecycle

/// A built-in carrier for demos and tests. It follows the connector contract of
/// `schemas/protocol/README.md` ("Carrier connectors") exactly as a real connector would,
/// over an in-process connection with the carrier role:
///
/// - on start it asks `carrier.pending` for every outbound message no carrier has accepted
///   and submits those with no recorded submission or whose last submission was its own;
/// - it then follows `MessageSent` events live;
/// - for each message it records the submission (`carrier.submit`) before "sending" it,
///   reports `sent` with the reference `sim-<messageId>` (the acceptance), then `delivered`
///   (or `failed`, at a configurable rate) by that reference, and can answer as the customer.
///
/// So a message queued when the daemon stopped is delivered after the next start.
public final class CarrierSimulator: Service, Sendable {
    /// How the simulator behaves.
    public struct Configuration: Sendable {
        /// Delay before each status report.
        public var delay: Duration
        /// Fraction of messages reported `failed` instead of `delivered` (0…1).
        public var failureRate: Double
        /// Customer replies sent, in turn, after each delivered message (none when empty).
        public var replies: [String]
        /// The connector name its submissions are recorded under.
        public var connector: String

        /// Creates a configuration.
        public init(
            delay: Duration = .milliseconds(300), failureRate: Double = 0, replies: [String] = [],
            connector: String = "simulator"
        ) {
            self.delay = delay
            self.failureRate = failureRate
            self.replies = replies
            self.connector = connector
        }
    }

    /// Messages asked of `carrier.pending` per page.
    static let pageSize = 100

    private let context: ServerContext
    private let configuration: Configuration

    /// Creates a simulator over the daemon's shared context.
    public init(context: ServerContext, configuration: Configuration) {
        self.context = context
        self.configuration = configuration
    }

    /// Submits what is pending, then every new message, until shutdown.
    public func run() async throws {
        let connection = InProcessConnection()
        try await withGracefulShutdownHandler {
            await simulate(connection)
        } onGracefulShutdown: {
            connection.close()
        }
    }

    private func simulate(_ connection: InProcessConnection) async {
        let peer = Peer(uid: getuid(), gids: [], pid: getpid(), roles: [.carrier])
        let session = Session(context: context, peer: peer, sink: connection)
        let client = InProcessRPC(connection)
        let (work, queue) = AsyncStream.makeStream(of: OutboundMessage.self)
        await withDiscardingTaskGroup { group in
            group.addTask { await session.run(connection.input) }
            group.addTask { await client.dispatch() }
            group.addTask {
                await self.follow(client) { queue.yield($0) }
                queue.finish()
                connection.close()
            }
            for await message in work {
                group.addTask { await self.deliver(message, client: client) }
            }
        }
    }

    /// Hands `start` every message to submit: first the pending ones, then new ones as sent.
    private func follow(_ client: InProcessRPC, start: (OutboundMessage) -> Void) async {
        let logger = context.logger
        var after: UInt64?
        var subscribed = false
        var catchUp = Set<String>()
        var catchUpAsOf: UInt64 = 0
        while true {
            var params: [String: JSONValue] = ["limit": .integer(Int64(Self.pageSize))]
            if let after { params["after"] = .integer(Int64(after)) }
            guard let page = await client.callRetrying("carrier.pending", params, logger: logger) else { return }
            let asOf = page["asOf"]?.uint64 ?? 0
            if !subscribed {
                // Live events after the first page's state; later pages may repeat some of them.
                let filter: JSONValue = .object(["types": .array([.string(EventType.messageSent.name)])])
                let subscribe: [String: JSONValue] = ["filter": filter, "after": .integer(Int64(asOf))]
                guard await client.callRetrying("events.subscribe", subscribe, logger: logger) != nil else { return }
                subscribed = true
            }
            let messages = page["messages"]?.array ?? []
            for record in messages {
                guard let message = OutboundMessage(record: record) else { continue }
                // Not ours: another connector submitted it and may still get it accepted.
                if let connector = message.submittedBy, connector != configuration.connector { continue }
                if catchUp.insert(message.messageId).inserted { start(message) }
            }
            catchUpAsOf = asOf
            guard messages.count == Self.pageSize, let next = page["next"]?.uint64 else { break }
            after = next
        }
        for await event in client.events {
            guard let message = OutboundMessage(sentEvent: event) else { continue }
            if message.position <= catchUpAsOf {
                if catchUp.contains(message.messageId) { continue }
            } else if !catchUp.isEmpty {
                catchUp = []
            }
            start(message)
        }
    }

    /// Records the submission, then reports as the carrier would.
    private func deliver(_ message: OutboundMessage, client: InProcessRPC) async {
        let logger = context.logger
        let configuration = self.configuration
        let submit: [String: JSONValue] = [
            "messageId": .string(message.messageId), "connector": .string(configuration.connector),
        ]
        guard await client.callRetrying("carrier.submit", submit, logger: logger) != nil else { return }
        let reference = JSONValue.string("sim-" + message.messageId)
        guard (try? await Task.sleep(for: configuration.delay)) != nil else { return }
        let accepted: [String: JSONValue] = [
            "messageId": .string(message.messageId), "carrierReference": reference, "status": .string("sent"),
        ]
        guard await client.callRetrying("carrier.status", accepted, logger: logger) != nil else { return }
        guard (try? await Task.sleep(for: configuration.delay)) != nil else { return }
        let failed = Double.random(in: 0..<1) < configuration.failureRate
        var final: [String: JSONValue] = [
            "carrierReference": reference, "status": .string(failed ? "failed" : "delivered"),
        ]
        if failed { final["detail"] = .string("simulated failure") }
        guard await client.callRetrying("carrier.status", final, logger: logger) != nil else { return }
        guard !failed, !configuration.replies.isEmpty else { return }
        guard (try? await Task.sleep(for: configuration.delay)) != nil else { return }
        let reply = configuration.replies[Int(client.nextReply() % UInt64(configuration.replies.count))]
        let inbound: [String: JSONValue] = [
            "from": .string(message.to), "to": .string(message.from), "text": .string(reply),
        ]
        _ = await client.callRetrying("carrier.inbound", inbound, logger: logger)
    }
}

/// What the simulator needs of an outbound message.
struct OutboundMessage {
    var messageId: String
    var from: String
    var to: String
    /// The position of its `MessageSent`.
    var position: UInt64
    /// The connector of its latest recorded submission, if any.
    var submittedBy: String?

    /// From a `carrier.pending` message record.
    init?(record: JSONValue) {
        guard let id = record["messageId"]?.string, let from = record["from"]?.string, let to = record["to"]?.string,
            let position = record["position"]?.uint64
        else { return nil }
        (messageId, self.from, self.to, self.position) = (id, from, to, position)
        submittedBy = record["submission"]?["connector"]?.string
    }

    /// From an `events.event` notification of a `MessageSent`.
    init?(sentEvent params: JSONValue) {
        guard let event = params["event"], let data = event["data"], let id = data["messageId"]?.string,
            let from = data["from"]?.string, let to = data["to"]?.string, let position = params["position"]?.uint64
        else { return nil }
        (messageId, self.from, self.to, self.position, submittedBy) = (id, from, to, position, nil)
    }
}
