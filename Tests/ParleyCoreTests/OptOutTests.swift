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

    private func reply(_ reason: SystemMessageReason, _ text: String, message: String, conversation: String = "c-1")
        -> Event
    {
        .systemMessageSent(
            SystemMessageSent(
                conversationId: conversation, messageId: message, reason: reason, from: Fx.salesNumber, to: Fx.cust1,
                text: text))
    }

    @Test("HELP is answered by the system with the number's help text, in the conversation, queued for the carriers")
    func helpIsAnswered() throws {
        let h = Fx.harness(loggedIn: "bob")
        h.given(Fx.send("bob"))  // c-1, m-2
        let events = h.events(Fx.inbound(" help "))  // m-3, then the reply m-4
        #expect(events.last == reply(.help, OptOutConfigured.builtIn.helpText, message: "m-4"))
        let answer = try #require(h.message("m-4"))
        #expect(answer.direction == .outbound)
        #expect(answer.agentId == nil, "sent by the system, not an agent")
        #expect(answer.status == .queued)
        #expect(try h.projections.awaitingCarrier().map(\.messageId) == ["m-2", "m-4"])
        // HELP while opted out is still answered (carriers require it); it changes nothing.
        h.given(Fx.inbound("STOP"))  // m-5
        #expect(h.events(Fx.inbound("HELP")).last == reply(.help, OptOutConfigured.builtIn.helpText, message: "m-7"))
        #expect(try h.projections.isOptedOut(local: Fx.salesNumber, customer: Fx.cust1))
        h.expectRebuildMatches()
    }

    @Test("a service's own keywords, help text and confirmations; other numbers and DIDs keep the defaults")
    func perServiceSettings() throws {
        let h = Fx.harness(loggedIn: "bob", "alice")
        var settings = OptOutConfigured.builtIn
        settings.serviceId = Fx.sales
        settings.stopKeywords = ["arrêt", " Stop "]
        settings.startKeywords = ["Reprendre"]
        settings.helpKeywords = ["INFO"]
        settings.helpText = "Sales: reply ARRÊT to stop."
        settings.confirmations = true
        let configured = h.events(.putOptOut(PutOptOut(settings: settings)))
        guard case .optOutConfigured(let stored) = configured.first else {
            Issue.record("no OptOutConfigured: \(configured)")
            return
        }
        #expect(stored.stopKeywords == ["ARRÊT", "STOP"], "normalised: upper case, trimmed")
        h.given(Fx.send("bob"))  // c-1, m-2
        // INFO is this service's help keyword; HELP is now an ordinary message.
        #expect(h.events(Fx.inbound("info")).last == reply(.help, "Sales: reply ARRÊT to stop.", message: "m-4"))
        #expect(h.events(Fx.inbound("HELP")).count == 1)  // m-5
        // A STOP is confirmed by the system: the one message after an opt-out carriers allow.
        let stop = h.events(Fx.inbound("Arrêt"))  // m-6, then m-7
        #expect(
            stop.dropFirst() == [
                optedOut("ARRÊT", message: "m-6", conversation: "c-1"),
                reply(.optOutConfirmation, settings.stopConfirmation, message: "m-7"),
            ])
        let start = h.events(Fx.inbound("reprendre"))  // m-8, then m-9
        #expect(start.last == reply(.optInConfirmation, settings.startConfirmation, message: "m-9"))
        // Alice's DID follows the directory's defaults: HELP answered with the built-in text.
        h.given(.send(SendMessage(agentId: "alice", customerNumber: Fx.cust2, fromDid: true, text: "Hi")))
        let did = h.events(Fx.inbound(from: Fx.cust2, to: Fx.aliceDid, "HELP"))
        guard case .systemMessageSent(let answer) = did.last else {
            Issue.record("no reply on the DID: \(did)")
            return
        }
        #expect(answer.text == OptOutConfigured.builtIn.helpText)
        #expect(answer.from == Fx.aliceDid)
        h.expectRebuildMatches()
    }

    @Test("the directory's defaults apply to every number without settings of its own")
    func directoryDefaults() {
        let h = Fx.harness(loggedIn: "bob")
        var defaults = OptOutConfigured.builtIn
        defaults.helpText = "Example Co: reply STOP to opt out."
        h.given(.putOptOut(PutOptOut(settings: defaults)))
        h.given(Fx.send("bob"))
        #expect(h.events(Fx.inbound("HELP")).last == reply(.help, "Example Co: reply STOP to opt out.", message: "m-4"))
    }

    @Test(
        "opt-out settings are refused when a list is empty, a keyword is in two lists, a text is empty or the service unknown"
    )
    func settingsRefused() {
        let h = Fx.harness()
        var empty = OptOutConfigured.builtIn
        empty.stopKeywords = []
        h.expectRefused(
            .putOptOut(PutOptOut(settings: empty)),
            .invalidArgument(field: "stopKeywords", reason: "must not be empty"),
            code: "InvalidArgument")
        var twice = OptOutConfigured.builtIn
        twice.startKeywords = ["START", "stop"]
        h.expectRefused(
            .putOptOut(PutOptOut(settings: twice)), .invalidArgument(field: "keywords", reason: "STOP is in two lists"),
            code: "InvalidArgument")
        var noHelp = OptOutConfigured.builtIn
        noHelp.helpText = ""
        h.expectRefused(
            .putOptOut(PutOptOut(settings: noHelp)), .invalidArgument(field: "helpText", reason: "must not be empty"),
            code: "InvalidArgument")
        var unknown = OptOutConfigured.builtIn
        unknown.serviceId = "nosuch"
        h.expectRefused(.putOptOut(PutOptOut(settings: unknown)), .unknownService("nosuch"), code: "UnknownService")
    }
}
