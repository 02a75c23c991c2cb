import ParleyProtocol
import Testing

@testable import ParleyWeb

@Suite("The gateway's authorisation table")
struct GatewayPolicyTests {
    @Test("every method outside the front-end table is refused, whatever its params", arguments: Method.allCases)
    func onlyFrontEndMethods(method: Method) {
        let result = GatewayPolicy.authorize(method: method.rawValue, params: [:], agentId: "alice")
        if GatewayPolicy.rules[method.rawValue] == nil {
            #expect(throws: GatewayPolicy.Refusal.self) { try result.get() }
            #expect((try? result.get()) == nil)
            if case .failure(let refusal) = result { #expect(refusal.type == "PermissionDenied") }
        } else {
            #expect((try? result.get()) != nil, "\(method.rawValue) is allowed for the agent itself")
        }
    }

    @Test("a method taking agentId acts for the session's agent: set when absent, refused when another")
    func ownAgentOnly() throws {
        for (method, rule) in GatewayPolicy.rules where rule == .ownAgent {
            let filled = try GatewayPolicy.authorize(method: method, params: ["text": "hi"], agentId: "alice").get()
            #expect(filled["agentId"] == "alice", "\(method)")
            #expect(filled["text"] == "hi")
            let same = try GatewayPolicy.authorize(method: method, params: ["agentId": "alice"], agentId: "alice").get()
            #expect(same["agentId"] == "alice")
            for other: JSONValue in ["bob", "ALICE", 7, ["alice"]] {
                guard
                    case .failure(let refusal) = GatewayPolicy.authorize(
                        method: method, params: ["agentId": other], agentId: "alice")
                else {
                    Issue.record("\(method) as \(other) was allowed")
                    continue
                }
                #expect(refusal.type == "PermissionDenied")
                #expect(refusal.field == "agentId")
                #expect(refusal.json["code"] == -32003)
            }
        }
        // Every method of the front-end role that names an agent is in the table as ownAgent.
        #expect(
            Set(GatewayPolicy.rules.filter { $0.value == .ownAgent }.keys) == [
                "agent.login", "agent.logout", "agent.setState", "agent.view", "sms.send", "chat.accept", "chat.end",
                "recent.get",
                "recent.markRead",
            ])
    }

    @Test("a subscription follows the session's agent only")
    func subscriptions() throws {
        let plain = try GatewayPolicy.authorize(method: "events.subscribe", params: ["after": 5], agentId: "alice")
            .get()
        #expect(plain["filter"] == ["agentId": "alice"])
        #expect(plain["after"] == 5)
        let typed = try GatewayPolicy.authorize(
            method: "events.subscribe", params: ["filter": ["types": ["MessageSent"]]], agentId: "alice"
        ).get()
        #expect(typed["filter"] == ["agentId": "alice", "types": ["MessageSent"]])
        for filter: JSONValue in [["agentId": "bob"], ["conversationId": "c-1"], "alice"] {
            #expect(
                (try? GatewayPolicy.authorize(method: "events.subscribe", params: ["filter": filter], agentId: "alice")
                    .get()) == nil, "\(filter)")
        }
    }

    @Test("a conversation may be read by its owner, and while it is a chat request by its service's agents")
    func conversations() {
        let mine: JSONValue = ["conversation": ["conversationId": "c-1", "agentId": "alice", "serviceId": "support"]]
        let bobs: JSONValue = ["conversation": ["conversationId": "c-2", "agentId": "bob", "serviceId": "support"]]
        let request: JSONValue = [
            "conversation": ["conversationId": "c-3", "serviceId": "support", "status": "pending"]
        ]
        #expect(GatewayPolicy.mayRead(conversation: mine, agentId: "alice", services: []))
        #expect(!GatewayPolicy.mayRead(conversation: bobs, agentId: "alice", services: ["support"]))
        #expect(GatewayPolicy.mayRead(conversation: request, agentId: "alice", services: ["support"]))
        #expect(!GatewayPolicy.mayRead(conversation: request, agentId: "alice", services: ["sales"]))
        #expect(!GatewayPolicy.mayRead(conversation: ["unexpected": true], agentId: "alice", services: ["support"]))
    }
}
