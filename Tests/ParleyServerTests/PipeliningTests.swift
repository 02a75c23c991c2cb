import Foundation
import ParleyCore
import ParleyProtocol
import Testing

/// Commands sent without waiting for their answers, as a connector or a gateway sends them:
/// the writer answers each connection once per batch, with no task per command.
@Suite("Pipelined commands")
struct PipeliningTests {
    private static func send(_ id: Int, customer: Int) -> String {
        jsonLine([
            "jsonrpc": "2.0", "id": id, "method": "sms.send",
            "params": [
                "agentId": "alice", "serviceId": "support", "customerNumber": "+1555700\(1000 + customer)",
                "text": "hi \(id)",
            ],
        ])
    }

    @Test("pipelined commands are answered once each, in the order the connection sent them, in log order")
    func answeredInOrder() async throws {
        let server = try await TestServer()
        let client = try await server.connect()
        try await client.result("agent.login", ["agentId": "alice", "state": "Ready"])
        let before = server.engine.head.position
        let count = 60
        try await client.sendRaw(
            Array((1...count).map { Self.send($0, customer: $0 % 7) }.joined(separator: "\n").utf8) + [10])
        var ids: [Int] = []
        var positions: [Int] = []
        for _ in 0..<count {
            let answer = try await client.readObject()
            let result = try #require(answer["result"] as? [String: Any], "\(answer)")
            ids.append(try #require(answer["id"] as? Int))
            positions.append(try #require(result["position"] as? Int))
        }
        #expect(ids == Array(1...count))
        #expect(
            positions == positions.sorted() && Set(positions).count == count,
            "each answer's position is past the previous one")
        #expect(UInt64(positions.last ?? 0) == server.engine.head.position)
        #expect(server.engine.head.position > before + UInt64(count - 1))
        try await server.stop()
    }

    @Test(
        "past the in-flight limit a pipelined command is refused with TooManyRequests; exactly the answered ones were applied"
    )
    func inFlightLimit() async throws {
        let server = try await TestServer(limits: ServerLimits(maxInFlight: 4))
        let client = try await server.connect()
        try await client.result("agent.login", ["agentId": "alice", "state": "Ready"])
        let before = server.engine.head.position
        let count = 200
        try await client.sendRaw(
            Array((1...count).map { Self.send($0, customer: 1) }.joined(separator: "\n").utf8) + [10])
        var accepted: [Int] = []
        var refused = 0
        for _ in 0..<count {
            let answer = try await client.readObject()
            if let result = answer["result"] as? [String: Any] {
                accepted.append(try #require(result["position"] as? Int))
            } else {
                let error = try #require(AnswerError(answer), "\(answer)")
                #expect(error.type == "TooManyRequests" && error.retryable == true, "\(answer)")
                refused += 1
            }
        }
        #expect(accepted.count + refused == count)
        #expect(accepted.count >= 1, "the first commands fit in the limit")
        // One SMS to the same customer: the first opens the conversation, every one appends its message.
        let messages = try await server.readProjections { view -> Int? in
            guard let chats = try view.agentView("alice")?.openChats, chats.count == 1 else { return nil }
            return try view.transcript(chats[0].conversationId, after: nil, limit: 10_000).count
        }
        #expect(messages == accepted.count, "one message per accepted command, none for a refused one")
        #expect(UInt64(accepted.last ?? 0) == server.engine.head.position)
        #expect(server.engine.head.position > before)
        try await server.stop()
    }

    @Test("commands sent before the greeting was read are answered after it, in order")
    func beforeTheGreeting() async throws {
        let server = try await TestServer()
        let client = try TestClient(path: server.socketPath)
        let lines = (1...5).map { id in
            jsonLine([
                "jsonrpc": "2.0", "id": id, "method": id == 1 ? "agent.login" : "agent.setState",
                "params": ["agentId": "alice", "state": id % 2 == 0 ? "Ready" : "NotReady"],
            ])
        }
        try await client.sendRaw(Array((lines.joined(separator: "\n") + "\n").utf8))
        let hello = try await client.readObject()
        #expect(hello["method"] as? String == "server.hello")
        var ids: [Int] = []
        for _ in 1...5 {
            let answer = try await client.readObject()
            ids.append(try #require(answer["id"] as? Int, "\(answer)"))
            #expect(answer["result"] != nil, "\(answer)")
        }
        #expect(ids == [1, 2, 3, 4, 5])
        let state = try await server.readProjections { try $0.agent("alice")?.state }
        #expect(state == .notReady, "decided in the order sent: the last one sets NotReady")
        try await server.stop()
    }

    @Test(
        "a refused command among pipelined ones gets its error; the accepted ones keep their order and are all applied")
    func refusalAmongPipelined() async throws {
        let server = try await TestServer()
        let client = try await server.connect()
        try await client.result("agent.login", ["agentId": "alice", "state": "Ready"])
        let bad = jsonLine([
            "jsonrpc": "2.0", "id": 5, "method": "sms.send", "params": ["agentId": "alice", "text": 7],
        ])
        let lines = (1...9).map { $0 == 5 ? bad : Self.send($0, customer: $0) }
        try await client.sendRaw(Array((lines.joined(separator: "\n") + "\n").utf8))
        var accepted: [Int] = []
        var refused: [Int] = []
        for _ in 1...9 {
            let answer = try await client.readObject()
            let id = try #require(answer["id"] as? Int, "\(answer)")
            if answer["result"] != nil { accepted.append(id) } else { refused.append(id) }
        }
        #expect(refused == [5])
        #expect(accepted == [1, 2, 3, 4, 6, 7, 8, 9])
        let chats = try await server.readProjections { try $0.agentView("alice")?.openChats.count }
        #expect(chats == 8, "one conversation per accepted send")
        try await server.stop()
    }
}
