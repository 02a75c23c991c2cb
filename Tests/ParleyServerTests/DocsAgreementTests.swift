import Foundation
import ParleyCore
import ParleyProtocol
import ParleyServer
import Testing

// Issue 10, "Where the docs and the daemon disagree": each test asks the daemon over its socket
// and holds its answer to what `schemas/protocol/` says (the method files, errors.json, README.md).

private let repositoryRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// A method file of `schemas/protocol/methods/`, parsed.
private func methodSchema(_ method: String) throws -> [String: Any] {
    let url = repositoryRoot.appendingPathComponent("schemas/protocol/methods/\(method).json")
    return try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
}

/// The result must have every member the method's result schema requires and none it does not describe.
private func expectResultMatchesSchema(
    _ method: String, _ result: [String: Any], sourceLocation: SourceLocation = #_sourceLocation
) throws {
    let schema = try #require(try methodSchema(method)["result"] as? [String: Any], sourceLocation: sourceLocation)
    let properties = Set((schema["properties"] as? [String: Any] ?? [:]).keys)
    let required = Set(schema["required"] as? [String] ?? [])
    #expect(
        required.isSubset(of: Set(result.keys)), "\(method) lacks \(required.subtracting(result.keys)): \(result)",
        sourceLocation: sourceLocation)
    #expect(
        Set(result.keys).isSubset(of: properties),
        "\(method) answers undocumented \(Set(result.keys).subtracting(properties))", sourceLocation: sourceLocation)
}

/// A request that must be refused with `type` naming `field`.
private struct RefusalCase: Sendable, CustomTestStringConvertible {
    let method: String
    let params: SendableBox<[String: Any]>
    let type: String
    let field: String
    var code: Int { type.hasPrefix("Missing") || type == "WrongType" || type == "UnknownParam" ? -32602 : -32001 }
    var testDescription: String { "\(method) \(jsonLine(params.value)) → \(type) \(field)" }

    init(_ method: String, _ params: [String: Any], _ type: String, _ field: String) {
        self.method = method
        self.params = SendableBox(params)
        self.type = type
        self.field = field
    }
}

private var call: [String: Any] { ["callId": "k1", "serviceId": "support", "customerNumber": "+15557000111"] }

@Suite("Docs and daemon agree")
struct DocsAgreementTests {
    // MARK: 1. agent.* always answer the agent's resulting state

    @Test("agent.login/logout/setState answer state always: the state set, or the kept state when nothing changed")
    func agentCommandsAlwaysAnswerState() async throws {
        let server = try await TestServer()
        let client = try await server.connect()
        func expectState(
            _ method: String, _ params: [String: Any], _ state: String, events: Int, replayed: Bool = false
        ) async throws {
            let result = try await client.result(method, params)
            #expect(result["state"] as? String == state, "\(method) \(params): \(result)")
            #expect((result["events"] as? [Any])?.count == events, "\(method) \(params): \(result)")
            #expect(result["replayed"] as? Bool == replayed)
            #expect(result["position"] as? Int == Int(server.engine.head.position) || replayed)
            try expectResultMatchesSchema(method, result)
        }
        try await expectState(
            "agent.login", ["agentId": "alice", "state": "Ready", "idempotencyKey": "login-1"], "Ready", events: 1)
        // Already logged in: nothing appended, the state kept (not the one asked for) is answered.
        try await expectState("agent.login", ["agentId": "alice", "state": "NotReady"], "Ready", events: 0)
        try await expectState("agent.setState", ["agentId": "alice", "state": "Ready"], "Ready", events: 0)
        try await expectState("agent.setState", ["agentId": "alice", "state": "Busy", "call": call], "Busy", events: 1)
        // A replay answers the original result, its state included, not today's state.
        try await expectState(
            "agent.login", ["agentId": "alice", "state": "Ready", "idempotencyKey": "login-1"], "Ready", events: 1,
            replayed: true)
        try await expectState("agent.logout", ["agentId": "alice"], "LoggedOut", events: 1)
        try await expectState("agent.logout", ["agentId": "alice"], "LoggedOut", events: 0)
        for method in ["agent.login", "agent.logout", "agent.setState"] {
            let schema = try #require(try methodSchema(method)["result"] as? [String: Any])
            #expect((schema["required"] as? [String])?.contains("state") == true, "\(method): state is always answered")
            let description = try methodSchema(method)["description"] as? String ?? ""
            #expect(!description.contains("no state in the result"), "\(method): \(description)")
        }
        try await server.stop()
    }

    // MARK: 2. conversation.get's next

    @Test("conversation.get answers next: the last sequence returned, else the after passed (0 when omitted)")
    func conversationGetNext() async throws {
        let server = try await TestServer()
        let client = try await server.connect()
        try await client.result("agent.login", ["agentId": "alice", "state": "Ready"])
        let sent = try await client.result(
            "sms.send",
            [
                "agentId": "alice", "serviceId": "support", "customerNumber": "+15557000111", "text": "one",
            ])
        let id = try #require(sent["conversationId"] as? String)
        try await client.result("sms.send", ["agentId": "alice", "conversationId": id, "text": "two"])
        try await client.result("sms.send", ["agentId": "alice", "conversationId": id, "text": "three"])

        func page(_ params: [String: Any]) async throws -> (sequences: [Int], next: Int?) {
            let result = try await client.result(
                "conversation.get", params.merging(["conversationId": id]) { a, _ in a })
            try expectResultMatchesSchema("conversation.get", result)
            let messages = result["messages"] as? [[String: Any]] ?? []
            return (messages.compactMap { $0["sequence"] as? Int }, result["next"] as? Int)
        }
        #expect(try await page([:]) == ([1, 2, 3], 3))
        #expect(try await page(["limit": 2]) == ([1, 2], 2))
        #expect(try await page(["after": 2, "limit": 2]) == ([3], 3))
        #expect(try await page(["after": 3]) == ([], 3))
        #expect(try await page(["after": 10]) == ([], 10))
        // Paging with next until a page is empty visits every message once.
        var seen: [Int] = []
        var after = 0
        while true {
            let (sequences, next) = try await page(["after": after, "limit": 1])
            if sequences.isEmpty { break }
            seen += sequences
            after = try #require(next)
        }
        #expect(seen == [1, 2, 3])
        try await server.stop()
    }

    // MARK: 5. A value outside the method's enum, out of range or negative: InvalidArgument

    fileprivate static let valueCases: [RefusalCase] = [
        .init("agent.login", ["agentId": "alice", "state": "Busy"], "InvalidArgument", "state"),
        .init("agent.login", ["agentId": "alice", "state": "LoggedOut"], "InvalidArgument", "state"),
        .init("agent.login", ["agentId": "alice", "state": "bogus"], "InvalidArgument", "state"),
        .init("agent.setState", ["agentId": "alice", "state": "LoggedOut"], "InvalidArgument", "state"),
        .init("agent.setState", ["agentId": "alice", "state": "bogus"], "InvalidArgument", "state"),
        .init("carrier.status", ["messageId": "m-1", "status": "bogus"], "InvalidArgument", "status"),
        .init("events.subscribe", ["filter": ["types": ["MessageSent", "Bogus"]]], "InvalidArgument", "filter.types"),
        .init("session.hello", ["protocol": "smtp"], "InvalidArgument", "protocol"),
        .init("log.read", ["limit": 0], "InvalidArgument", "limit"),
        .init("log.read", ["limit": 1001], "InvalidArgument", "limit"),
        .init("log.read", ["after": -1], "InvalidArgument", "after"),
        .init("conversation.get", ["conversationId": "c-1", "limit": 10_001], "InvalidArgument", "limit"),
        .init("recent.get", ["agentId": "alice", "limit": 0], "InvalidArgument", "limit"),
        .init("recent.markRead", ["agentId": "alice", "upTo": -1], "InvalidArgument", "upTo"),
        .init("directory.putSettings", ["maxSegments": 256], "InvalidArgument", "maxSegments"),
        .init("events.subscribe", ["after": -1], "InvalidArgument", "after"),
        .init(
            "sms.send",
            [
                "agentId": "alice", "serviceId": "support", "text": "x",
                "attachments": [["name": "a", "contentType": "t", "size": -1, "reference": "r"]],
            ], "InvalidArgument", "attachments[0].size"),
        // The shape stays -32602.
        .init("agent.login", ["agentId": "alice", "state": 1], "WrongType", "state"),
        .init("agent.setState", ["agentId": "alice"], "MissingParam", "state"),
        .init("carrier.status", ["messageId": "m-1", "status": true], "WrongType", "status"),
        .init("log.read", ["limit": 1.5], "WrongType", "limit"),
    ]

    // MARK: 6. A malformed id is InvalidArgument in every method; only a well-formed unknown one is Unknown*

    fileprivate static let idCases: [RefusalCase] = {
        let bad = "bad id!"
        let long = String(repeating: "c", count: 257)
        return [
            .init("agent.login", ["agentId": bad], "InvalidArgument", "agentId"),
            .init("agent.logout", ["agentId": bad], "InvalidArgument", "agentId"),
            .init("agent.setState", ["agentId": bad, "state": "Ready"], "InvalidArgument", "agentId"),
            .init("agent.view", ["agentId": bad], "InvalidArgument", "agentId"),
            .init("agent.view", ["agentId": ""], "InvalidArgument", "agentId"),
            .init("recent.get", ["agentId": bad], "InvalidArgument", "agentId"),
            .init("recent.markRead", ["agentId": bad, "upTo": 1], "InvalidArgument", "agentId"),
            .init("chat.accept", ["agentId": bad, "conversationId": "c-1"], "InvalidArgument", "agentId"),
            .init("chat.end", ["agentId": bad, "conversationId": "c-1"], "InvalidArgument", "agentId"),
            .init("sms.send", ["agentId": bad, "text": "x"], "InvalidArgument", "agentId"),
            .init("directory.putAgent", ["agentId": bad, "displayName": "X"], "InvalidArgument", "agentId"),
            .init("events.subscribe", ["filter": ["agentId": bad]], "InvalidArgument", "filter.agentId"),
            .init("directory.putService", ["serviceId": bad, "name": "X"], "InvalidArgument", "serviceId"),
            .init(
                "directory.putAgent", ["agentId": "x", "displayName": "X", "services": ["support", bad]],
                "InvalidArgument", "services[1]"),
            .init(
                "directory.putTemplate", ["templateId": "t", "title": "T", "text": "x", "services": [bad]],
                "InvalidArgument", "services[0]"),
            .init(
                "directory.putTemplate", ["templateId": bad, "title": "T", "text": "x"], "InvalidArgument", "templateId"
            ),
            .init(
                "sms.send", ["agentId": "alice", "serviceId": bad, "customerNumber": "+15557000111", "text": "x"],
                "InvalidArgument", "serviceId"),
            .init(
                "agent.setState",
                [
                    "agentId": "alice", "state": "Busy",
                    "call": ["callId": "k", "serviceId": bad, "customerNumber": "+15557000111"],
                ], "InvalidArgument", "call.serviceId"),
            .init("templates.list", ["serviceId": bad], "InvalidArgument", "serviceId"),
            .init("conversation.get", ["conversationId": ""], "InvalidArgument", "conversationId"),
            .init("conversation.get", ["conversationId": long], "InvalidArgument", "conversationId"),
            .init("chat.accept", ["agentId": "alice", "conversationId": ""], "InvalidArgument", "conversationId"),
            .init("chat.end", ["agentId": "alice", "conversationId": long], "InvalidArgument", "conversationId"),
            .init(
                "sms.send", ["agentId": "alice", "conversationId": "", "text": "x"], "InvalidArgument", "conversationId"
            ),
            .init("events.subscribe", ["filter": ["conversationId": ""]], "InvalidArgument", "filter.conversationId"),
            .init("carrier.status", ["messageId": "", "status": "sent"], "InvalidArgument", "messageId"),
            .init("carrier.status", ["messageId": long, "status": "sent"], "InvalidArgument", "messageId"),
        ]
    }()

    fileprivate static let unknownCases: [RefusalCase] = [
        .init("agent.login", ["agentId": "zed"], "UnknownAgent", ""),
        .init("agent.view", ["agentId": "zed"], "UnknownAgent", ""),
        .init("recent.get", ["agentId": "zed"], "UnknownAgent", ""),
        .init("chat.end", ["agentId": "zed", "conversationId": "c-1"], "UnknownAgent", ""),
        .init(
            "directory.putAgent", ["agentId": "x", "displayName": "X", "services": ["nowhere"]], "UnknownService", ""),
        .init("conversation.get", ["conversationId": "c-404"], "UnknownConversation", ""),
        .init("chat.end", ["agentId": "alice", "conversationId": "c-404"], "UnknownConversation", ""),
        .init("carrier.status", ["messageId": "m-404", "status": "sent"], "UnknownMessage", ""),
    ]

    @Test(
        "a value outside the method's enum, out of range or negative is InvalidArgument naming it; the shape is -32602")
    func valuesTheMethodDoesNotAccept() async throws { try await Self.expectRefusals(Self.valueCases) }

    @Test("a malformed agent, service, template, conversation or message id is InvalidArgument in every method")
    func malformedIds() async throws { try await Self.expectRefusals(Self.idCases) }

    @Test("a well-formed id that names nothing is UnknownAgent and the like")
    func unknownIds() async throws { try await Self.expectRefusals(Self.unknownCases) }

    /// Sends every case to one daemon (none appends) and checks the answer against the case and the docs.
    fileprivate static func expectRefusals(_ cases: [RefusalCase]) async throws {
        let catalogue = try catalogue()
        let server = try await TestServer()
        let client = try await server.connect()
        for item in cases {
            let head = server.engine.head.position
            let answer = try await client.call(item.method, item.params.value)
            guard let refusal = AnswerError(answer) else {
                Issue.record("\(item.testDescription) must be refused: \(answer)")
                continue
            }
            #expect(refusal.type == item.type, "\(item.testDescription): \(answer)")
            #expect(refusal.code == item.code, "\(item.testDescription): \(answer)")
            #expect(refusal.field == (item.field.isEmpty ? nil : item.field), "\(item.testDescription): \(answer)")
            #expect(server.engine.head.position == head, "a refusal appends nothing: \(item.testDescription)")
            // The method's file lists the error it answered, and errors.json agrees on its code and field.
            let errors = try methodSchema(item.method)["errors"] as? [String] ?? []
            #expect(errors.contains(item.type), "\(item.method) does not list \(item.type)")
            let entry = try #require(catalogue[item.type])
            #expect(entry["code"] as? Int == item.code)
            #expect(
                (entry["methods"] as? [String])?.contains(item.method) == true,
                "errors.json: \(item.type) lacks \(item.method)")
            if !item.field.isEmpty {
                #expect(entry["field"] as? Bool == true, "errors.json: \(item.type) sets data.field")
            }
        }
        try await server.stop()
    }

    /// errors.json's catalogue by data.type.
    static func catalogue() throws -> [String: [String: Any]] {
        let url = repositoryRoot.appendingPathComponent("schemas/protocol/errors.json")
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any]
        let entries = object?["errors"] as? [[String: Any]] ?? []
        return Dictionary(entries.map { ($0["type"] as? String ?? "", $0) }, uniquingKeysWith: { a, _ in a })
    }

    @Test("errors.json: InvalidParam is retired (no method lists it), InvalidArgument and InvalidNumber set data.field")
    func catalogueFollowsTheRule() throws {
        let catalogue = try Self.catalogue()
        let retired = try #require(catalogue["InvalidParam"])
        #expect((retired["methods"] as? [String])?.isEmpty == true)
        for method in ParleyProtocol.Method.allCases.map(\.rawValue) {
            let errors = try methodSchema(method)["errors"] as? [String] ?? []
            #expect(!errors.contains("InvalidParam"), "\(method) still lists InvalidParam")
        }
        #expect(catalogue["InvalidArgument"]?["field"] as? Bool == true)
        #expect(catalogue["InvalidNumber"]?["field"] as? Bool == true)
    }

    @Test("InvalidNumber names the field too")
    func invalidNumberField() async throws {
        let server = try await TestServer()
        let client = try await server.connect()
        let answer = try await client.call("carrier.inbound", ["from": "555-0100", "to": "+15550100100", "text": "x"])
        let refusal = try #require(AnswerError(answer))
        #expect(refusal.type == "InvalidNumber" && refusal.field == "from", "\(answer)")
        try await server.stop()
    }

    // MARK: 7. Which actor the built-in parts write as

    @Test(
        "parleyd --demo writes the directory as system (uid 0); --carrier-sim writes as carrier with the daemon's uid")
    func builtInActors() async throws {
        let dir = try TemporaryDirectory()
        let daemon = try await DaemonProcess(
            directory: dir.path, arguments: ["--carrier-sim", "--sim-delay", "1", "--sim-reply", "ok"])
        let client = try await TestClient.connect(path: daemon.socket)
        let subscriber = try await TestClient.connect(path: daemon.socket)
        try await subscriber.result("events.subscribe", ["after": 0, "filter": ["types": ["InboundReceived"]]])
        try await client.result("agent.login", ["agentId": "alice", "state": "Ready"])
        try await client.result(
            "sms.send", ["agentId": "alice", "serviceId": "support", "customerNumber": "+15557000111", "text": "hi"])
        // The simulator answers sent, delivered, then the reply: once the reply is in, all three are.
        let reply = try #require(try await subscriber.next("events.event"))
        let replyEvent = try #require((reply["params"] as? [String: Any])?["event"] as? [String: Any])
        let position = try #require(replyEvent["position"] as? Int)
        let read = try await client.result("log.read", ["after": 0, "limit": position])
        let events = try #require(read["events"] as? [[String: Any]])
        #expect(events.count == position)
        let daemonUid = Int(getuid())
        for event in events {
            let type = event["type"] as? String ?? "?"
            let actor = event["actor"] as? [String: Any]
            let role = actor?["role"] as? String
            let uid = actor?["uid"] as? Int
            switch type {
            case "ServiceConfigured", "AgentConfigured", "TemplateConfigured", "SettingsConfigured":
                #expect(role == "system" && uid == 0, "the demo directory: \(event)")
            case "AgentLoggedIn", "ConversationOpened", "MessageSent":
                // This test's own commands, as the peer it is (root or the daemon's user: admin).
                #expect(role == "admin" && uid == daemonUid, "a socket peer: \(event)")
            default:
                // Delivery reports and the reply: everything the simulator caused.
                #expect(role == "carrier" && uid == daemonUid, "the carrier simulator: \(event)")
            }
        }
        #expect(events.filter { $0["type"] as? String == "DeliveryReported" }.count == 2)
        #expect(await daemon.stop() == 0)
    }
}
