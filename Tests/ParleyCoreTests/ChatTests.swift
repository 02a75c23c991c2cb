import ParleyCore
import Testing

@Suite("Chats")
struct ChatTests {
    /// A pending chat request c-1 (m-2) on support from cust1, with the given agents logged in.
    private func pending(_ agents: String...) -> Harness {
        let h = Harness()
        h.given(Fx.directory)
        for agent in agents { h.given(.login(Login(agentId: agent))) }
        h.given(Fx.inbound(from: Fx.cust1, to: Fx.supportNumber, "Need help"))
        return h
    }

    private func accept(_ agent: String, _ id: String = "c-1") -> Command {
        .acceptChat(AcceptChat(agentId: agent, conversationId: id))
    }

    private func end(_ agent: String, _ id: String = "c-1") -> Command {
        .endChat(EndChat(agentId: agent, conversationId: id))
    }

    @Test func anAgentServingTheServiceAcceptsAndOwnsIt() {
        let h = pending("bob", "alice")
        #expect(h.view("alice")?.pendingRequests.map(\.conversationId) == ["c-1"])
        #expect(h.events(accept("bob")) == [.chatAccepted(ChatAccepted(conversationId: "c-1", agentId: "bob"))])
        #expect(h.conversation("c-1")?.agentId == "bob")
        #expect(h.conversation("c-1")?.status == .open)
        #expect(h.view("bob")?.openChats.map(\.conversationId) == ["c-1"])
        #expect(h.view("bob")?.pendingRequests == [])
        #expect(h.view("alice")?.pendingRequests == [])
        #expect(h.view("alice")?.openChats == [])
        // The customer's next SMS joins the accepted chat.
        #expect(h.events(Fx.inbound(from: Fx.cust1, to: Fx.supportNumber, "Thanks")) == [.inboundReceived(InboundReceived(
            conversationId: "c-1", messageId: "m-3", from: Fx.cust1, to: Fx.supportNumber, text: "Thanks", attachments: [],
            inReplyTo: nil, carrierReference: nil
        ))])
        h.expectRebuildMatches()
    }

    @Test func secondAgentIsRefusedAndTheOwnerAcceptingAgainAppendsNothing() {
        let h = pending("bob", "alice")
        h.given(accept("bob"))
        h.expectRefused(
            accept("alice"), .chatAlreadyAccepted(conversationId: "c-1", ownerId: "bob"), code: "ChatAlreadyAccepted"
        )
        let head = h.head
        #expect(h.events(accept("bob")) == [])
        #expect(h.head == head)
    }

    @Test func onlyAnAgentServingTheServiceMayAccept() {
        let h = pending("dave")
        h.expectRefused(
            accept("dave"), .serviceNotAssigned(agentId: "dave", serviceId: Fx.support), code: "ServiceNotAssigned"
        )
        #expect(h.conversation("c-1")?.status == .pending)
    }

    @Test func aLoggedOutAgentMayNotAccept() {
        let h = pending()
        h.expectRefused(accept("bob"), .agentLoggedOut(agentId: "bob"), code: "AgentLoggedOut")
    }

    @Test func acceptingUnknownOrEndedIsRefused() {
        let h = pending("bob")
        h.expectRefused(accept("bob", "c-404"), .unknownConversation("c-404"), code: "UnknownConversation")
        h.expectRefused(accept("zed"), .unknownAgent("zed"), code: "UnknownAgent")
        h.given(accept("bob"), end("bob"))
        h.expectRefused(accept("bob"), .conversationEnded(conversationId: "c-1"), code: "ConversationEnded")
    }

    @Test func onlyTheOwnerEnds() throws {
        let h = pending("bob", "alice")
        h.given(accept("bob"))
        h.expectRefused(
            end("alice"), .conversationOwnedByAnotherAgent(conversationId: "c-1", ownerId: "bob"),
            code: "ConversationOwnedByAnotherAgent"
        )
        #expect(h.events(end("bob")) == [.chatEnded(ChatEnded(conversationId: "c-1", agentId: "bob"))])
        #expect(h.conversation("c-1")?.status == .ended)
        #expect(h.view("bob")?.openChats == [])
        #expect(try h.projections.openConversationId(local: Fx.supportNumber, customer: Fx.cust1) == nil)
        #expect(try h.projections.lastConversationId(local: Fx.supportNumber, customer: Fx.cust1) == "c-1")
        h.expectRebuildMatches()
    }

    @Test func aPendingRequestCannotBeEnded() {
        let h = pending("bob")
        h.expectRefused(end("bob"), .chatNotAccepted(conversationId: "c-1"), code: "ChatNotAccepted")
    }

    @Test func endingTwiceIsRefused() {
        let h = pending("bob")
        h.given(accept("bob"), end("bob"))
        h.expectRefused(end("bob"), .conversationEnded(conversationId: "c-1"), code: "ConversationEnded")
        h.expectRefused(end("alice"), .conversationEnded(conversationId: "c-1"), code: "ConversationEnded")
        h.expectRefused(end("bob", "c-404"), .unknownConversation("c-404"), code: "UnknownConversation")
    }

    @Test func theOwnerMayEndWhileLoggedOut() {
        let h = Fx.harness(loggedIn: "bob")
        h.given(Fx.send("bob", text: "hi"), .logout(Logout(agentId: "bob")))
        #expect(h.events(end("bob")) == [.chatEnded(ChatEnded(conversationId: "c-1", agentId: "bob"))])
    }

    @Test func agentViewShowsOpenChatsAndPendingRequests() throws {
        let h = Fx.harness(loggedIn: "bob", "alice")
        h.given(
            Fx.send("bob", Fx.sales, to: Fx.cust1, text: "a"),  // c-1
            Fx.send("bob", Fx.support, to: Fx.cust2, text: "b"),  // c-3
            Fx.inbound(from: Fx.cust3, to: Fx.supportNumber, "c"),  // c-5 pending
            Fx.send("alice", Fx.sales, to: Fx.cust2, text: "d")  // c-7
        )
        let bob = try #require(h.view("bob"))
        #expect(bob.agent.state == .notReady)
        #expect(bob.openChats.map(\.conversationId) == ["c-1", "c-3"])
        #expect(bob.pendingRequests.map(\.conversationId) == ["c-5"])
        #expect(bob.unread == 0)
        let alice = try #require(h.view("alice"))
        #expect(alice.openChats.map(\.conversationId) == ["c-7"])
        #expect(alice.pendingRequests.map(\.conversationId) == ["c-5"])
        #expect(h.view("dave")?.pendingRequests == [])
        #expect(h.view("zed") == nil)
        h.expectRebuildMatches()
    }
}
