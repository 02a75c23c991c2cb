import Foundation
import ParleyCore
import ParleyServer
import Testing

/// The writer holds projection changes until a checkpoint; queries and subscriptions must
/// never see less than what was already answered.
@Suite("Projection checkpoints")
struct CheckpointTests {
    @Test("a query after an answer sees the command, even when the writer would hold its changes for an hour")
    func queryAfterAnswerIsExact() async throws {
        let server = try await TestServer(checkpointInterval: .seconds(3600))
        let client = try await server.connect()
        try await client.result("agent.login", ["agentId": "alice", "state": "Ready"])
        for i in 1...5 {
            let sent = try await client.result(
                "sms.send",
                [
                    "agentId": "alice", "serviceId": "support", "customerNumber": "+1555000000\(i)",
                    "text": "hello \(i)",
                ])
            let position = try #require(sent["position"] as? Int)
            let conversationId = try #require(sent["conversationId"] as? String)
            let view = try await client.result("agent.view", ["agentId": "alice"])
            #expect(try #require(view["asOf"] as? Int) >= position)
            #expect((view["openChats"] as? [Any])?.count == i)
            let conversation = try await client.result("conversation.get", ["conversationId": conversationId])
            #expect(try #require(conversation["asOf"] as? Int) >= position)
            #expect((conversation["messages"] as? [Any])?.count == 1)
        }
        try await server.stop()
    }

    @Test("a live subscription sees new events within the checkpoint interval, with nobody querying")
    func subscriptionSeesEventsWithoutQueries() async throws {
        let server = try await TestServer(checkpointInterval: .milliseconds(50))
        let watcher = try await server.connect()
        try await watcher.result("events.subscribe", ["after": Int(server.engine.head.position)])
        _ = try #require(try await watcher.next("events.caughtUp"))
        let writer = try await server.connect()
        let login = try await writer.result("agent.login", ["agentId": "alice", "state": "Ready"])
        let position = try #require(login["position"] as? Int)
        let event = try #require(try await watcher.next("events.event"))
        let params = try #require(event["params"] as? [String: Any])
        #expect(params["position"] as? Int == position)
        try await server.stop()
    }

    @Test("subscribing after an acknowledged position is accepted, and the greeting's head covers it")
    func subscribeAfterAnswer() async throws {
        let server = try await TestServer(checkpointInterval: .seconds(3600))
        let client = try await server.connect()
        let login = try await client.result("agent.login", ["agentId": "alice", "state": "Ready"])
        let position = try #require(login["position"] as? Int)
        let info = try await client.result("server.info")
        #expect(try #require(info["head"] as? Int) >= position)
        let subscribed = try await client.result("events.subscribe", ["after": position])
        #expect(try #require(subscribed["asOf"] as? Int) >= position)
        let next = try await server.connect()
        let change = try await next.result("agent.setState", ["agentId": "alice", "state": "NotReady"])
        let event = try #require(try await client.next("events.event"))
        #expect((event["params"] as? [String: Any])?["position"] as? Int == change["position"] as? Int)
        try await server.stop()
    }

    @Test("a graceful stop commits the held projection changes")
    func stopCommitsPending() async throws {
        let server = try await TestServer(checkpointInterval: .seconds(3600))
        let client = try await server.connect()
        try await client.result("agent.login", ["agentId": "alice", "state": "Ready"])
        let head = server.engine.head.position
        try await server.stop()
        #expect(server.engine.projectionsPosition == head)
        #expect(try server.engine.projections.read { try $0.checkpoint() } == head)
        #expect(try server.engine.projections.read { try $0.agent("alice")?.state } == .ready)
    }
}
