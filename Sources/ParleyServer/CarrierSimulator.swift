import Foundation
import Logging
import ParleyCore
public import ServiceLifecycle

/// A built-in carrier for demos and tests: marks each outbound SMS `sent` and then
/// `delivered` (or `failed`, at a configurable rate) after a short delay, and can answer
/// with scripted customer replies. It talks to the engine through an in-process
/// connection with the carrier role, exactly as a real connector would over the socket.
public final class CarrierSimulator: Service, Sendable {
    /// How the simulator behaves.
    public struct Configuration: Sendable {
        /// Delay before each status report.
        public var delay: Duration
        /// Fraction of messages reported `failed` instead of `delivered` (0…1).
        public var failureRate: Double
        /// Customer replies sent, in turn, after each delivered message (none when empty).
        public var replies: [String]

        /// Creates a configuration.
        public init(delay: Duration = .milliseconds(300), failureRate: Double = 0, replies: [String] = []) {
            self.delay = delay
            self.failureRate = failureRate
            self.replies = replies
        }
    }

    private let context: ServerContext
    private let configuration: Configuration

    /// Creates a simulator over the daemon's shared context.
    public init(context: ServerContext, configuration: Configuration) {
        self.context = context
        self.configuration = configuration
    }

    /// Subscribes to `MessageSent` and reports on every message until shutdown.
    public func run() async throws {
        let connection = InProcessConnection()
        try await withGracefulShutdownHandler {
            try await simulate(connection)
        } onGracefulShutdown: {
            connection.close()
        }
    }

    private func simulate(_ connection: InProcessConnection) async throws {
        let peer = Peer(uid: getuid(), gids: [], pid: getpid(), roles: [.carrier])
        let session = Session(context: context, peer: peer, sink: connection)
        let logger = context.logger
        let configuration = self.configuration
        await withDiscardingTaskGroup { group in
            group.addTask { await session.run(connection.input) }
            var nextId = 0
            func request(_ method: String, _ params: String) {
                nextId += 1
                connection.send("{\"jsonrpc\":\"2.0\",\"id\":\(nextId),\"method\":\"\(method)\",\"params\":\(params)}")
            }
            request("events.subscribe", "{\"filter\":{\"types\":[\"MessageSent\"]}}")
            var replyIndex = 0
            for await line in connection.output {
                guard let data = line.data(using: .utf8),
                    let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
                else { continue }
                if let error = object["error"] as? [String: Any] {
                    logger.warning("carrier simulator request refused", metadata: ["error": "\(error["message"] ?? "")"])
                    continue
                }
                guard object["method"] as? String == "events.event",
                    let params = object["params"] as? [String: Any], let event = params["event"] as? [String: Any],
                    let sent = event["data"] as? [String: Any], let messageId = sent["messageId"] as? String,
                    let from = sent["from"] as? String, let to = sent["to"] as? String
                else {
                    if (object["params"] as? [String: Any])?["reason"] != nil { break }
                    continue
                }
                let failed = Double.random(in: 0..<1) < configuration.failureRate
                let reply = configuration.replies.isEmpty || failed ? nil : configuration.replies[replyIndex % configuration.replies.count]
                if reply != nil { replyIndex += 1 }
                let ids = (sent: nextId + 1, final: nextId + 2, reply: nextId + 3)
                nextId += 3
                group.addTask {
                    try? await Task.sleep(for: configuration.delay)
                    connection.send(Self.request(ids.sent, "carrier.status", "{\"messageId\":\"\(messageId)\",\"status\":\"sent\",\"carrierReference\":\"sim-\(messageId)\"}"))
                    try? await Task.sleep(for: configuration.delay)
                    let status = failed ? "failed\",\"detail\":\"simulated failure" : "delivered"
                    connection.send(Self.request(ids.final, "carrier.status", "{\"carrierReference\":\"sim-\(messageId)\",\"status\":\"\(status)\"}"))
                    if let reply {
                        try? await Task.sleep(for: configuration.delay)
                        let text = String(decoding: (try? JSONEncoder().encode(reply)) ?? Data("\"\"".utf8), as: UTF8.self)
                        connection.send(Self.request(ids.reply, "carrier.inbound", "{\"from\":\"\(to)\",\"to\":\"\(from)\",\"text\":\(text)}"))
                    }
                }
            }
            connection.close()
        }
    }

    private static func request(_ id: Int, _ method: String, _ params: String) -> String {
        "{\"jsonrpc\":\"2.0\",\"id\":\(id),\"method\":\"\(method)\",\"params\":\(params)}"
    }
}
