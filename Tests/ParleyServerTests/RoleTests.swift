import Foundation
import ParleyCore
import ParleyProtocol
import ParleyServer
import Testing

/// Every method × every role: allowed roles are served, every other combination is
/// `PermissionDenied` (-32003) and appends nothing.
@Suite("Roles", .serialized)
struct RoleTests {
    /// The roles a peer can hold over the socket (`system` is never granted to a peer).
    static let peerRoles: [(name: String, roles: [Role])] = [
        ("admin", [.admin]), ("frontend", [.frontend]), ("carrier", [.carrier]), ("auditor", [.auditor]), ("no role", []),
    ]

    /// The role table as the protocol guide (`schemas/protocol/README.md`, "Roles") states it,
    /// written out independently of `Method.roles`.
    static func documented(_ method: ParleyProtocol.Method, _ roles: [Role]) -> Bool {
        let open: Set<String> = ["session.hello", "server.info", "rpc.discover"]
        let anyRole: Set<String> = ["directory.list", "sms.count", "events.subscribe", "events.unsubscribe"]
        let frontend: Set<String> = [
            "agent.login", "agent.logout", "agent.setState", "agent.view", "sms.send", "chat.accept", "chat.end", "recent.get",
            "recent.markRead", "templates.list", "conversation.get",
        ]
        let carrier: Set<String> = ["carrier.inbound", "carrier.status", "carrier.submit", "carrier.pending"]
        let auditor: Set<String> = ["agent.view", "templates.list", "conversation.get", "recent.get", "log.read", "log.head"]
        let name = method.rawValue
        if open.contains(name) { return true }
        if roles.isEmpty { return false }
        if anyRole.contains(name) { return true }
        return roles.contains { role in
            switch role {
            case .admin, .system: true
            case .frontend: frontend.contains(name)
            case .carrier: carrier.contains(name)
            case .auditor: auditor.contains(name)
            }
        }
    }

    /// Builds fresh, valid params for each method, preparing what it needs through an admin session.
    final class Fixture: @unchecked Sendable {
        let server: TestServer
        let admin: InProcessClient
        private var counter = 0
        private var requestId = 1000

        init(server: TestServer) {
            self.server = server
            admin = server.session(roles: [.admin], uid: 0)
        }

        func unique() -> Int {
            counter += 1
            return counter
        }

        /// Sends a request on `client` and returns the parsed answer.
        func call(_ client: InProcessClient, _ method: String, _ params: [String: Any]) async throws -> [String: Any] {
            requestId += 1
            let line = jsonLine(["jsonrpc": "2.0", "id": requestId, "method": method, "params": params])
            let answer = try #require(await client.exchange(line), "no answer to \(method)")
            let object = try #require(try JSONSerialization.jsonObject(with: Data(answer.utf8)) as? [String: Any])
            #expect(object["id"] as? Int == requestId, "answer id: \(answer)")
            return object
        }

        /// An admin call that must succeed.
        @discardableResult
        func setup(_ method: String, _ params: [String: Any]) async throws -> [String: Any] {
            let answer = try await call(admin, method, params)
            return try #require(answer["result"] as? [String: Any], "setup \(method) failed: \(answer)")
        }

        func customer(_ n: Int) -> String { "+1555800" + String(format: "%04d", n) }

        /// A new agent serving support, logged in Ready.
        func readyAgent() async throws -> String {
            let id = "ag-\(unique())"
            try await setup("directory.putAgent", ["agentId": id, "displayName": id, "services": ["support"]])
            try await setup("agent.login", ["agentId": id, "state": "Ready"])
            return id
        }

        /// Valid params for `method` (so an allowed role succeeds), given the session that will call it.
        func params(for method: ParleyProtocol.Method, caller: InProcessClient, callerRoles: [Role]) async throws -> [String: Any] {
            let n = unique()
            switch method {
            case .sessionHello: return ["protocol": "parley", "versions": [1]]
            case .serverInfo, .rpcDiscover, .directoryList, .logHead: return [:]
            case .directoryPutAgent: return ["agentId": "pa-\(n)", "displayName": "Agent \(n)", "services": ["support"]]
            case .directoryPutService: return ["serviceId": "ps-\(n)", "name": "Service \(n)"]
            case .directoryPutTemplate: return ["templateId": "pt-\(n)", "title": "T\(n)", "text": "Text \(n)"]
            case .directoryPutSettings: return ["maxSegments": 10 + n % 5, "idempotencyKey": "settings-\(n)"]
            case .directoryPutOptOut: return ["serviceId": "support", "helpText": "Support: reply STOP to opt out. \(n)"]
            case .agentLogin:
                let id = "ag-\(n)"
                try await setup("directory.putAgent", ["agentId": id, "displayName": id, "services": ["support"]])
                return ["agentId": id, "state": "Ready"]
            case .agentLogout: return ["agentId": try await readyAgent()]
            case .agentSetState: return ["agentId": try await readyAgent(), "state": "NotReady"]
            case .agentView, .recentGet: return ["agentId": "alice"]
            case .smsCount: return ["text": "hello \(n)"]
            case .smsSend:
                return ["agentId": try await readyAgent(), "serviceId": "support", "customerNumber": customer(n), "text": "hi \(n)"]
            case .templatesList: return ["serviceId": "support"]
            case .carrierInbound: return ["from": customer(n), "to": "+15550100100", "text": "help \(n)"]
            case .carrierStatus:
                let agent = try await readyAgent()
                let sent = try await setup("sms.send", ["agentId": agent, "serviceId": "support", "customerNumber": customer(n), "text": "x"])
                return ["messageId": sent["messageId"] as? String ?? "", "status": "delivered"]
            case .carrierSubmit:
                let agent = try await readyAgent()
                let sent = try await setup("sms.send", ["agentId": agent, "serviceId": "support", "customerNumber": customer(n), "text": "x"])
                return ["messageId": sent["messageId"] as? String ?? "", "connector": "roles"]
            case .carrierPending: return ["limit": 5]
            case .chatAccept:
                let inbound = try await setup("carrier.inbound", ["from": customer(n), "to": "+15550100100", "text": "need help"])
                return ["agentId": try await readyAgent(), "conversationId": inbound["conversationId"] as? String ?? ""]
            case .chatEnd:
                let agent = try await readyAgent()
                let sent = try await setup("sms.send", ["agentId": agent, "serviceId": "support", "customerNumber": customer(n), "text": "x"])
                return ["agentId": agent, "conversationId": sent["conversationId"] as? String ?? ""]
            case .conversationGet:
                let inbound = try await setup("carrier.inbound", ["from": customer(n), "to": "+15550100100", "text": "need help"])
                return ["conversationId": inbound["conversationId"] as? String ?? ""]
            case .recentMarkRead:
                let agent = try await readyAgent()
                return ["agentId": agent, "upTo": Int(server.engine.head.position)]
            case .logRead: return ["after": 0, "limit": 2]
            case .eventsSubscribe: return [:]
            case .eventsUnsubscribe:
                // An allowed caller unsubscribes a subscription of its own session.
                guard ParleyProtocol.Method.eventsSubscribe.allows(callerRoles) else { return ["subscription": "s1"] }
                let answer = try await call(caller, "events.subscribe", [:])
                let id = try #require((answer["result"] as? [String: Any])?["subscription"] as? String, "subscribe: \(answer)")
                return ["subscription": id]
            }
        }
    }

    @Test("Method.roles matches the documented role table")
    func methodRolesMatchTheGuide() {
        #expect(ParleyProtocol.Method.allCases.count == 29)
        for method in ParleyProtocol.Method.allCases {
            for (name, roles) in Self.peerRoles {
                #expect(method.allows(roles) == Self.documented(method, roles), "\(method.rawValue) for \(name)")
            }
            #expect(!method.isCommand || !method.roles.contains(.auditor), "an auditor never appends: \(method.rawValue)")
            #expect(method.roles.contains(.admin), "admin may call \(method.rawValue)")
        }
    }

    @Test("every method × role: allowed roles are served, the others get PermissionDenied and append nothing")
    func everyMethodForEveryRole() async throws {
        let server = try await TestServer()
        let fixture = Fixture(server: server)
        var denied = 0
        var served = 0
        for (name, roles) in Self.peerRoles {
            let session = server.session(roles: roles, uid: 5000)
            for method in ParleyProtocol.Method.allCases {
                let params = try await fixture.params(for: method, caller: session, callerRoles: roles)
                let before = server.engine.head
                let answer = try await fixture.call(session, method.rawValue, params)
                let error = answer["error"] as? [String: Any]
                let type = (error?["data"] as? [String: Any])?["type"] as? String
                let label = "\(method.rawValue) as \(name)"
                if Self.documented(method, roles) {
                    #expect(type != "PermissionDenied", "\(label) must be allowed: \(answer)")
                    #expect(answer["result"] is [String: Any], "\(label) with valid params must succeed: \(answer)")
                    if method.isCommand, answer["result"] != nil {
                        #expect(server.engine.head.position > before.position, "\(label) appended")
                    }
                    served += 1
                } else {
                    #expect(error?["code"] as? Int == -32003, "\(label): \(answer)")
                    #expect(type == "PermissionDenied", "\(label): \(answer)")
                    #expect(answer["result"] == nil)
                    #expect(server.engine.head == before, "\(label) was refused but the log moved")
                    let message = error?["message"] as? String ?? ""
                    #expect(message.contains(method.rawValue), "the message names the method: \(message)")
                    denied += 1
                }
            }
        }
        // 29 methods × 5 peers; the counts pin the table.
        #expect(served + denied == 145)
        // admin 29, frontend 3 + 4 + 11, carrier 3 + 4 + 4, auditor 3 + 4 + 6, no role 3.
        #expect(served == 29 + 18 + 11 + 13 + 3, "served \(served)")
        try await server.stop()
    }

    @Test("a refused command is refused before its params are read")
    func permissionComesFirst() async throws {
        let server = try await TestServer()
        let fixture = Fixture(server: server)
        let auditor = server.session(roles: [.auditor])
        let before = server.engine.head
        // Invalid params: permission is still the answer, nothing appended.
        let answer = try await fixture.call(auditor, "sms.send", ["agentId": 5, "bogus": true])
        #expect(((answer["error"] as? [String: Any])?["data"] as? [String: Any])?["type"] as? String == "PermissionDenied")
        let nobody = server.session(roles: [])
        let refused = try await fixture.call(nobody, "directory.list", [:])
        #expect((refused["error"] as? [String: Any])?["code"] as? Int == -32003)
        let message = (refused["error"] as? [String: Any])?["message"] as? String ?? ""
        #expect(message.contains("no role"), "\(message)")
        #expect(server.engine.head == before)
        try await server.stop()
    }

    @Test("events record the actor: the session's uid and its first role that allows the method")
    func actorIsRecorded() async throws {
        let server = try await TestServer()
        let fixture = Fixture(server: server)
        let frontend = server.session(roles: [.frontend], uid: 4242)
        var before = server.engine.head.position
        let login = try await fixture.call(frontend, "agent.login", ["agentId": "alice", "state": "Ready"])
        #expect(login["result"] != nil, "\(login)")
        let sent = try await fixture.call(
            frontend, "sms.send", ["agentId": "alice", "serviceId": "support", "customerNumber": "+15557000001", "text": "hi"]
        )
        #expect(sent["result"] != nil, "\(sent)")
        var events = try server.engine.log.read(after: before, limit: 10)
        #expect(events.map { $0.recorded.type.name } == ["AgentLoggedIn", "ConversationOpened", "MessageSent"])
        for event in events {
            #expect(event.recorded.actor == Actor(uid: 4242, role: .frontend), "\(event.recorded.type.name): \(event.recorded.actor)")
        }
        // A peer holding frontend and carrier acts as carrier for carrier methods, frontend for agent methods.
        let both = server.session(roles: [.frontend, .carrier], uid: 777)
        before = server.engine.head.position
        let inbound = try await fixture.call(both, "carrier.inbound", ["from": "+15557000001", "to": "+15550100100", "text": "ok"])
        #expect(inbound["result"] != nil, "\(inbound)")
        let logout = try await fixture.call(both, "agent.logout", ["agentId": "alice"])
        #expect(logout["result"] != nil, "\(logout)")
        events = try server.engine.log.read(after: before, limit: 10)
        #expect(events.map(\.recorded.actor) == [Actor(uid: 777, role: .carrier), Actor(uid: 777, role: .frontend)])
        // Admin and frontend: admin comes first in the grant order, so admin is recorded.
        let adminFrontend = server.session(roles: [.admin, .frontend], uid: 1)
        before = server.engine.head.position
        let again = try await fixture.call(adminFrontend, "agent.login", ["agentId": "bob"])
        #expect(again["result"] != nil, "\(again)")
        events = try server.engine.log.read(after: before, limit: 10)
        #expect(events.map(\.recorded.actor) == [Actor(uid: 1, role: .admin)])
        // The socket log shows the same actor.
        let logged = try await fixture.call(fixture.admin, "log.read", ["after": before])
        let actor = (((logged["result"] as? [String: Any])?["events"] as? [[String: Any]])?.first?["actor"] as? [String: Any])
        #expect(actor?["role"] as? String == "admin")
        #expect(actor?["uid"] as? Int == 1)
        try await server.stop()
    }
}
