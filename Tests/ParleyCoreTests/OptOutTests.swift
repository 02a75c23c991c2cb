import ParleyCore
import Testing

/// STOP and START: a customer's standing with a local number, recorded from their texts and
/// enforced on every agent's send.
@Suite("Opt-out")
struct OptOutTests {
    private func optedOut(
        _ keyword: String, message: String, conversation: String?, local: String = Fx.salesNumber,
        customer: String = Fx.cust1
    ) -> Event {
        .customerOptedOut(
            CustomerOptedOut(
                localNumber: local, customerNumber: customer, keyword: keyword, messageId: message,
                conversationId: conversation))
    }

    private func optedIn(
        _ keyword: String, message: String, conversation: String?, local: String = Fx.salesNumber,
        customer: String = Fx.cust1
    ) -> Event {
        .customerOptedIn(
            CustomerOptedIn(
                localNumber: local, customerNumber: customer, keyword: keyword, messageId: message,
                conversationId: conversation))
    }

    @Test("STOP in a conversation: the SMS joins it, the opt-out follows, and no agent may text them from that number")
    func stopRefusesSends() throws {
        let h = Fx.harness(loggedIn: "bob", "alice")
        h.given(Fx.send("bob"))  // c-1, m-2
        let events = h.events(Fx.inbound("  stop \n"))
        #expect(events.count == 2)
        #expect(events.last == optedOut("STOP", message: "m-3", conversation: "c-1"))
        #expect(try h.projections.isOptedOut(local: Fx.salesNumber, customer: Fx.cust1))
        // Then every send to them from the sales number is refused, appending nothing.
        let refusal = Rejection.customerOptedOut(customerNumber: Fx.cust1, localNumber: Fx.salesNumber)
        h.expectRefused(Fx.send("bob"), refusal, code: "CustomerOptedOut")
        h.expectRefused(
            .send(SendMessage(agentId: "bob", conversationId: "c-1", text: "Sorry to see you go")), refusal,
            code: "CustomerOptedOut")
        // Nor from a new conversation once bob ends this one.
        h.given(.endChat(EndChat(agentId: "bob", conversationId: "c-1")))
        h.expectRefused(Fx.send("alice"), refusal, code: "CustomerOptedOut")
        // But another number may still text them, and another customer is unaffected.
        #expect(!h.events(Fx.send("bob", Fx.support)).isEmpty)
        #expect(!h.events(Fx.send("bob", to: Fx.cust2)).isEmpty)
        h.expectRebuildMatches()
    }

    @Test("every default keyword stops, whatever its case; a sentence with a keyword in it does not")
    func keywords() {
        for keyword in ["STOP", "stopall", "Unsubscribe", "CANCEL", "end", "QUIT"] {
            let h = Fx.harness(loggedIn: "bob")
            h.given(Fx.send("bob"))
            #expect(
                h.events(Fx.inbound(keyword)).last
                    == optedOut(keyword.uppercased(), message: "m-3", conversation: "c-1"))
        }
        for text in ["Stop calling me at work", "STOP!", "please stop", "S T O P", ""] {
            let h = Fx.harness(loggedIn: "bob")
            h.given(Fx.send("bob"))
            let events = h.events(Fx.inbound(text))
            #expect(events.count == 1, "\"\(text)\" is a message for the agent: \(events)")
        }
    }

    @Test("START after STOP opts back in and sends work again; START or a second STOP otherwise records nothing more")
    func startOptsBackIn() {
        let h = Fx.harness(loggedIn: "bob")
        h.given(Fx.send("bob"))  // c-1, m-2
        // START while opted in changes nothing: the SMS alone.
        #expect(h.events(Fx.inbound("START")).count == 1)  // m-3
        h.given(Fx.inbound("STOP"))  // m-4
        #expect(h.events(Fx.inbound("Stop")).count == 1, "already opted out")  // m-5
        #expect(h.events(Fx.inbound("unstop")).last == optedIn("UNSTOP", message: "m-6", conversation: "c-1"))
        #expect(!h.events(Fx.send("bob", text: "Welcome back")).isEmpty)
        h.expectRebuildMatches()
    }

    @Test(
        "STOP with no conversation to join (a service without inbound chats) is still recorded, on the unrouted stream")
    func stopWithoutConversation() throws {
        let h = Fx.harness(loggedIn: "bob")
        let recorded = try h.when(Fx.inbound(from: Fx.cust2, to: Fx.salesNumber, "STOP")).get()
        #expect(recorded.map(\.type) == [.inboundIgnored, .customerOptedOut])
        #expect(recorded.last?.event == optedOut("STOP", message: "m-1", conversation: nil, customer: Fx.cust2))
        #expect(recorded.last?.stream == "unrouted")
        h.expectRefused(
            Fx.send("bob", to: Fx.cust2), .customerOptedOut(customerNumber: Fx.cust2, localNumber: Fx.salesNumber),
            code: "CustomerOptedOut")
    }

    @Test("STOP to an agent's DID stops that agent's DID texts, not the services'")
    func stopOnDid() {
        let h = Fx.harness(loggedIn: "alice")
        h.given(.send(SendMessage(agentId: "alice", customerNumber: Fx.cust1, fromDid: true, text: "Hi from my DID")))
        #expect(
            h.events(Fx.inbound(from: Fx.cust1, to: Fx.aliceDid, "QUIT")).last
                == optedOut("QUIT", message: "m-3", conversation: "c-1", local: Fx.aliceDid))
        h.expectRefused(
            .send(SendMessage(agentId: "alice", customerNumber: Fx.cust1, fromDid: true, text: "Again")),
            .customerOptedOut(customerNumber: Fx.cust1, localNumber: Fx.aliceDid), code: "CustomerOptedOut")
        #expect(!h.events(Fx.send("alice")).isEmpty)
    }

    @Test("the history check finds an agent's message to a customer who opted out of its number")
    func historyCheck() throws {
        let h = Fx.harness(loggedIn: "bob")
        h.given(Fx.send("bob"), Fx.inbound("STOP"))
        // A log no decider would write: bob's message after the STOP.
        let state = h.projections
        let forged = RecordedEvent(
            position: 99, stream: "conversation:c-1", streamVersion: 9, timestamp: 0,
            actor: Actor(uid: 0, role: .frontend), idempotencyKey: nil,
            event: Fx.sent("c-1", "m-9", agent: "bob", from: Fx.salesNumber, to: Fx.cust1, "Still there?"))
        let problems = try HistoryCheck.violations(of: forged, before: state)
        #expect(problems.contains { $0.contains("opted out") }, "\(problems)")
    }
}
