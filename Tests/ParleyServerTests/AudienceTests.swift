import Foundation
import ParleyCore
import ParleyProtocol
import ParleyStore
import Testing

@testable import ParleyServer

/// The feed wakes an agent's subscription only for events whose ``Audience`` reaches it, and
/// moves its cursor past the others unread: an event its filter passes but its audience does
/// not reach would be lost to it. So the audience must hold every agent the filter passes.
@Suite("Event audiences")
struct AudienceTests {
    @Test("every event an agent's filter passes reaches that agent's interest")
    func audienceCoversTheAgentFilter() throws {
        let directory = try TemporaryDirectory()
        let engine = try Engine(directory: directory.path + "/data", ids: SequentialIDs())
        _ = try engine.execute(DemoDirectory.commands.map { CommandRequest($0, actor: .system) })
        var feed: [FeedEvent] = []
        func run(_ command: Command) throws -> [RecordedEvent] {
            let outcome = try #require(try engine.execute([CommandRequest(command, actor: .system)]).first)
            let result = try #require(outcome.result, "\(command): \(String(describing: outcome.rejection))")
            let conversations = result.state.conversations
            feed += result.events.enumerated().map { index, event in
                FeedEvent(event, conversation: index < conversations.count ? conversations[index] : nil)
            }
            return result.events
        }
        func conversationId(_ events: [RecordedEvent]) throws -> String {
            for event in events { if case .conversationOpened(let e) = event.event { return e.conversationId } }
            throw POSIXError(.ENOENT)
        }
        _ = try run(.login(Login(agentId: "alice", state: .ready)))
        _ = try run(.login(Login(agentId: "bob", state: .ready)))
        // A chat request waiting in the service, taken by Alice, answered, delivered, ended.
        let request = try conversationId(
            try run(.receive(ReceiveInbound(from: "+15557770001", to: "+15550100100", text: "hi"))))
        _ = try run(.receive(ReceiveInbound(from: "+15557770001", to: "+15550100100", text: "still there?")))
        _ = try run(.acceptChat(AcceptChat(agentId: "alice", conversationId: request)))
        let sent = try run(.send(SendMessage(agentId: "alice", conversationId: request, text: "hello")))
        guard case .messageSent(let message)? = sent.last?.event else { throw POSIXError(.ENOENT) }
        _ = try run(.submitMessage(SubmitMessage(messageId: message.messageId, connector: "test")))
        _ = try run(
            .reportDelivery(ReportDelivery(messageId: message.messageId, carrierReference: "ref-1", status: .sent)))
        _ = try run(.reportDelivery(ReportDelivery(carrierReference: "ref-1", status: .delivered)))
        _ = try run(.endChat(EndChat(agentId: "alice", conversationId: request)))
        // Bob's own outbound conversation, Alice's DID conversation and her Recent.
        _ = try run(
            .send(SendMessage(agentId: "bob", serviceId: "support", customerNumber: "+15557770002", text: "a reminder"))
        )
        _ = try run(.receive(ReceiveInbound(from: "+15557770003", to: "+15550100201", text: "for Alice")))
        _ = try run(.markRecentRead(MarkRecentRead(agentId: "alice", upTo: engine.head.position)))
        _ = try run(.setState(SetState(agentId: "bob", state: .notReady)))
        _ = try run(.logout(Logout(agentId: "bob")))
        _ = try run(.receive(ReceiveInbound(from: "+15557770004", to: "+15559999999", text: "wrong number")))

        var passed = 0
        try engine.projections.read { view in
            for agent in ["alice", "bob", "nobody"] {
                let filter = try SubscriptionFilter(Params(["agentId": .string(agent)]))
                let interest = try #require(try filter.interest(in: view))
                #expect(interest.services == Set(try view.agent(agent)?.services ?? []))
                for event in feed where try filter.matches(event, interest: interest, view: view) {
                    passed += 1
                    #expect(
                        event.audience.reaches(interest),
                        "\(agent) would miss \(event.recorded.type.name) at \(event.recorded.position)")
                }
            }
        }
        #expect(passed > feed.count / 2, "the sequence concerns the agents")
    }

    @Test("a batch reaches whom any of its events reaches, and everyone when one of them does")
    func batchAudience() throws {
        func event(_ position: UInt64, _ stream: String, _ event: Event) -> FeedEvent {
            FeedEvent(
                RecordedEvent(
                    position: position, stream: stream, streamVersion: 1, timestamp: 0, actor: .system,
                    idempotencyKey: nil, event: event
                ))
        }
        let own = event(1, "agent:alice", .agentLoggedOut(AgentLoggedOut(agentId: "alice")))
        let request = event(
            2, "conversation:c-1",
            .conversationOpened(
                ConversationOpened(
                    conversationId: "c-1", kind: .service, origin: .customer, serviceId: "support", agentId: nil,
                    localNumber: "+15550100100", customerNumber: "+15557770001"
                )))
        let batch = try #require(BatchAudience([own, request]))
        #expect(batch.reaches(Interest(agentId: "alice", services: [])))
        #expect(batch.reaches(Interest(agentId: "bob", services: ["voice", "support"])))
        #expect(!batch.reaches(Interest(agentId: "carol", services: ["voice"])))
        let unknown = event(3, "conversation:c-9", .chatEnded(ChatEnded(conversationId: "c-9", agentId: "alice")))
        #expect(BatchAudience([own, unknown]) == nil)
    }

    @Test("an event the feed holds no conversation state for reaches everyone")
    func unknownConversationReachesEveryone() {
        let recorded = RecordedEvent(
            position: 1, stream: "conversation:c-9", streamVersion: 1, timestamp: 0, actor: .system,
            idempotencyKey: nil,
            event: .chatEnded(ChatEnded(conversationId: "c-9", agentId: "alice"))
        )
        #expect(FeedEvent(recorded).audience.reaches(Interest(agentId: "zed", services: [])))
        let directory = RecordedEvent(
            position: 2, stream: "service:support", streamVersion: 1, timestamp: 0, actor: .system, idempotencyKey: nil,
            event: .serviceConfigured(
                ServiceConfigured(
                    serviceId: "support", name: "S", smsNumber: nil, smsEnabled: false, inboundChats: false))
        )
        #expect(!FeedEvent(directory).audience.reaches(Interest(agentId: "alice", services: ["support"])))
    }
}
