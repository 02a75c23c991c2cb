import Foundation
import Logging
import NIOConcurrencyHelpers
import ParleyCore
import ParleyProtocol
public import ServiceLifecycle

/// A built-in carrier for demos and tests. It follows the connector contract of
/// `schemas/protocol/README.md` ("Carrier connectors") exactly as a real connector would,
/// over an in-process connection with the carrier role:
///
/// - on start it asks `carrier.pending` for every outbound message no carrier has accepted
///   and submits those with no recorded submission or whose last submission was its own;
/// - it then follows `MessageSent` (and the daemon's own `SystemMessageSent`) events live;
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
    /// Messages handled at once: well under the session's in-flight limit, so the simulator's
    /// own queries always get through.
    static let concurrentMessages = 32

    /// One message to handle.
    enum Work: Sendable {
        /// Record the submission, report `sent`, then the final status.
        case submit(OutboundMessage)
        /// Accepted under our reference before a restart: report only the final status.
        case finish(OutboundMessage)

        var message: OutboundMessage {
            switch self {
            case .submit(let message), .finish(let message): message
            }
        }
    }

    private let context: ServerContext
    private let configuration: Configuration
    /// Ids of the messages being handled, so one listed twice is handled once.
    private let handling = NIOLockedValueBox(Set<String>())

    /// Creates a simulator over the daemon's shared context.
    public init(context: ServerContext, configuration: Configuration) {
        self.context = context
        self.configuration = configuration
    }

    /// Submits what is pending, then every new message, until shutdown.
    public func run() async throws {
        let connection = InProcessConnection()
        await withGracefulShutdownHandler {
            await simulate(connection)
        } onGracefulShutdown: {
            connection.close()
        }
    }

    private func simulate(_ connection: InProcessConnection) async {
        let peer = Peer(uid: getuid(), gids: [], pid: getpid(), roles: [.carrier])
        let session = Session(context: context, peer: peer, sink: connection)
        let client = InProcessRPC(connection)
        let (work, queue) = AsyncStream.makeStream(of: Work.self)
        await withDiscardingTaskGroup { group in
            group.addTask { await session.run(connection.input) }
            group.addTask { await client.dispatch() }
            group.addTask {
                await self.follow(client) { item in
                    let fresh = self.handling.withLockedValue { $0.insert(item.message.messageId).inserted }
                    if fresh { queue.yield(item) }
                }
                queue.finish()
                connection.close()
            }
            await withTaskGroup(of: Void.self) { messages in
                var running = 0
                for await item in work {
                    if running >= Self.concurrentMessages {
                        await messages.next()
                        running -= 1
                    }
                    messages.addTask {
                        await self.handle(item, client: client)
                        _ = self.handling.withLockedValue { $0.remove(item.message.messageId) }
                    }
                    running += 1
                }
                // The connection closed: stop waiting out delays and backoffs.
                messages.cancelAll()
            }
        }
    }

    /// Hands `start` every message to handle, until the connection closes: the ones it
    /// accepted before a restart and owes a final status, the ones no carrier has accepted,
    /// then new ones as they are sent. A subscription that ends other than by shutdown is
    /// followed again from the start (messages already being handled are not handed twice).
    private func follow(_ client: InProcessRPC, start: (Work) -> Void) async {
        let logger = context.logger
        var notifications = client.events.makeAsyncIterator()
        while true {
            // Accepted under our reference, not yet final: the daemon stopped between our reports.
            guard
                await pages(
                    client, accepted: true,
                    { record in
                        guard let message = OutboundMessage(record: record),
                            message.references.contains(Self.reference(message.messageId))
                        else { return }
                        start(.finish(message))
                    }) != nil
            else { return }
            // Not accepted by any carrier: submit unless another connector has.
            var seen = Set<String>()
            var subscribed = false
            let asOf = await pages(
                client, accepted: false,
                firstPage: { firstAsOf in
                    // Live events after the first page's state; later pages may repeat some of them.
                    let filter: JSONValue = .object([
                        "types": .array([.string(EventType.messageSent.name), .string(EventType.systemMessageSent.name)])
                    ])
                    let params: [String: JSONValue] = ["filter": filter, "after": .integer(Int64(firstAsOf))]
                    subscribed = await client.callRetrying("events.subscribe", params, logger: logger) != nil
                    return subscribed
                }
            ) { record in
                guard let message = OutboundMessage(record: record) else { return }
                seen.insert(message.messageId)
                if let connector = message.submittedBy, connector != configuration.connector { return }
                start(.submit(message))
            }
            guard let catchUpAsOf = asOf, subscribed else { return }
            live: while let notification = await notifications.next() {
                switch notification {
                case .event(let params):
                    guard let message = OutboundMessage(sentEvent: params) else { continue }
                    if message.position <= catchUpAsOf {
                        if seen.contains(message.messageId) { continue }
                    } else if !seen.isEmpty {
                        seen = []
                    }
                    start(.submit(message))
                case .end(let reason, _):
                    if reason == "shutdown" { return }
                    logger.warning(
                        "carrier simulator subscription ended; following again", metadata: ["reason": "\(reason)"])
                    break live
                }
            }
            if Task.isCancelled { return }
        }
    }

    /// Pages through `carrier.pending` (`accepted` as given), calling `body` for each message
    /// and `firstPage` with the first page's `asOf` before its messages. Returns the last page's
    /// `asOf`, or nil when the connection closed or a call was refused.
    private func pages(
        _ client: InProcessRPC, accepted: Bool, firstPage: ((UInt64) async -> Bool)? = nil,
        _ body: (JSONValue) -> Void
    ) async -> UInt64? {
        var after: UInt64?
        var first = true
        while true {
            var params: [String: JSONValue] = ["limit": .integer(Int64(Self.pageSize)), "accepted": .bool(accepted)]
            if let after { params["after"] = .integer(Int64(after)) }
            guard let page = await client.callRetrying("carrier.pending", params, logger: context.logger) else {
                return nil
            }
            let asOf = page["asOf"]?.uint64 ?? 0
            if first, let firstPage {
                guard await firstPage(asOf) else { return nil }
            }
            first = false
            let messages = page["messages"]?.array ?? []
            messages.forEach(body)
            guard messages.count == Self.pageSize, let next = page["next"]?.uint64 else { return asOf }
            after = next
        }
    }

    /// The reference the simulator reports a message under.
    static func reference(_ messageId: String) -> String { "sim-" + messageId }

    /// Handles one message as the carrier would, stopping early if cancelled or refused.
    private func handle(_ work: Work, client: InProcessRPC) async {
        let logger = context.logger
        let configuration = self.configuration
        let message = work.message
        let reference = JSONValue.string(Self.reference(message.messageId))
        if case .submit = work {
            let submit: [String: JSONValue] = [
                "messageId": .string(message.messageId), "connector": .string(configuration.connector),
            ]
            // Already accepted (a message listed twice): nothing to send.
            let quiet: Set<String> = ["MessageAlreadyAccepted"]
            guard await client.callRetrying("carrier.submit", submit, logger: logger, quiet: quiet) != nil else {
                return
            }
            guard (try? await Task.sleep(for: configuration.delay)) != nil else { return }
            let accepted: [String: JSONValue] = [
                "messageId": .string(message.messageId), "carrierReference": reference, "status": .string("sent"),
            ]
            guard await client.callRetrying("carrier.status", accepted, logger: logger) != nil else { return }
        }
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
struct OutboundMessage: Sendable {
    var messageId: String
    var from: String
    var to: String
    /// The position of its `MessageSent`.
    var position: UInt64
    /// The connector of its latest recorded submission, if any.
    var submittedBy: String?
    /// The carrier references it has.
    var references: [String] = []

    /// From a `carrier.pending` message record.
    init?(record: JSONValue) {
        guard let id = record["messageId"]?.string, let from = record["from"]?.string, let to = record["to"]?.string,
            let position = record["position"]?.uint64
        else { return nil }
        (messageId, self.from, self.to, self.position) = (id, from, to, position)
        submittedBy = record["submission"]?["connector"]?.string
        references = (record["carrierReferences"]?.array ?? []).compactMap(\.string)
    }

    /// From an `events.event` notification of a `MessageSent`.
    init?(sentEvent params: JSONValue) {
        guard let event = params["event"], let data = event["data"], let id = data["messageId"]?.string,
            let from = data["from"]?.string, let to = data["to"]?.string, let position = params["position"]?.uint64
        else { return nil }
        (messageId, self.from, self.to, self.position, submittedBy) = (id, from, to, position, nil)
    }
}
