import ParleyCore
import Testing

@Suite("DID SMS and Recent")
struct RecentTests {
    private func didSms(from customer: String = Fx.cust1, _ text: String = "Hi") -> Command {
        Fx.inbound(from: customer, to: Fx.aliceDid, text)
    }

    private func markRead(_ upTo: UInt64, agent: String = "alice") -> Command {
        .markRecentRead(MarkRecentRead(agentId: agent, upTo: upTo))
    }

    @Test func didSmsOpensADidConversationAndRaisesUnread() {
        let h = Fx.harness()
        #expect(h.events(didSms("Call me")) == [
            Fx.opened("c-1", service: nil, agent: "alice", local: Fx.aliceDid, kind: .did, origin: .customer),
            .inboundReceived(InboundReceived(
                conversationId: "c-1", messageId: "m-2", from: Fx.cust1, to: Fx.aliceDid, text: "Call me", attachments: [],
                inReplyTo: nil, carrierReference: nil
            )),
        ])
        #expect(h.agent("alice")?.unread == 1)
        #expect(h.view("alice")?.unread == 1)
        let recent = h.recent("alice")
        #expect(recent.map(\.position) == [h.head])
        #expect(recent.map(\.message.text) == ["Call me"])
        #expect(h.conversation("c-1")?.status == .open)
        #expect(h.view("alice")?.openChats.map(\.conversationId) == ["c-1"])
        h.expectRebuildMatches()
    }

    @Test(arguments: [AgentState.loggedOut, .ready, .notReady, .busy, .afterCallWork])
    func didSmsRaisesUnreadInEveryState(state: AgentState) {
        let h = Fx.harness()
        switch state {
        case .loggedOut: break
        case .ready: h.given(.login(Login(agentId: "alice", state: .ready)))
        case .notReady: h.given(.login(Login(agentId: "alice")))
        case .busy, .afterCallWork:
            h.given(.login(Login(agentId: "alice")), .setState(SetState(agentId: "alice", state: state, call: Fx.call1)))
        }
        h.given(didSms("one"), didSms(from: Fx.cust2, "two"), didSms("three"))
        #expect(h.agent("alice")?.state == state)
        #expect(h.agent("alice")?.unread == 3)
        #expect(h.recent("alice").map(\.message.text) == ["one", "two", "three"])
        // Two customers, two DID conversations; the third SMS joined the first.
        #expect(h.transcript("c-1").map(\.text) == ["one", "three"])
        #expect(h.recent("bob").isEmpty)
        h.expectRebuildMatches()
    }

    @Test func markReadUpToTheNewestShownLeavesLaterItemsUnread() throws {
        let h = Fx.harness()
        h.given(didSms("one"), didSms("two"))
        let shown = h.recent("alice").map(\.position)
        #expect(shown.count == 2)
        h.given(didSms("three"))  // arrives while the front end shows the first two
        #expect(h.agent("alice")?.unread == 3)
        #expect(h.events(markRead(shown[1])) == [.recentRead(RecentRead(agentId: "alice", upTo: shown[1]))])
        #expect(h.log.last?.stream == "agent:alice")
        #expect(h.agent("alice")?.unread == 1)
        #expect(h.agent("alice")?.readHorizon == shown[1])
        h.given(didSms("four"))
        #expect(h.agent("alice")?.unread == 2)
        // Reading everything up to the head clears it.
        let head = h.head
        #expect(h.events(markRead(head)) == [.recentRead(RecentRead(agentId: "alice", upTo: head))])
        #expect(h.agent("alice")?.unread == 0)
        h.expectRebuildMatches()
        #expect(try h.rebuilt().agent("alice")?.unread == 0)
    }

    @Test func markReadBetweenItemsCountsOnlyLaterItems() {
        let h = Fx.harness()
        h.given(didSms("one"), .putTemplate(PutTemplate(templateId: "t", title: "T", text: "x")), didSms("two"))
        let positions = h.recent("alice").map(\.position)
        // A position between the two items (the template event).
        let between = positions[0] + 1
        #expect(between < positions[1])
        h.given(markRead(between))
        #expect(h.agent("alice")?.unread == 1)
    }

    @Test func markingAnOlderPositionAppendsNothing() {
        let h = Fx.harness()
        h.given(didSms("one"), didSms("two"))
        let positions = h.recent("alice").map(\.position)
        h.given(markRead(positions[1]))
        let head = h.head
        #expect(h.events(markRead(positions[0])) == [])
        #expect(h.events(markRead(positions[1])) == [])
        #expect(h.head == head)
        #expect(h.agent("alice")?.unread == 0)
        #expect(h.agent("alice")?.readHorizon == positions[1])
    }

    @Test func markingBeyondTheHeadIsRefused() {
        let h = Fx.harness()
        h.given(didSms())
        h.expectRefused(
            markRead(h.head + 1), .positionOutOfRange(position: h.head + 1, head: h.head), code: "PositionOutOfRange"
        )
        h.expectRefused(
            markRead(.max), .positionOutOfRange(position: .max, head: h.head), code: "PositionOutOfRange"
        )
        #expect(h.agent("alice")?.unread == 1)
    }

    @Test func theAgentRepliesFromItsDidIntoTheSameConversation() {
        let h = Fx.harness(loggedIn: "alice")
        h.given(didSms("Are you there?"))
        #expect(h.events(.send(SendMessage(agentId: "alice", customerNumber: Fx.cust1, fromDid: true, text: "Yes"))) == [
            Fx.sent("c-1", "m-3", agent: "alice", from: Fx.aliceDid, to: Fx.cust1, "Yes"),
        ])
        #expect(h.events(.send(SendMessage(agentId: "alice", conversationId: "c-1", text: "Still here"))) == [
            Fx.sent("c-1", "m-4", agent: "alice", from: Fx.aliceDid, to: Fx.cust1, "Still here"),
        ])
        #expect(h.events(didSms("Great")) == [.inboundReceived(InboundReceived(
            conversationId: "c-1", messageId: "m-5", from: Fx.cust1, to: Fx.aliceDid, text: "Great", attachments: [],
            inReplyTo: "m-4", carrierReference: nil
        ))])
        #expect(h.transcript("c-1").map(\.text) == ["Are you there?", "Yes", "Still here", "Great"])
        // Only inbound DID SMS are Recent items.
        #expect(h.recent("alice").map(\.message.text) == ["Are you there?", "Great"])
        #expect(h.agent("alice")?.unread == 2)
        h.expectRebuildMatches()
    }

    @Test func anotherAgentCannotReplyInADidConversation() {
        let h = Fx.harness(loggedIn: "alice", "bob")
        h.given(didSms())
        h.expectRefused(
            .send(SendMessage(agentId: "bob", conversationId: "c-1", text: "me?")),
            .conversationOwnedByAnotherAgent(conversationId: "c-1", ownerId: "alice"), code: "ConversationOwnedByAnotherAgent"
        )
    }

    @Test func endedDidConversationIsReplacedByTheNextSms() {
        let h = Fx.harness(loggedIn: "alice")
        h.given(didSms("one"), .endChat(EndChat(agentId: "alice", conversationId: "c-1")))
        let events = h.events(didSms("two"))
        #expect(events.first == Fx.opened("c-3", service: nil, agent: "alice", local: Fx.aliceDid, kind: .did, origin: .customer))
        #expect(h.agent("alice")?.unread == 2)
        h.expectRebuildMatches()
    }

    @Test func aDidMovedToAnotherAgentReachesTheNewHolder() {
        let h = Fx.harness(loggedIn: "alice", "bob")
        h.given(didSms("for alice"))  // c-1, alice's DID conversation
        #expect(h.agent("alice")?.unread == 1)
        h.given(
            .putAgent(PutAgent(agentId: "alice", displayName: "Alice", did: "+15551110099", services: [Fx.sales])),
            .putAgent(PutAgent(agentId: "bob", displayName: "Bob", did: Fx.aliceDid, services: [Fx.sales]))
        )
        // The same customer texts the DID that is bob's now: bob's Recent, not alice's.
        #expect(h.events(didSms("for bob")) == [
            Fx.opened("c-3", service: nil, agent: "bob", local: Fx.aliceDid, kind: .did, origin: .customer),
            .inboundReceived(InboundReceived(
                conversationId: "c-3", messageId: "m-4", from: Fx.cust1, to: Fx.aliceDid, text: "for bob", attachments: [],
                inReplyTo: nil, carrierReference: nil
            )),
        ])
        #expect(h.agent("alice")?.unread == 1)
        #expect(h.agent("bob")?.unread == 1)
        #expect(h.recent("bob").map(\.message.text) == ["for bob"])
        #expect(h.transcript("c-1").map(\.text) == ["for alice"])
        // Bob replying from the DID joins his own conversation, never alice's.
        #expect(h.events(.send(SendMessage(agentId: "bob", customerNumber: Fx.cust1, fromDid: true, text: "bob here"))) == [
            Fx.sent("c-3", "m-5", agent: "bob", from: Fx.aliceDid, to: Fx.cust1, "bob here"),
        ])
        #expect(h.transcript("c-1").map(\.text) == ["for alice"])
        h.expectRebuildMatches()
    }

    @Test func aNewDidHolderNeverSendsIntoThePreviousHoldersConversation() {
        let h = Fx.harness(loggedIn: "alice", "bob")
        h.given(.send(SendMessage(agentId: "alice", customerNumber: Fx.cust1, fromDid: true, text: "alice")))  // c-1
        h.given(
            .putAgent(PutAgent(agentId: "alice", displayName: "Alice", did: nil, services: [Fx.sales])),
            .putAgent(PutAgent(agentId: "bob", displayName: "Bob", did: Fx.aliceDid, services: [Fx.sales]))
        )
        #expect(h.events(.send(SendMessage(agentId: "bob", customerNumber: Fx.cust1, fromDid: true, text: "bob"))) == [
            Fx.opened("c-3", service: nil, agent: "bob", local: Fx.aliceDid, kind: .did),
            Fx.sent("c-3", "m-4", agent: "bob", from: Fx.aliceDid, to: Fx.cust1, "bob"),
        ])
        #expect(h.transcript("c-1").map(\.text) == ["alice"])
        h.expectRebuildMatches()
    }
}
