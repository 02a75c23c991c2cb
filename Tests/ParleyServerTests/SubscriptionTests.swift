import Foundation
import ParleyCore
import ParleyServer
import Testing

@Suite("Subscriptions")
struct SubscriptionTests {
    /// Sends `count` SMS from agent `agent` to distinct customers.
    static func write(_ client: TestClient, agent: String, count: Int, tag: Int) async throws {
        for i in 0..<count {
            let answer = try await client.call("sms.send", [
                "agentId": agent, "serviceId": "support", "customerNumber": "+1555\(String(format: "%03d", tag))\(String(format: "%04d", i))",
                "text": "message \(i) from writer \(tag)",
            ])
            #expect(answer["result"] != nil, "\(answer)")
        }
    }

    @Test("a subscriber from 0 sees every position exactly once, in order, across the catch-up/live seam with 4 writers")
    func seamWithConcurrentWriters() async throws {
        // The writers do not stop until the subscriber has crossed the seam (events.caughtUp),
        // then send 20 more each: the catch-up, the seam and the live part all happen while they
        // write, however the machine schedules them. The subscriber subscribes once a backlog
        // is in the log, and reads as it goes.
        let server = try await TestServer(slowConsumerTimeout: Patience.timeout, deterministic: false)
        let setup = try await server.connect()
        try await setup.result("agent.login", ["agentId": "alice", "state": "Ready"])
        try await setup.result("agent.login", ["agentId": "bob", "state": "Ready"])
        let start = server.engine.head.position
        let writers = try await { var clients: [TestClient] = []; for _ in 0..<4 { clients.append(try await server.connect()) }; return clients }()
        let caughtUp = Flag()
        let writing = Task {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (index, writer) in writers.enumerated() {
                    group.addTask {
                        var i = 0
                        var after = 0
                        // Past 5 000 sends each, something is wrong: stop, and let the checks below say what.
                        while after < 20 && i < 5_000 {
                            let answer = try await writer.call("sms.send", [
                                "agentId": index % 2 == 0 ? "alice" : "bob", "serviceId": "support",
                                "customerNumber": "+1555\(String(format: "%03d", index))\(String(format: "%04d", i))", "text": "message \(i) from writer \(index)",
                            ])
                            #expect(answer["result"] != nil, "\(answer)")
                            i += 1
                            if caughtUp.isSet { after += 1 }
                        }
                    }
                }
                try await group.waitForAll()
            }
        }
        try await waitUntil("the writers to put a backlog in the log") { server.engine.head.position >= start + 100 }
        let subscriber = try await server.connect()
        let answer = try await subscriber.result("events.subscribe", ["after": 0])
        #expect(answer["after"] as? Int == 0)
        var positions: [UInt64] = []
        var caughtUpAt: Int?
        func read() async throws {
            let line = try await subscriber.readObject()
            switch line["method"] as? String {
            case "events.event":
                let position = try #require((line["params"] as? [String: Any])?["position"] as? Int)
                positions.append(UInt64(position))
            case "events.caughtUp":
                #expect(caughtUpAt == nil, "events.caughtUp once")
                caughtUpAt = positions.count
                caughtUp.set()
            default: Issue.record("unexpected line \(line)")
            }
        }
        while caughtUpAt == nil { try await read() }
        let writersAtSeam = server.engine.head.position
        try await writing.value
        let head = server.engine.head.position
        while positions.last ?? 0 < head { try await read() }
        #expect(positions == Array(1...head), "every position once, in order")
        #expect(head > writersAtSeam, "the writers went on after the seam")
        try await server.stop()
    }

    @Test("a client that reconnects with the last position it saw misses nothing and sees nothing twice")
    func reconnectAndResume() async throws {
        let server = try await TestServer(deterministic: false)
        let writer = try await server.connect()
        try await writer.result("agent.login", ["agentId": "alice", "state": "Ready"])
        try await Self.write(writer, agent: "alice", count: 20, tag: 1)
        var seen: [UInt64] = []
        do {
            let first = try await server.connect()
            defer { first.disconnect() }
            try await first.result("events.subscribe", ["after": 0, "filter": ["agentId": "alice"]])
            while seen.count < 15 {
                let line = try await first.readObject()
                if line["method"] as? String == "events.event", let p = (line["params"] as? [String: Any])?["position"] as? Int {
                    seen.append(UInt64(p))
                }
            }
        }  // the connection closes here, mid-stream
        try await Self.write(writer, agent: "alice", count: 10, tag: 2)
        let second = try await server.connect()
        let last = try #require(seen.last)
        try await second.result("events.subscribe", ["after": last, "filter": ["agentId": "alice"]])
        _ = try await second.next("events.caughtUp")
        let resumed = second.notifications.compactMap { ($0["params"] as? [String: Any])?["position"] as? Int }.map(UInt64.init)
        let all = seen + resumed
        #expect(Set(all).count == all.count, "no position twice")
        let aliceEvents = try server.engine.log.read(after: 0, limit: .max).filter { event in
            event.recorded.stream == "agent:alice" || { if case .messageSent(let e) = event.recorded.event { return e.agentId == "alice" }; return false }()
                || (event.recorded.stream.hasPrefix("conversation:") && event.recorded.type == .conversationOpened)
        }
        #expect(all == aliceEvents.map(\.recorded.position), "exactly alice's events, in order")

        let unsubscribed = try await second.result("events.unsubscribe", ["subscription": "s1"])
        let resumeAfter = try #require(unsubscribed["resumeAfter"] as? Int)
        #expect(UInt64(resumeAfter) == server.engine.head.position)
        try await server.stop()
    }

    @Test("filtered subscriptions send checkpoints so a client's cursor advances past events it does not see")
    func checkpoints() async throws {
        let server = try await TestServer(deterministic: false)
        let writer = try await server.connect()
        try await writer.result("agent.login", ["agentId": "bob", "state": "Ready"])
        let watcher = try await server.connect()
        try await watcher.result("events.subscribe", ["filter": ["agentId": "alice"]])
        _ = try await watcher.next("events.caughtUp")
        try await Self.write(writer, agent: "bob", count: 3, tag: 3)
        let checkpoint = try #require(try await watcher.next("events.checkpoint"))
        let position = try #require((checkpoint["params"] as? [String: Any])?["position"] as? Int)
        #expect(position > 7 && UInt64(position) <= server.engine.head.position)
        try await server.stop()
    }

    @Test("an agent subscription carries the unread count after each DID message")
    func agentSubscriptionCarriesUnread() async throws {
        let server = try await TestServer(deterministic: false)
        let watcher = try await server.connect()
        try await watcher.result("events.subscribe", ["filter": ["agentId": "alice"]])
        _ = try await watcher.next("events.caughtUp")
        let carrier = try await server.connect()
        for i in 1...2 {
            try await carrier.result("carrier.inbound", ["from": "+1555999000\(i)", "to": "+15550100201", "text": "DID \(i)"])
        }
        var unread: [Int] = []
        while unread.count < 2 {
            let event = try #require(try await watcher.next("events.event"))
            if let count = (event["params"] as? [String: Any])?["unread"] as? Int { unread.append(count) }
        }
        #expect(unread.last == 2)
        try await server.stop()
    }
}
