import Foundation
import ParleyCore
import ParleyProtocol
import ParleyServer
import Testing

// One live socket test per protocol method, as root (admin) over a real `TestClient`.
// Each test starts its own deterministic daemon with the demo directory (7 events).

/// The demo directory's seven events.
private let demoHead = 7
private let supportNumber = "+15550100100"
private let aliceDid = "+15550100201"

/// Starts a server and connects as root, checking the greeting says admin.
private func start(sourceLocation: SourceLocation = #_sourceLocation) async throws -> (TestServer, TestClient) {
    let server = try await TestServer()
    let client = try await server.connect()
    let peer = client.greeting["peer"] as? [String: Any]
    #expect(peer?["uid"] as? Int == 0, "the test runs as root", sourceLocation: sourceLocation)
    #expect((peer?["roles"] as? [String])?.contains("admin") == true, "root is admin: \(client.greeting)", sourceLocation: sourceLocation)
    return (server, client)
}

private func head(_ server: TestServer) -> Int { Int(server.engine.head.position) }

/// A command result: `position` is an Int equal to the head now, `replayed` as given, `events` positions end at `position`.
private func expectCommand(
    _ result: [String: Any], _ server: TestServer, replayed: Bool = false, types: [String]? = nil,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    let position = result["position"] as? Int
    #expect(position != nil, "position must be an integer: \(result)", sourceLocation: sourceLocation)
    #expect(position == head(server), "position \(position ?? -1) vs head \(head(server))", sourceLocation: sourceLocation)
    #expect(result["replayed"] as? Bool == replayed, "replayed: \(result)", sourceLocation: sourceLocation)
    let events = result["events"] as? [[String: Any]]
    #expect(events != nil, "events: \(result)", sourceLocation: sourceLocation)
    if let types {
        #expect(events?.compactMap { $0["type"] as? String } == types, "event types: \(result)", sourceLocation: sourceLocation)
    }
    if !replayed, let last = events?.last {
        #expect(last["position"] as? Int == position, "last event is at position: \(result)", sourceLocation: sourceLocation)
    }
}

/// A query result carries `asOf` equal to the head (nothing runs concurrently in these tests).
private func expectAsOf(_ result: [String: Any], _ server: TestServer, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(result["asOf"] as? Int == head(server), "asOf: \(result["asOf"] ?? "missing") vs head \(head(server))", sourceLocation: sourceLocation)
}

/// The call must be refused with `code` and `type` (and `field`), and append nothing.
private func expectRefused(
    _ client: TestClient, _ server: TestServer, _ method: String, _ params: [String: Any], code: Int, type: String,
    field: String? = nil, sourceLocation: SourceLocation = #_sourceLocation
) async throws {
    let before = head(server)
    let answer = try await client.call(method, params)
    let error = AnswerError(answer)
    #expect(error != nil, "\(method) must fail: \(answer)", sourceLocation: sourceLocation)
    #expect(error?.code == code, "code of \(method): \(answer)", sourceLocation: sourceLocation)
    #expect(error?.type == type, "type of \(method): \(answer)", sourceLocation: sourceLocation)
    if let field { #expect(error?.field == field, "field of \(method): \(answer)", sourceLocation: sourceLocation) }
    #expect(answer["result"] == nil, sourceLocation: sourceLocation)
    #expect(head(server) == before, "a refused \(method) appended", sourceLocation: sourceLocation)
}

@Suite("Methods over a live socket")
struct MethodTests {
    // MARK: Session

    @Test("session.hello: versions [1] returns the greeting, [99] is UnsupportedVersion")
    func sessionHello() async throws {
        let (server, client) = try await start()
        #expect(client.greeting["protocol"] as? String == "parley")
        #expect(client.greeting["versions"] as? [Int] == [1])
        #expect(client.greeting["head"] as? Int == demoHead)
        let hello = try await client.result("session.hello", ["protocol": "parley", "versions": [1]])
        #expect(hello["protocol"] as? String == "parley")
        #expect(hello["version"] as? Int == 1)
        #expect(hello["head"] as? Int == demoHead)
        let peer = hello["peer"] as? [String: Any]
        #expect(peer?["uid"] as? Int == 0)
        #expect((peer?["roles"] as? [String])?.contains("admin") == true)
        #expect(NSDictionary(dictionary: hello).isEqual(to: client.greeting), "session.hello returns the greeting")
        // Without params it is the same greeting.
        #expect(NSDictionary(dictionary: try await client.result("session.hello")).isEqual(to: client.greeting))
        try await expectRefused(client, server, "session.hello", ["versions": [99]], code: -32009, type: "UnsupportedVersion", field: "versions")
        try await expectRefused(client, server, "session.hello", ["protocol": "smtp"], code: -32001, type: "InvalidArgument", field: "protocol")
        try await expectRefused(client, server, "session.hello", ["versions": ["1"]], code: -32602, type: "WrongType", field: "versions[0]")
        try await server.stop()
    }

    @Test("server.info: the greeting with limits and the current head")
    func serverInfo() async throws {
        let (server, client) = try await start()
        let info = try await client.result("server.info")
        #expect(info["server"] as? String == "parleyd 0.1.0")
        let limits = info["limits"] as? [String: Any]
        #expect(limits?["maxLineBytes"] as? Int == 1_048_576)
        #expect(limits?["maxDepth"] as? Int == 32)
        #expect(limits?["maxInFlight"] as? Int == 64)
        #expect(limits?["maxSubscriptions"] as? Int == 16)
        #expect(info["head"] as? Int == demoHead)
        try await client.result("agent.login", ["agentId": "alice"])
        #expect(try await client.result("server.info")["head"] as? Int == demoHead + 1, "head follows the log")
        try await expectRefused(client, server, "server.info", ["verbose": true], code: -32602, type: "UnknownParam", field: "verbose")
        try await server.stop()
    }

    @Test("rpc.discover: an OpenRPC document listing all 29 methods")
    func rpcDiscover() async throws {
        let (server, client) = try await start()
        let document = try await client.result("rpc.discover")
        #expect(document["openrpc"] as? String == "1.2.6")
        let names = (document["methods"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
        #expect(names.count == 29)
        #expect(Set(names) == Set(ParleyProtocol.Method.allCases.map(\.rawValue)))
        #expect(Set(names).contains("events.unsubscribe") && Set(names).contains("carrier.status"))
        try await expectRefused(client, server, "rpc.discover", ["x": 1], code: -32602, type: "UnknownParam", field: "x")
        try await server.stop()
    }

    // MARK: Directory

    @Test("directory.putAgent: creates and replaces an agent (omitted optionals take defaults)")
    func directoryPutAgent() async throws {
        let (server, client) = try await start()
        let put = try await client.result("directory.putAgent", [
            "agentId": "carol", "displayName": "Carol", "did": "+15550100299", "services": ["support", "voice"], "idempotencyKey": "carol-1",
        ])
        expectCommand(put, server, types: ["AgentConfigured"])
        #expect((put["events"] as? [[String: Any]])?.first?["stream"] as? String == "agent:carol")
        func carol() async throws -> [String: Any]? {
            (try await client.result("directory.list")["agents"] as? [[String: Any]])?.first { $0["agentId"] as? String == "carol" }
        }
        let created = try #require(try await carol())
        #expect(created["did"] as? String == "+15550100299")
        #expect(created["services"] as? [String] == ["support", "voice"])
        #expect(created["state"] as? String == "LoggedOut")
        #expect(created["smsAllowed"] as? Bool == true)
        // Replace without services / did: the defaults, never the previous values.
        expectCommand(try await client.result("directory.putAgent", ["agentId": "carol", "displayName": "Carol B", "smsAllowed": false]), server)
        let replaced = try #require(try await carol())
        #expect(replaced["displayName"] as? String == "Carol B")
        #expect(replaced["services"] as? [String] == [])
        #expect(replaced["did"] == nil)
        #expect(replaced["smsAllowed"] as? Bool == false)
        try await expectRefused(
            client, server, "directory.putAgent", ["agentId": "dave", "displayName": "Dave", "did": aliceDid], code: -32001, type: "NumberInUse"
        )
        try await expectRefused(
            client, server, "directory.putAgent", ["agentId": "dave", "displayName": "Dave", "services": ["nope"]], code: -32001,
            type: "UnknownService"
        )
        try await expectRefused(client, server, "directory.putAgent", ["agentId": "dave"], code: -32602, type: "MissingParam", field: "displayName")
        try await server.stop()
    }

    @Test("directory.putService: a new SMS service routes inbound SMS")
    func directoryPutService() async throws {
        let (server, client) = try await start()
        let put = try await client.result("directory.putService", [
            "serviceId": "sales", "name": "Sales", "smsNumber": "+15550100300", "smsEnabled": true, "inboundChats": true,
        ])
        expectCommand(put, server, types: ["ServiceConfigured"])
        #expect((put["events"] as? [[String: Any]])?.first?["stream"] as? String == "service:sales")
        let services = try await client.result("directory.list")["services"] as? [[String: Any]] ?? []
        let sales = try #require(services.first { $0["serviceId"] as? String == "sales" })
        #expect(sales["smsNumber"] as? String == "+15550100300")
        #expect(sales["inboundChats"] as? Bool == true)
        let inbound = try await client.result("carrier.inbound", ["from": "+15557000001", "to": "+15550100300", "text": "hi"])
        #expect(inbound["outcome"] as? String == "chatRequest", "the new number routes to the new service")
        try await expectRefused(
            client, server, "directory.putService", ["serviceId": "dup", "name": "Dup", "smsNumber": supportNumber], code: -32001,
            type: "NumberInUse"
        )
        try await expectRefused(
            client, server, "directory.putService", ["serviceId": "x", "name": "X", "smsEnabled": true], code: -32001, type: "InvalidArgument"
        )
        try await server.stop()
    }

    @Test("directory.putTemplate: a template limited to a service")
    func directoryPutTemplate() async throws {
        let (server, client) = try await start()
        let put = try await client.result("directory.putTemplate", ["templateId": "bye", "title": "Bye", "text": "Goodbye!", "services": ["voice"]])
        expectCommand(put, server, types: ["TemplateConfigured"])
        let voice = (try await client.result("templates.list", ["serviceId": "voice"])["templates"] as? [[String: Any]] ?? [])
            .compactMap { $0["templateId"] as? String }
        #expect(Set(voice) == ["greeting", "bye"])
        let support = (try await client.result("templates.list", ["serviceId": "support"])["templates"] as? [[String: Any]] ?? [])
            .compactMap { $0["templateId"] as? String }
        #expect(!support.contains("bye"))
        try await expectRefused(
            client, server, "directory.putTemplate", ["templateId": "t", "title": "T", "text": "x", "services": ["nope"]], code: -32001,
            type: "UnknownService"
        )
        try await expectRefused(
            client, server, "directory.putTemplate", ["templateId": "t", "title": "T", "text": "x", "services": "voice"], code: -32602,
            type: "WrongType", field: "services"
        )
        try await server.stop()
    }

    @Test("directory.putSettings: maxSegments bounds sms.count and sms.send")
    func directoryPutSettings() async throws {
        let (server, client) = try await start()
        let put = try await client.result("directory.putSettings", ["maxSegments": 1, "smsCounterEnabled": false])
        expectCommand(put, server, types: ["SettingsConfigured"])
        let count = try await client.result("sms.count", ["text": String(repeating: "a", count: 161)])
        #expect(count["maxSegments"] as? Int == 1)
        #expect(count["withinLimit"] as? Bool == false)
        #expect(count["counterEnabled"] as? Bool == false)
        try await client.result("agent.login", ["agentId": "alice", "state": "Ready"])
        try await expectRefused(
            client, server, "sms.send",
            ["agentId": "alice", "serviceId": "support", "customerNumber": "+15557000001", "text": String(repeating: "a", count: 161)],
            code: -32001, type: "MessageTooLong"
        )
        try await expectRefused(client, server, "directory.putSettings", [:], code: -32602, type: "MissingParam", field: "maxSegments")
        try await expectRefused(client, server, "directory.putSettings", ["maxSegments": 0], code: -32001, type: "InvalidArgument", field: "maxSegments")
        try await expectRefused(client, server, "directory.putSettings", ["maxSegments": 256], code: -32001, type: "InvalidArgument", field: "maxSegments")
        try await server.stop()
    }

    @Test("directory.list: the demo directory")
    func directoryList() async throws {
        let (server, client) = try await start()
        let list = try await client.result("directory.list")
        expectAsOf(list, server)
        #expect(list["asOf"] as? Int == demoHead)
        let agents = list["agents"] as? [[String: Any]] ?? []
        #expect(agents.compactMap { $0["agentId"] as? String }.sorted() == ["alice", "bob"])
        let alice = try #require(agents.first { $0["agentId"] as? String == "alice" })
        #expect(alice["did"] as? String == aliceDid)
        #expect(alice["services"] as? [String] == ["support"])
        #expect(alice["state"] as? String == "LoggedOut")
        #expect(alice["displayName"] as? String == "Alice Example")
        let bob = try #require(agents.first { $0["agentId"] as? String == "bob" })
        #expect(bob["did"] == nil)
        #expect(bob["services"] as? [String] == ["support", "voice"])
        let services = list["services"] as? [[String: Any]] ?? []
        #expect(services.compactMap { $0["serviceId"] as? String }.sorted() == ["support", "voice"])
        let support = try #require(services.first { $0["serviceId"] as? String == "support" })
        #expect(support["smsNumber"] as? String == supportNumber)
        #expect(support["smsEnabled"] as? Bool == true)
        #expect(support["inboundChats"] as? Bool == true)
        let voice = try #require(services.first { $0["serviceId"] as? String == "voice" })
        #expect(voice["smsNumber"] == nil)
        #expect(voice["smsEnabled"] as? Bool == false)
        let templates = list["templates"] as? [[String: Any]] ?? []
        #expect(templates.compactMap { $0["templateId"] as? String }.sorted() == ["confirmation", "greeting"])
        let settings = list["settings"] as? [String: Any]
        #expect(settings?["maxSegments"] as? Int == 10)
        #expect(settings?["smsCounterEnabled"] as? Bool == true)
        try await server.stop()
    }

    // MARK: Agents

    @Test("agent.login: logs in to Ready; refuses unknown agents and bad states")
    func agentLogin() async throws {
        let (server, client) = try await start()
        let login = try await client.result("agent.login", ["agentId": "alice", "state": "Ready"])
        expectCommand(login, server, types: ["AgentLoggedIn"])
        #expect(login["state"] as? String == "Ready")
        #expect((login["events"] as? [[String: Any]])?.first?["stream"] as? String == "agent:alice")
        let view = try await client.result("agent.view", ["agentId": "alice"])
        #expect((view["agent"] as? [String: Any])?["state"] as? String == "Ready")
        // Logging in again appends nothing: position is the head, no events.
        let again = try await client.result("agent.login", ["agentId": "alice", "state": "NotReady"])
        expectCommand(again, server, types: [])
        #expect((try await client.result("agent.view", ["agentId": "alice"])["agent"] as? [String: Any])?["state"] as? String == "Ready")
        // Default state is NotReady.
        #expect(try await client.result("agent.login", ["agentId": "bob"])["state"] as? String == "NotReady")
        try await expectRefused(client, server, "agent.login", ["agentId": "zed"], code: -32001, type: "UnknownAgent")
        try await expectRefused(client, server, "agent.login", ["agentId": "alice", "state": "Sleepy"], code: -32001, type: "InvalidArgument", field: "state")
        try await client.result("agent.logout", ["agentId": "alice"])
        try await expectRefused(client, server, "agent.login", ["agentId": "alice", "state": "Busy"], code: -32001, type: "InvalidArgument", field: "state")
        try await server.stop()
    }

    @Test("agent.logout: a logged-out agent cannot send (AgentLoggedOut)")
    func agentLogout() async throws {
        let (server, client) = try await start()
        try await client.result("agent.login", ["agentId": "alice", "state": "Ready"])
        let logout = try await client.result("agent.logout", ["agentId": "alice"])
        expectCommand(logout, server, types: ["AgentLoggedOut"])
        #expect(logout["state"] as? String == "LoggedOut")
        #expect((try await client.result("agent.view", ["agentId": "alice"])["agent"] as? [String: Any])?["state"] as? String == "LoggedOut")
        try await expectRefused(
            client, server, "sms.send", ["agentId": "alice", "serviceId": "support", "customerNumber": "+15557000001", "text": "hi"],
            code: -32001, type: "AgentLoggedOut"
        )
        expectCommand(try await client.result("agent.logout", ["agentId": "alice"]), server, types: [])
        try await expectRefused(client, server, "agent.logout", ["agentId": "zed"], code: -32001, type: "UnknownAgent")
        try await server.stop()
    }

    @Test("agent.setState: Busy with a call context; a call outside Busy is refused")
    func agentSetState() async throws {
        let (server, client) = try await start()
        try await expectRefused(client, server, "agent.setState", ["agentId": "alice", "state": "Ready"], code: -32001, type: "AgentLoggedOut")
        try await client.result("agent.login", ["agentId": "alice"])
        let call: [String: Any] = ["callId": "call-1", "serviceId": "support", "customerNumber": "+15557000001"]
        let busy = try await client.result("agent.setState", ["agentId": "alice", "state": "Busy", "call": call])
        expectCommand(busy, server, types: ["AgentStateChanged"])
        #expect(busy["state"] as? String == "Busy")
        let agent = try await client.result("agent.view", ["agentId": "alice"])["agent"] as? [String: Any]
        #expect(agent?["state"] as? String == "Busy")
        #expect((agent?["call"] as? [String: Any])?["callId"] as? String == "call-1")
        try await expectRefused(client, server, "agent.setState", ["agentId": "alice", "state": "AfterCallWork"], code: -32001, type: "InvalidArgument")
        try await expectRefused(
            client, server, "agent.setState", ["agentId": "alice", "state": "Ready", "call": call], code: -32001, type: "InvalidArgument"
        )
        try await expectRefused(
            client, server, "agent.setState", ["agentId": "alice", "state": "Busy", "call": ["callId": "c", "serviceId": "support"]],
            code: -32602, type: "MissingParam", field: "call.customerNumber"
        )
        try await expectRefused(client, server, "agent.setState", ["agentId": "alice", "state": "LoggedOut"], code: -32001, type: "InvalidArgument", field: "state")
        try await expectRefused(client, server, "agent.setState", ["agentId": "alice"], code: -32602, type: "MissingParam", field: "state")
        let ready = try await client.result("agent.setState", ["agentId": "alice", "state": "Ready"])
        expectCommand(ready, server, types: ["AgentStateChanged"])
        #expect((try await client.result("agent.view", ["agentId": "alice"])["agent"] as? [String: Any])?["call"] == nil, "Ready drops the call")
        try await server.stop()
    }

    @Test("agent.view: state, pending chat requests of its services, open chats, unread")
    func agentView() async throws {
        let (server, client) = try await start()
        let fresh = try await client.result("agent.view", ["agentId": "alice"])
        expectAsOf(fresh, server)
        #expect((fresh["agent"] as? [String: Any])?["state"] as? String == "LoggedOut")
        #expect((fresh["pendingRequests"] as? [Any])?.isEmpty == true)
        #expect(fresh["unread"] as? Int == 0)
        let request = try await client.result("carrier.inbound", ["from": "+15557000001", "to": supportNumber, "text": "need help"])
        try await client.result("carrier.inbound", ["from": "+15557000002", "to": aliceDid, "text": "call me"])
        let view = try await client.result("agent.view", ["agentId": "alice"])
        expectAsOf(view, server)
        let pending = view["pendingRequests"] as? [[String: Any]] ?? []
        #expect(pending.compactMap { $0["conversationId"] as? String } == [request["conversationId"] as? String].compactMap { $0 })
        #expect(pending.first?["status"] as? String == "pending")
        #expect(view["unread"] as? Int == 1)
        let bobView = try await client.result("agent.view", ["agentId": "bob"])
        #expect((bobView["pendingRequests"] as? [Any])?.count == 1, "bob serves support too")
        #expect(bobView["unread"] as? Int == 0)
        try await client.result("agent.login", ["agentId": "bob"])
        try await client.result("chat.accept", ["agentId": "bob", "conversationId": request["conversationId"] as? String ?? ""])
        let accepted = try await client.result("agent.view", ["agentId": "bob"])
        #expect((accepted["openChats"] as? [[String: Any]])?.first?["conversationId"] as? String == request["conversationId"] as? String)
        #expect((accepted["pendingRequests"] as? [Any])?.isEmpty == true)
        try await expectRefused(client, server, "agent.view", ["agentId": "zed"], code: -32001, type: "UnknownAgent")
        try await expectRefused(client, server, "agent.view", [:], code: -32602, type: "MissingParam", field: "agentId")
        try await server.stop()
    }

    // MARK: SMS

    @Test("sms.count: 161 GSM characters are 2 segments, \"161 (2 messages)\"")
    func smsCount() async throws {
        let (server, client) = try await start()
        let long = try await client.result("sms.count", ["text": String(repeating: "a", count: 161)])
        expectAsOf(long, server)
        #expect(long["encoding"] as? String == "GSM-7")
        #expect(long["characters"] as? Int == 161)
        #expect(long["units"] as? Int == 161)
        #expect(long["segments"] as? Int == 2)
        #expect(long["display"] as? String == "161 (2 messages)")
        #expect(long["remaining"] as? Int == 306 - 161)
        #expect(long["withinLimit"] as? Bool == true)
        let one = try await client.result("sms.count", ["text": String(repeating: "a", count: 160)])
        #expect(one["segments"] as? Int == 1)
        #expect(one["display"] as? String == "160")
        let emoji = try await client.result("sms.count", ["text": "Ships today 📦"])
        #expect(emoji["encoding"] as? String == "UCS-2")
        #expect(emoji["nonGsm"] as? [String] == ["📦"])
        #expect(emoji["units"] as? Int == 14)
        #expect(emoji["characters"] as? Int == 13)
        try await expectRefused(client, server, "sms.count", [:], code: -32602, type: "MissingParam", field: "text")
        try await expectRefused(client, server, "sms.count", ["text": 161], code: -32602, type: "WrongType", field: "text")
        try await server.stop()
    }

    @Test("sms.send: Busy uses the call context; the same idempotency key replays the original result")
    func smsSend() async throws {
        let (server, client) = try await start()
        try await client.result("agent.login", ["agentId": "alice"])
        try await client.result("agent.setState", [
            "agentId": "alice", "state": "Busy", "call": ["callId": "call-9", "serviceId": "support", "customerNumber": "+15557000009"],
        ])
        let sent = try await client.result("sms.send", ["agentId": "alice", "text": "Hello from your call", "idempotencyKey": "k-1"])
        expectCommand(sent, server, types: ["ConversationOpened", "MessageSent"])
        #expect(sent["status"] as? String == "queued")
        #expect(sent["encoding"] as? String == "GSM-7")
        #expect(sent["segments"] as? Int == 1)
        #expect(sent["characters"] as? Int == 20)
        let messageId = try #require(sent["messageId"] as? String)
        let conversationId = try #require(sent["conversationId"] as? String)
        let conversation = try await client.result("conversation.get", ["conversationId": conversationId])["conversation"] as? [String: Any]
        #expect(conversation?["customerNumber"] as? String == "+15557000009", "the call's customer")
        #expect(conversation?["localNumber"] as? String == supportNumber, "the call's service number")
        #expect(conversation?["serviceId"] as? String == "support")
        #expect(conversation?["agentId"] as? String == "alice")
        // Retry with the same key: the original result, nothing appended.
        let headBefore = head(server)
        let replay = try await client.result("sms.send", ["agentId": "alice", "text": "Hello from your call", "idempotencyKey": "k-1"])
        #expect(replay["replayed"] as? Bool == true)
        #expect(replay["messageId"] as? String == messageId)
        #expect(replay["conversationId"] as? String == conversationId)
        #expect(replay["position"] as? Int == sent["position"] as? Int)
        #expect(head(server) == headBefore)
        // The same key for a different command is refused.
        try await expectRefused(
            client, server, "sms.send", ["agentId": "alice", "text": "Something else", "idempotencyKey": "k-1"], code: -32001,
            type: "IdempotencyKeyReused"
        )
        // Joining: a second send goes to the same conversation.
        let second = try await client.result("sms.send", ["agentId": "alice", "text": "Second"])
        expectCommand(second, server, types: ["MessageSent"])
        #expect(second["conversationId"] as? String == conversationId)
        #expect(second["messageId"] as? String != messageId)
        try await expectRefused(client, server, "sms.send", ["agentId": "alice", "text": ""], code: -32001, type: "EmptyMessage")
        try await expectRefused(
            client, server, "sms.send", ["agentId": "alice", "serviceId": "voice", "customerNumber": "+15557000001", "text": "x"],
            code: -32001, type: "ServiceNotAssigned"
        )
        try await expectRefused(
            client, server, "sms.send", ["agentId": "alice", "customerNumber": "12345", "text": "x"], code: -32001, type: "InvalidNumber"
        )
        try await client.result("agent.setState", ["agentId": "alice", "state": "Ready"])
        try await expectRefused(client, server, "sms.send", ["agentId": "alice", "text": "x"], code: -32001, type: "MissingDestination")
        try await server.stop()
    }

    @Test("templates.list: all templates, or those usable by a service")
    func templatesList() async throws {
        let (server, client) = try await start()
        let all = try await client.result("templates.list")
        expectAsOf(all, server)
        let ids = (all["templates"] as? [[String: Any]] ?? []).compactMap { $0["templateId"] as? String }
        #expect(Set(ids) == ["greeting", "confirmation"])
        let support = (try await client.result("templates.list", ["serviceId": "support"])["templates"] as? [[String: Any]] ?? [])
        #expect(Set(support.compactMap { $0["templateId"] as? String }) == ["greeting", "confirmation"])
        let voice = (try await client.result("templates.list", ["serviceId": "voice"])["templates"] as? [[String: Any]] ?? [])
        #expect(voice.compactMap { $0["templateId"] as? String } == ["greeting"], "confirmation is limited to support")
        #expect(voice.first?["text"] as? String == "Hello! This is your support team. How can we help?")
        try await expectRefused(client, server, "templates.list", ["serviceId": 3], code: -32602, type: "WrongType", field: "serviceId")
        try await server.stop()
    }

    // MARK: Carrier

    @Test("carrier.inbound: outcomes conversation, chatRequest, did and ignored")
    func carrierInbound() async throws {
        let (server, client) = try await start()
        // A reply to an agent's message joins its conversation.
        try await client.result("agent.login", ["agentId": "alice", "state": "Ready"])
        let sent = try await client.result("sms.send", ["agentId": "alice", "serviceId": "support", "customerNumber": "+15557000001", "text": "Hi"])
        let reply = try await client.result("carrier.inbound", [
            "from": "+15557000001", "to": supportNumber, "text": "Thanks", "carrierReference": "SM-1", "idempotencyKey": "SM-1",
        ])
        expectCommand(reply, server, types: ["InboundReceived"])
        #expect(reply["outcome"] as? String == "conversation")
        #expect(reply["conversationId"] as? String == sent["conversationId"] as? String)
        #expect(reply["messageId"] is String)
        // Customer-initiated SMS to support: a chat request.
        let request = try await client.result("carrier.inbound", ["from": "+15557000002", "to": supportNumber, "text": "Need help"])
        expectCommand(request, server, types: ["ConversationOpened", "InboundReceived"])
        #expect(request["outcome"] as? String == "chatRequest")
        #expect(request["conversationId"] is String)
        // To alice's DID.
        let did = try await client.result("carrier.inbound", ["from": "+15557000003", "to": aliceDid, "text": "Call me"])
        expectCommand(did, server, types: ["ConversationOpened", "InboundReceived"])
        #expect(did["outcome"] as? String == "did")
        // To a number nobody holds.
        let ignored = try await client.result("carrier.inbound", ["from": "+15557000004", "to": "+15559999999", "text": "Anyone?"])
        expectCommand(ignored, server, types: ["InboundIgnored"])
        #expect(ignored["outcome"] as? String == "ignored")
        #expect(ignored["conversationId"] == nil)
        #expect(ignored["messageId"] is String)
        // Replay of the reply's key.
        let before = head(server)
        let replay = try await client.result("carrier.inbound", [
            "from": "+15557000001", "to": supportNumber, "text": "Thanks", "carrierReference": "SM-1", "idempotencyKey": "SM-1",
        ])
        #expect(replay["replayed"] as? Bool == true)
        #expect(replay["messageId"] as? String == reply["messageId"] as? String)
        #expect(head(server) == before)
        try await expectRefused(client, server, "carrier.inbound", ["from": "abc", "to": supportNumber, "text": "x"], code: -32001, type: "InvalidNumber")
        try await expectRefused(client, server, "carrier.inbound", ["to": supportNumber], code: -32602, type: "MissingParam", field: "from")
        try await server.stop()
    }

    @Test("carrier.status: delivered then a late sent stays delivered (reported: sent)")
    func carrierStatus() async throws {
        let (server, client) = try await start()
        try await client.result("agent.login", ["agentId": "alice", "state": "Ready"])
        let sent = try await client.result("sms.send", ["agentId": "alice", "serviceId": "support", "customerNumber": "+15557000001", "text": "Hi"])
        let messageId = try #require(sent["messageId"] as? String)
        let conversationId = try #require(sent["conversationId"] as? String)
        let delivered = try await client.result("carrier.status", ["messageId": messageId, "carrierReference": "SM-9", "status": "delivered"])
        expectCommand(delivered, server, types: ["DeliveryReported"])
        #expect(delivered["messageId"] as? String == messageId)
        #expect(delivered["status"] as? String == "delivered")
        let late = try await client.result("carrier.status", ["carrierReference": "SM-9", "status": "sent"])
        expectCommand(late, server, types: ["DeliveryReported"])
        #expect(late["messageId"] as? String == messageId, "found by carrier reference")
        #expect(late["status"] as? String == "delivered", "the effective status never moves backwards")
        #expect(late["reported"] as? String == "sent")
        let messages = try await client.result("conversation.get", ["conversationId": conversationId])["messages"] as? [[String: Any]]
        #expect(messages?.first?["status"] as? String == "delivered")
        try await expectRefused(client, server, "carrier.status", ["messageId": "m-999", "status": "sent"], code: -32001, type: "UnknownMessage")
        try await expectRefused(client, server, "carrier.status", ["status": "sent"], code: -32602, type: "MissingParam", field: "messageId")
        try await expectRefused(client, server, "carrier.status", ["messageId": messageId, "status": "lost"], code: -32001, type: "InvalidArgument", field: "status")
        try await server.stop()
    }

    // MARK: Chats

    @Test("chat.accept: bob takes a chat request; alice is then refused ChatAlreadyAccepted")
    func chatAccept() async throws {
        let (server, client) = try await start()
        let request = try await client.result("carrier.inbound", ["from": "+15557000001", "to": supportNumber, "text": "Need help"])
        let conversationId = try #require(request["conversationId"] as? String)
        try await expectRefused(client, server, "chat.accept", ["agentId": "bob", "conversationId": conversationId], code: -32001, type: "AgentLoggedOut")
        try await client.result("agent.login", ["agentId": "bob", "state": "Ready"])
        try await client.result("agent.login", ["agentId": "alice", "state": "Ready"])
        let accepted = try await client.result("chat.accept", ["agentId": "bob", "conversationId": conversationId])
        expectCommand(accepted, server, types: ["ChatAccepted"])
        #expect(accepted["conversationId"] as? String == conversationId)
        let conversation = try await client.result("conversation.get", ["conversationId": conversationId])["conversation"] as? [String: Any]
        #expect(conversation?["agentId"] as? String == "bob")
        #expect(conversation?["status"] as? String == "open")
        try await expectRefused(
            client, server, "chat.accept", ["agentId": "alice", "conversationId": conversationId], code: -32001, type: "ChatAlreadyAccepted"
        )
        try await expectRefused(client, server, "chat.accept", ["agentId": "bob", "conversationId": "c-999"], code: -32001, type: "UnknownConversation")
        try await server.stop()
    }

    @Test("chat.end: the owner ends the chat; the conversation is then closed to sends")
    func chatEnd() async throws {
        let (server, client) = try await start()
        try await client.result("agent.login", ["agentId": "alice", "state": "Ready"])
        try await client.result("agent.login", ["agentId": "bob", "state": "Ready"])
        let sent = try await client.result("sms.send", ["agentId": "alice", "serviceId": "support", "customerNumber": "+15557000001", "text": "Hi"])
        let conversationId = try #require(sent["conversationId"] as? String)
        try await expectRefused(
            client, server, "chat.end", ["agentId": "bob", "conversationId": conversationId], code: -32001, type: "ConversationOwnedByAnotherAgent"
        )
        let ended = try await client.result("chat.end", ["agentId": "alice", "conversationId": conversationId])
        expectCommand(ended, server, types: ["ChatEnded"])
        #expect(ended["conversationId"] as? String == conversationId)
        let conversation = try await client.result("conversation.get", ["conversationId": conversationId])["conversation"] as? [String: Any]
        #expect(conversation?["status"] as? String == "ended")
        try await expectRefused(client, server, "chat.end", ["agentId": "alice", "conversationId": conversationId], code: -32001, type: "ConversationEnded")
        try await expectRefused(
            client, server, "sms.send", ["agentId": "alice", "conversationId": conversationId, "text": "more"], code: -32001, type: "ConversationEnded"
        )
        let pending = try await client.result("carrier.inbound", ["from": "+15557000002", "to": supportNumber, "text": "Need help"])
        try await expectRefused(
            client, server, "chat.end", ["agentId": "alice", "conversationId": pending["conversationId"] as? String ?? ""], code: -32001,
            type: "ChatNotAccepted"
        )
        try await server.stop()
    }

    // MARK: Reading

    @Test("conversation.get: the transcript in order with sequences and next, paged")
    func conversationGet() async throws {
        let (server, client) = try await start()
        try await client.result("agent.login", ["agentId": "alice", "state": "Ready"])
        let first = try await client.result("sms.send", ["agentId": "alice", "serviceId": "support", "customerNumber": "+15557000001", "text": "one"])
        let conversationId = try #require(first["conversationId"] as? String)
        try await client.result("carrier.inbound", ["from": "+15557000001", "to": supportNumber, "text": "two"])
        try await client.result("sms.send", ["agentId": "alice", "conversationId": conversationId, "text": "three"])
        try await client.result("carrier.inbound", ["from": "+15557000001", "to": supportNumber, "text": "four"])
        let all = try await client.result("conversation.get", ["conversationId": conversationId])
        expectAsOf(all, server)
        let messages = all["messages"] as? [[String: Any]] ?? []
        #expect(messages.compactMap { $0["text"] as? String } == ["one", "two", "three", "four"])
        #expect(messages.compactMap { $0["direction"] as? String } == ["outbound", "inbound", "outbound", "inbound"])
        let sequences = messages.compactMap { $0["sequence"] as? Int }
        #expect(sequences.count == 4)
        #expect(sequences == Array((sequences.first ?? 0)..<((sequences.first ?? 0) + 4)), "consecutive sequences: \(sequences)")
        #expect(all["next"] as? Int == sequences.last)
        let positions = messages.compactMap { $0["position"] as? Int }
        #expect(positions == positions.sorted() && Set(positions).count == 4, "log order")
        #expect(messages[1]["inReplyTo"] as? String == first["messageId"] as? String, "a reply is linked to the outbound it answers")
        // Paging: two at a time.
        let page1 = try await client.result("conversation.get", ["conversationId": conversationId, "limit": 2])
        let page1Texts = (page1["messages"] as? [[String: Any]] ?? []).compactMap { $0["text"] as? String }
        #expect(page1Texts == ["one", "two"])
        let page2 = try await client.result("conversation.get", ["conversationId": conversationId, "limit": 2, "after": page1["next"] as? Int ?? -1])
        #expect((page2["messages"] as? [[String: Any]] ?? []).compactMap { $0["text"] as? String } == ["three", "four"])
        let page3 = try await client.result("conversation.get", ["conversationId": conversationId, "limit": 2, "after": page2["next"] as? Int ?? -1])
        #expect((page3["messages"] as? [Any])?.isEmpty == true)
        #expect(page3["next"] as? Int == page2["next"] as? Int, "an empty page keeps next")
        #expect((all["conversation"] as? [String: Any])?["messageCount"] as? Int == 4)
        try await expectRefused(client, server, "conversation.get", ["conversationId": "c-999"], code: -32001, type: "UnknownConversation")
        try await expectRefused(client, server, "conversation.get", ["conversationId": conversationId, "limit": 0], code: -32001, type: "InvalidArgument", field: "limit")
        try await server.stop()
    }

    @Test("recent.get: DID SMS are Recent items, unread while logged out")
    func recentGet() async throws {
        let (server, client) = try await start()
        let empty = try await client.result("recent.get", ["agentId": "alice"])
        expectAsOf(empty, server)
        #expect(empty["unread"] as? Int == 0)
        #expect((empty["items"] as? [Any])?.isEmpty == true)
        let first = try await client.result("carrier.inbound", ["from": "+15557000001", "to": aliceDid, "text": "first"])
        let second = try await client.result("carrier.inbound", ["from": "+15557000002", "to": aliceDid, "text": "second"])
        let recent = try await client.result("recent.get", ["agentId": "alice"])
        expectAsOf(recent, server)
        #expect(recent["agentId"] as? String == "alice")
        #expect(recent["unread"] as? Int == 2)
        #expect(recent["readHorizon"] as? Int == 0)
        let items = recent["items"] as? [[String: Any]] ?? []
        #expect(items.compactMap { ($0["message"] as? [String: Any])?["text"] as? String } == ["second", "first"], "newest first")
        #expect(items.compactMap { $0["position"] as? Int } == [second["position"] as? Int, first["position"] as? Int].compactMap { $0 })
        #expect(items.allSatisfy { $0["unread"] as? Bool == true })
        let limited = try await client.result("recent.get", ["agentId": "alice", "limit": 1])
        #expect((limited["items"] as? [[String: Any]])?.count == 1)
        #expect(limited["unread"] as? Int == 2)
        #expect(try await client.result("recent.get", ["agentId": "bob"])["unread"] as? Int == 0)
        try await expectRefused(client, server, "recent.get", ["agentId": "zed"], code: -32001, type: "UnknownAgent")
        try await server.stop()
    }

    @Test("recent.markRead: marks read up to a position; later items stay unread")
    func recentMarkRead() async throws {
        let (server, client) = try await start()
        let first = try await client.result("carrier.inbound", ["from": "+15557000001", "to": aliceDid, "text": "first"])
        try await client.result("carrier.inbound", ["from": "+15557000002", "to": aliceDid, "text": "second"])
        let upTo = try #require(first["position"] as? Int)
        let marked = try await client.result("recent.markRead", ["agentId": "alice", "upTo": upTo])
        expectCommand(marked, server, types: ["RecentRead"])
        let recent = try await client.result("recent.get", ["agentId": "alice"])
        #expect(recent["unread"] as? Int == 1)
        #expect(recent["readHorizon"] as? Int == upTo)
        let items = recent["items"] as? [[String: Any]] ?? []
        #expect(items.compactMap { $0["unread"] as? Bool } == [true, false])
        // Marking at or below the horizon changes nothing.
        expectCommand(try await client.result("recent.markRead", ["agentId": "alice", "upTo": upTo]), server, types: [])
        expectCommand(try await client.result("recent.markRead", ["agentId": "alice", "upTo": head(server)]), server, types: ["RecentRead"])
        #expect(try await client.result("recent.get", ["agentId": "alice"])["unread"] as? Int == 0)
        try await expectRefused(
            client, server, "recent.markRead", ["agentId": "alice", "upTo": head(server) + 5], code: -32001, type: "PositionOutOfRange"
        )
        try await expectRefused(client, server, "recent.markRead", ["agentId": "alice", "upTo": -1], code: -32001, type: "InvalidArgument", field: "upTo")
        try await expectRefused(client, server, "recent.markRead", ["agentId": "alice"], code: -32602, type: "MissingParam", field: "upTo")
        try await server.stop()
    }

    @Test("log.read: pages with after/limit/next; each event carries a hash chained to the previous")
    func logRead() async throws {
        let (server, client) = try await start()
        try await client.result("agent.login", ["agentId": "alice", "state": "Ready"])
        try await client.result("carrier.inbound", ["from": "+15557000001", "to": aliceDid, "text": "x"])
        let total = head(server)
        var events: [[String: Any]] = []
        var after = 0
        while true {
            let page = try await client.result("log.read", ["after": after, "limit": 3])
            #expect(page["asOf"] as? Int == total)
            let batch = page["events"] as? [[String: Any]] ?? []
            #expect(batch.count <= 3)
            #expect(page["next"] as? Int == (batch.last?["position"] as? Int ?? after))
            if batch.isEmpty { break }
            events += batch
            after = try #require(page["next"] as? Int)
        }
        #expect(events.compactMap { $0["position"] as? Int } == Array(1...total))
        #expect(events.first?["prevHash"] as? String == String(repeating: "0", count: 64))
        for (index, event) in events.enumerated() {
            let hash = event["hash"] as? String ?? ""
            #expect(hash.count == 64 && hash.allSatisfy(\.isHexDigit), "hash of \(index + 1)")
            if index > 0 { #expect(event["prevHash"] as? String == events[index - 1]["hash"] as? String, "chain at \(index + 1)") }
            #expect(event["type"] is String && event["stream"] is String && event["actor"] is [String: Any])
        }
        #expect(events.last?["type"] as? String == "InboundReceived")
        #expect((events.last?["actor"] as? [String: Any])?["role"] as? String == "admin")
        // Defaults: after 0, limit 100.
        #expect((try await client.result("log.read")["events"] as? [Any])?.count == total)
        try await expectRefused(client, server, "log.read", ["limit": 0], code: -32001, type: "InvalidArgument", field: "limit")
        try await expectRefused(client, server, "log.read", ["limit": 1001], code: -32001, type: "InvalidArgument", field: "limit")
        try await expectRefused(client, server, "log.read", ["after": "1"], code: -32602, type: "WrongType", field: "after")
        try await server.stop()
    }

    @Test("log.head: the position and hash of the last event")
    func logHead() async throws {
        let (server, client) = try await start()
        let first = try await client.result("log.head")
        #expect(first["position"] as? Int == demoHead)
        #expect(first["asOf"] as? Int == demoHead)
        try await client.result("agent.login", ["agentId": "bob"])
        let headAnswer = try await client.result("log.head")
        #expect(headAnswer["position"] as? Int == head(server))
        #expect(headAnswer["hash"] as? String == server.engine.head.hash.hex)
        #expect(headAnswer["hash"] as? String != first["hash"] as? String)
        let events = try await client.result("log.read", ["after": head(server) - 1])["events"] as? [[String: Any]]
        #expect(events?.count == 1)
        #expect(events?.last?["hash"] as? String == headAnswer["hash"] as? String)
        try await expectRefused(client, server, "log.head", ["x": 1], code: -32602, type: "UnknownParam", field: "x")
        try await server.stop()
    }

    // MARK: Subscriptions

    @Test("events.subscribe: the answer, the backlog in order, caughtUp, then live events")
    func eventsSubscribe() async throws {
        let (server, client) = try await start()
        let answer = try await client.call("events.subscribe", ["after": 0])
        #expect(client.notifications.isEmpty, "nothing of the subscription precedes its answer")
        let result = try #require(answer["result"] as? [String: Any])
        #expect(result["subscription"] as? String == "s1")
        #expect(result["after"] as? Int == 0)
        #expect(result["asOf"] as? Int == demoHead)
        var positions: [Int] = []
        while positions.count < demoHead {
            let line = try await client.readObject()
            #expect(line["method"] as? String == "events.event", "\(line)")
            let params = line["params"] as? [String: Any]
            #expect(params?["subscription"] as? String == "s1")
            #expect((params?["event"] as? [String: Any])?["hash"] == nil, "events carry no chain fields")
            positions.append(params?["position"] as? Int ?? -1)
        }
        #expect(positions == Array(1...demoHead))
        let caughtUp = try await client.readObject()
        #expect(caughtUp["method"] as? String == "events.caughtUp")
        #expect((caughtUp["params"] as? [String: Any])?["position"] as? Int == demoHead)
        // Live: a command on the same connection.
        try await client.result("agent.login", ["agentId": "alice"])
        let live = try #require(try await client.next("events.event"))
        let params = live["params"] as? [String: Any]
        #expect(params?["position"] as? Int == demoHead + 1)
        #expect((params?["event"] as? [String: Any])?["type"] as? String == "AgentLoggedIn")
        // A filtered subscription from the head with a type filter.
        let filtered = try await client.result("events.subscribe", ["filter": ["types": ["AgentLoggedOut"]]])
        #expect(filtered["subscription"] as? String == "s2")
        #expect(filtered["after"] as? Int == head(server))
        try await expectRefused(client, server, "events.subscribe", ["after": head(server) + 1], code: -32001, type: "PositionOutOfRange")
        try await expectRefused(
            client, server, "events.subscribe", ["filter": ["types": ["NoSuchEvent"]]], code: -32001, type: "InvalidArgument", field: "filter.types"
        )
        try await expectRefused(client, server, "events.subscribe", ["filter": ["mood": 1]], code: -32602, type: "UnknownParam", field: "filter.mood")
        try await server.stop()
    }

    @Test("events.unsubscribe: events.end {unsubscribed} first, then the answer with resumeAfter")
    func eventsUnsubscribe() async throws {
        let (server, client) = try await start()
        let subscribed = try await client.result("events.subscribe", ["after": 3])
        let id = try #require(subscribed["subscription"] as? String)
        let caughtUp = try #require(try await client.next("events.caughtUp"))
        #expect((caughtUp["params"] as? [String: Any])?["position"] as? Int == demoHead)
        client.notifications.removeAll()
        let answer = try await client.call("events.unsubscribe", ["subscription": id])
        let result = try #require(answer["result"] as? [String: Any])
        #expect(result["subscription"] as? String == id)
        #expect(result["resumeAfter"] as? Int == demoHead)
        // events.end was sent before the answer, so it is among the stashed notifications.
        let end = try #require(client.notifications.first { $0["method"] as? String == "events.end" }, "events.end precedes the answer")
        let params = end["params"] as? [String: Any]
        #expect(params?["reason"] as? String == "unsubscribed")
        #expect(params?["subscription"] as? String == id)
        #expect(params?["resumeAfter"] as? Int == demoHead)
        // Nothing of it follows: a command appends, and only its answer comes back.
        client.notifications.removeAll()
        try await client.result("agent.login", ["agentId": "alice"])
        try await client.result("log.head")
        #expect(client.notifications.isEmpty, "no notification after unsubscribing: \(client.notifications)")
        try await expectRefused(client, server, "events.unsubscribe", ["subscription": id], code: -32008, type: "UnknownSubscription", field: "subscription")
        try await expectRefused(client, server, "events.unsubscribe", [:], code: -32602, type: "MissingParam", field: "subscription")
        try await server.stop()
    }

    // MARK: Outcomes of joins and no-ops

    @Test("carrier.inbound joining an open DID conversation answers did; joining a waiting chat request answers chatRequest")
    func inboundJoinOutcome() async throws {
        let (server, client) = try await start()
        try await client.result("carrier.inbound", ["from": "+15557000001", "to": aliceDid, "text": "one"])
        let joinDid = try await client.result("carrier.inbound", ["from": "+15557000001", "to": aliceDid, "text": "two"])
        expectCommand(joinDid, server, types: ["InboundReceived"])
        try await client.result("carrier.inbound", ["from": "+15557000002", "to": supportNumber, "text": "one"])
        let joinPending = try await client.result("carrier.inbound", ["from": "+15557000002", "to": supportNumber, "text": "two"])
        expectCommand(joinPending, server, types: ["InboundReceived"])
        #expect(joinDid["outcome"] as? String == "did")
        #expect(joinPending["outcome"] as? String == "chatRequest")
        try await server.stop()
    }

    @Test("agent.* that change nothing still answer with the agent's state")
    func noOpAgentCommandReportsState() async throws {
        let (server, client) = try await start()
        try await client.result("agent.login", ["agentId": "alice", "state": "Ready"])
        let again = try await client.result("agent.login", ["agentId": "alice", "state": "NotReady"])
        expectCommand(again, server, types: [])
        #expect(again["state"] as? String == "Ready", "a repeated login changes nothing and says so: \(again)")
        try await server.stop()
    }
}
