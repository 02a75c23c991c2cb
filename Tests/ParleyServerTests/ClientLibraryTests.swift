import Foundation
import ParleyClient
import ParleyCore
import ParleyProtocol
import ParleyServer
import Testing

@Suite("The client library (ParleyClient)")
struct ClientLibraryTests {
    static func send(_ client: ParleyClient, _ i: Int, key: String? = nil) async throws -> JSONValue {
        var params: [String: JSONValue] = [
            "agentId": "alice", "serviceId": "support",
            "customerNumber": .string("+1555020\(String(format: "%04d", i))"),
            "text": .string("message \(i)"),
        ]
        if let key { params["idempotencyKey"] = .string(key) }
        return try await client.call("sms.send", params)
    }

    @Test("the greeting, typed results, and refusals as RemoteError with data.type and data.field")
    func callsAndRefusals() async throws {
        let server = try await TestServer()
        let connection = try await ParleyConnection.connect(path: server.socketPath)
        #expect(connection.greeting["peer"]?["roles"] == ["admin"])
        #expect(connection.greeting["limits"]?["maxInFlight"]?.int64 == 64)
        let login = try await connection.call("agent.login", ["agentId": "alice", "state": "Ready"])
        #expect(login["state"] == "Ready")
        do {
            try await connection.call(
                "sms.send", ["agentId": "alice", "serviceId": "support", "customerNumber": "12", "text": "hi"])
            Issue.record("a bad number was accepted")
        } catch {
            #expect(error.remote?.type == "InvalidNumber")
            #expect(error.remote?.field == "customerNumber")
            #expect(error.remote?.code == -32001)
        }
        do {
            try await connection.call("no.such.method")
            Issue.record("an unknown method was answered")
        } catch {
            #expect(error.remote?.type == "MethodNotFound")
        }
        // Requests from several tasks share the connection; each gets its own answer.
        let views = try await withThrowingTaskGroup(of: String?.self) { group in
            for agent in ["alice", "bob", "alice", "bob"] {
                group.addTask {
                    try await connection.call("agent.view", ["agentId": .string(agent)])["agent"]?["agentId"]?.string
                }
            }
            return try await group.reduce(into: [String?]()) { $0.append($1) }
        }
        #expect(views.sorted { ($0 ?? "") < ($1 ?? "") } == ["alice", "alice", "bob", "bob"])
        await connection.close()
        do {
            try await connection.call("log.head")
            Issue.record("a closed connection carried a request")
        } catch {
            guard case .closed = error else { throw error }
        }
        try await server.stop()
    }

    @Test(
        "no daemon: a connect error that says why; a request longer than the server's limit is refused before sending")
    func connectErrors() async throws {
        let directory = try TemporaryDirectory()
        do {
            _ = try await ParleyConnection.connect(path: directory.path + "/none.sock")
            Issue.record("connected to nothing")
        } catch {
            guard case .connect(_, let reason) = error else { throw error }
            #expect(reason == "no such socket")
            #expect("\(error)".contains("Is parleyd running?"))
        }
        let server = try await TestServer()
        let connection = try await ParleyConnection.connect(path: server.socketPath)
        do {
            try await connection.call("sms.count", ["text": .string(String(repeating: "a", count: 1 << 21))])
            Issue.record("an over-long request was sent")
        } catch {
            guard case .requestTooLarge(_, let limit) = error else { throw error }
            #expect(limit == 1 << 20)
        }
        #expect(try await connection.call("log.head")["position"]?.uint64 != nil, "the connection is still usable")
        try await server.stop()
    }

    @Test("commands get an idempotency key; a repeat of a key is answered with the original result, replayed")
    func idempotencyKeys() async throws {
        let server = try await TestServer()
        let client = ParleyClient(path: server.socketPath)
        try await client.call("agent.login", ["agentId": "alice", "state": "Ready"])
        let first = try await Self.send(client, 1, key: "retry-me")
        let again = try await Self.send(client, 1, key: "retry-me")
        #expect(first["replayed"] == false)
        #expect(again["replayed"] == true)
        #expect(again["messageId"] == first["messageId"])
        let position = try #require(first["position"]?.uint64)
        let read = try await client.call("log.read", ["after": .integer(Int64(position) - 1), "limit": 1])
        let recorded = try #require(read["events"]?.array?.first)
        #expect(recorded["idempotencyKey"]?["key"] == "retry-me")
        // Without a key of the caller's, the client makes one: every command it sends is safe to retry.
        let login = try #require(
            try await client.call("agent.setState", ["agentId": "alice", "state": "NotReady"])["position"]?.uint64)
        let loginEvent = try #require(
            try await client.call("log.read", ["after": .integer(Int64(login) - 1), "limit": 1])["events"]?.array?.first
        )
        #expect(loginEvent["idempotencyKey"]?["key"]?.string?.count == 36)
        await client.close()
        try await server.stop()
    }

    @Test(
        "a subscriber reading slower than its buffer loses nothing: the resumed subscription continues after the last message read"
    )
    func slowReaderResumes() async throws {
        let server = try await TestServer(deterministic: false)
        var options = ParleyClient.Options()
        options.subscriptionBuffer = 2
        let client = ParleyClient(path: server.socketPath, options: options)
        try await client.call("agent.login", ["agentId": "alice", "state": "Ready"])
        for i in 0..<60 { _ = try await Self.send(client, i) }
        let head = server.engine.head.position
        var positions: [UInt64] = []
        var iterator = client.events(after: 0).makeAsyncIterator()
        while positions.last ?? 0 < head {
            guard let message = try await iterator.next() else { break }
            if case .event(let position, _, _) = message {
                positions.append(position)
                // Let the buffer of 2 overflow (the assertions hold whether or not it does).
                if positions.count == 1 { try await Task.sleep(for: .milliseconds(200)) }
            }
        }
        #expect(positions == Array(1...head), "every position once, in order")
        await client.close()
        try await server.stop()
    }

    @Test(
        "across a daemon killed and restarted: calls wait for it, and a subscription resumes without a gap or a duplicate"
    )
    func resumesAcrossRestart() async throws {
        let directory = try TemporaryDirectory()
        var daemon = try await DaemonProcess(directory: directory.path + "/data")
        let client = ParleyClient(path: daemon.socket)
        try await client.call("agent.login", ["agentId": "alice", "state": "Ready"])
        for i in 0..<20 { _ = try await Self.send(client, i) }
        var seen: [UInt64] = []
        var iterator = client.events(after: 0, filter: ["agentId": "alice"]).makeAsyncIterator()
        while seen.count < 15, let message = try await iterator.next() {
            if case .event(let position, _, _) = message { seen.append(position) }
        }
        #expect(await daemon.stop(SIGKILL) == SIGKILL)
        // The daemon is down: the next call keeps trying, and is answered once it is back.
        let pending = Task { try await Self.send(client, 20) }
        daemon = try await DaemonProcess(directory: directory.path + "/data")
        let sent = try await pending.value
        #expect(sent["status"] == "queued")
        for i in 21..<30 { _ = try await Self.send(client, i) }
        let head = try #require(try await client.call("log.head")["position"]?.uint64)
        while seen.last ?? 0 < head, let message = try await iterator.next() {
            if case .event(let position, _, _) = message { seen.append(position) }
        }
        var expected: [UInt64] = []
        let log = try await client.call("log.read", ["after": 0, "limit": 1000])
        for event in log["events"]?.array ?? [] {
            let stream = event["stream"]?.string ?? ""
            if stream == "agent:alice" || event["type"] == "MessageSent" || event["type"] == "ConversationOpened",
                let position = event["position"]?.uint64
            {
                expected.append(position)
            }
        }
        #expect(seen == expected, "alice's events, each once, in order, across the restart")
        await client.close()
        _ = await daemon.stop()
    }
}
