import ParleyCore
import Testing

@Suite("Inbound routing")
struct InboundRoutingTests {
    private func received(
        _ conversationId: String, _ messageId: String, from: String = Fx.cust1, to: String = Fx.salesNumber,
        _ text: String = "Hi", inReplyTo: String? = nil, reference: String? = nil
    ) -> Event {
        .inboundReceived(InboundReceived(
            conversationId: conversationId, messageId: messageId, from: from, to: to, text: text, attachments: [],
            inReplyTo: inReplyTo, carrierReference: reference
        ))
    }

    private func ignored(
        _ messageId: String, from: String = Fx.cust1, to: String, _ text: String = "Hi", reason: IgnoreReason,
        conversationId: String? = nil
    ) -> Event {
        .inboundIgnored(InboundIgnored(
            messageId: messageId, from: from, to: to, text: text, attachments: [], reason: reason,
            conversationId: conversationId, carrierReference: nil
        ))
    }

    @Test func replyJoinsTheOpenConversationAnsweringTheLatestOutbound() throws {
        let h = Fx.harness(loggedIn: "bob")
        h.given(Fx.send("bob", text: "one"), Fx.send("bob", text: "two"))
        #expect(h.events(Fx.inbound(from: Fx.cust1, to: Fx.salesNumber, "Yes", reference: "in-1"))
            == [received("c-1", "m-4", "Yes", inReplyTo: "m-3", reference: "in-1")])
        let message = try #require(h.transcript("c-1").last)
        #expect(message.direction == .inbound)
        #expect(message.inReplyTo == "m-3")
        #expect(message.status == nil)
        #expect(message.carrierReferences == ["in-1"])
        #expect(message.sequence == 3, "sequences count from 1: one, two, then the reply")
        // A second reply answers the same outbound; a new outbound moves the link.
        #expect(h.events(Fx.inbound("More")) == [received("c-1", "m-5", "More", inReplyTo: "m-3")])
        h.given(Fx.send("bob", text: "three"))  // m-6
        #expect(h.events(Fx.inbound("Ok")) == [received("c-1", "m-7", "Ok", inReplyTo: "m-6")])
        h.expectRebuildMatches()
    }

    @Test(arguments: [AgentState.loggedOut, .ready, .notReady, .busy, .afterCallWork])
    func replyReachesTheOwnerWhateverItsState(state: AgentState) {
        let h = Fx.harness(loggedIn: "bob")
        h.given(Fx.send("bob", text: "one"))
        switch state {
        case .loggedOut: h.given(.logout(Logout(agentId: "bob")))
        case .notReady: break
        case .ready: h.given(.setState(SetState(agentId: "bob", state: .ready)))
        case .busy, .afterCallWork:
            h.given(.setState(SetState(agentId: "bob", state: state, call: CallContext(callId: "k", serviceId: Fx.support, customerNumber: Fx.cust3))))
        }
        #expect(h.events(Fx.inbound("reply")) == [received("c-1", "m-3", "reply", inReplyTo: "m-2")])
        #expect(h.transcript("c-1").map(\.text) == ["one", "reply"])
        #expect(h.view("bob")?.openChats.map(\.conversationId) == ["c-1"])
        #expect(h.agent("bob")?.state == state)
        // A service chat is not a Recent item.
        #expect(h.agent("bob")?.unread == 0)
        #expect(h.recent("bob").isEmpty)
    }

    @Test func afterTheChatEndedWithoutInboundChatsTheSmsIsIgnored() {
        let h = Fx.harness(loggedIn: "bob")
        h.given(Fx.send("bob", text: "one"), .endChat(EndChat(agentId: "bob", conversationId: "c-1")))
        #expect(h.events(Fx.inbound("late")) == [ignored("m-3", to: Fx.salesNumber, "late", reason: .conversationEnded, conversationId: "c-1")])
        #expect(h.log.last?.stream == "conversation:c-1")
        #expect(h.transcript("c-1").map(\.text) == ["one"])
        #expect(h.view("bob")?.openChats == [])
        #expect(h.view("bob")?.pendingRequests == [])
        h.expectRebuildMatches()
    }

    @Test func afterTheChatEndedWithInboundChatsTheSmsOpensAChatRequest() throws {
        let h = Fx.harness(loggedIn: "bob", "alice", "dave")
        h.given(Fx.send("bob", Fx.support, text: "one"), .endChat(EndChat(agentId: "bob", conversationId: "c-1")))
        #expect(h.events(Fx.inbound(to: Fx.supportNumber, "again")) == [
            Fx.opened("c-3", service: Fx.support, agent: nil, local: Fx.supportNumber, origin: .customer),
            received("c-3", "m-4", to: Fx.supportNumber, "again", inReplyTo: nil),
        ])
        #expect(h.conversation("c-3")?.status == .pending)
        #expect(h.conversation("c-1")?.status == .ended)
        #expect(h.view("bob")?.pendingRequests.map(\.conversationId) == ["c-3"])
        #expect(h.view("alice")?.pendingRequests.map(\.conversationId) == ["c-3"])
        #expect(h.view("dave")?.pendingRequests == [])
        #expect(try h.projections.pendingRequests(Fx.support) == ["c-3"])
        h.expectRebuildMatches()
    }

    @Test func customerInitiatedWithInboundChatsOpensAChatRequest() {
        let h = Fx.harness(loggedIn: "bob")
        #expect(h.events(Fx.inbound(from: Fx.cust2, to: Fx.supportNumber, "Need help")) == [
            Fx.opened("c-1", service: Fx.support, agent: nil, local: Fx.supportNumber, customer: Fx.cust2, origin: .customer),
            received("c-1", "m-2", from: Fx.cust2, to: Fx.supportNumber, "Need help"),
        ])
        // Further SMS from the customer join the pending request.
        #expect(h.events(Fx.inbound(from: Fx.cust2, to: Fx.supportNumber, "Anyone?"))
            == [received("c-1", "m-3", from: Fx.cust2, to: Fx.supportNumber, "Anyone?")])
        #expect(h.transcript("c-1").map(\.text) == ["Need help", "Anyone?"])
        #expect(h.view("bob")?.pendingRequests.map(\.conversationId) == ["c-1"])
        #expect(h.view("bob")?.openChats == [])
        // Logged-out agents still see pending requests of their services in their view.
        #expect(h.view("alice")?.pendingRequests.map(\.conversationId) == ["c-1"])
    }

    @Test func customerInitiatedWithoutInboundChatsIsIgnored() {
        let h = Fx.harness(loggedIn: "bob")
        #expect(h.events(Fx.inbound(to: Fx.salesNumber, "Hello?")) == [ignored("m-1", to: Fx.salesNumber, "Hello?", reason: .noInboundChats)])
        #expect(h.log.last?.stream == "unrouted")
        #expect(h.projections.scan(.conversations, prefix: [], after: nil, limit: .max).isEmpty)
        #expect(h.view("bob")?.pendingRequests == [])
    }

    @Test func unknownNumberIsIgnored() {
        let h = Fx.harness()
        #expect(h.events(Fx.inbound(to: "+15559999999")) == [ignored("m-1", to: "+15559999999", reason: .unknownNumber)])
        #expect(h.log.last?.stream == "unrouted")
    }

    @Test func smsDisabledServiceIsIgnored() {
        let h = Fx.harness()
        #expect(h.events(Fx.inbound(to: Fx.pausedNumber)) == [ignored("m-1", to: Fx.pausedNumber, reason: .smsDisabled)])
    }

    @Test func disablingSmsStopsRoutingToTheOpenConversation() {
        let h = Fx.harness(loggedIn: "bob")
        h.given(Fx.send("bob", text: "one"))
        h.given(.putService(PutService(serviceId: Fx.sales, name: "Sales", smsNumber: Fx.salesNumber, smsEnabled: false, inboundChats: false)))
        #expect(h.events(Fx.inbound()) == [ignored("m-3", to: Fx.salesNumber, reason: .smsDisabled)])
        #expect(h.transcript("c-1").count == 1)
    }

    @Test(arguments: ["15557770001", "+", "+1", "+0155577700", "+1555-777"])
    func invalidNumbersAreRefused(number: String) {
        let h = Fx.harness()
        h.expectRefused(
            Fx.inbound(from: number, to: Fx.supportNumber), .invalidNumber(field: "from", value: number), code: "InvalidNumber"
        )
        h.expectRefused(
            Fx.inbound(from: Fx.cust1, to: number), .invalidNumber(field: "to", value: number), code: "InvalidNumber"
        )
    }

    @Test func inboundAttachmentsAreRecorded() throws {
        let h = Fx.harness()
        let photo = Attachment(name: "pic.png", contentType: "image/png", size: 9, reference: "mms://1")
        let events = h.events(.receive(ReceiveInbound(from: Fx.cust1, to: Fx.supportNumber, text: "", attachments: [photo])))
        #expect(events.last == .inboundReceived(InboundReceived(
            conversationId: "c-1", messageId: "m-2", from: Fx.cust1, to: Fx.supportNumber, text: "", attachments: [photo],
            inReplyTo: nil, carrierReference: nil
        )))
        #expect(try #require(h.transcript("c-1").first).attachments == [photo])
    }

    @Test func aNumberMovedToAnotherServiceNoLongerReachesTheOldServicesConversation() {
        let h = Fx.harness(loggedIn: "bob")
        h.given(Fx.send("bob", text: "one"))  // c-1 on sales, from salesNumber
        h.given(
            .putService(PutService(serviceId: Fx.sales, name: "Sales", smsNumber: "+15550000099", smsEnabled: true, inboundChats: false)),
            .putService(PutService(serviceId: "fresh", name: "Fresh", smsNumber: Fx.salesNumber, smsEnabled: true, inboundChats: false)),
            .putAgent(PutAgent(agentId: "bob", displayName: "Bob", services: [Fx.sales, Fx.support, "fresh"]))
        )
        // The customer texts the number that now belongs to "fresh", which takes no inbound chats.
        #expect(h.events(Fx.inbound(from: Fx.cust1, to: Fx.salesNumber, "hello?"))
            == [ignored("m-3", to: Fx.salesNumber, "hello?", reason: .noInboundChats)])
        #expect(h.transcript("c-1").map(\.text) == ["one"])
        // Sending through "fresh" opens a conversation of "fresh", not of sales.
        #expect(h.events(Fx.send("bob", "fresh", to: Fx.cust1, text: "fresh here")) == [
            Fx.opened("c-4", service: "fresh", agent: "bob"),
            Fx.sent("c-4", "m-5", agent: "bob", from: Fx.salesNumber, to: Fx.cust1, "fresh here"),
        ])
        #expect(h.conversation("c-1")?.serviceId == Fx.sales)
        h.expectRebuildMatches()
    }

    @Test func aNumberMovedToAChatServiceOpensARequestThere() {
        let h = Fx.harness(loggedIn: "bob")
        h.given(Fx.send("bob", text: "one"))  // c-1 on sales
        h.given(
            .putService(PutService(serviceId: Fx.sales, name: "Sales", smsNumber: "+15550000099", smsEnabled: true, inboundChats: false)),
            .putService(PutService(serviceId: "fresh", name: "Fresh", smsNumber: Fx.salesNumber, smsEnabled: true, inboundChats: true))
        )
        #expect(h.events(Fx.inbound(from: Fx.cust1, to: Fx.salesNumber, "hello?")) == [
            Fx.opened("c-3", service: "fresh", agent: nil, origin: .customer),
            received("c-3", "m-4", "hello?"),
        ])
        #expect(h.transcript("c-1").map(\.text) == ["one"])
        h.expectRebuildMatches()
    }
}
