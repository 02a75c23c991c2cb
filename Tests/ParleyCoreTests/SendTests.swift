import ParleyCore
import Testing

private func rep(_ s: String, _ n: Int) -> String { String(repeating: s, count: n) }

@Suite("Sending an SMS")
struct SendTests {
    // MARK: Addressing

    @Test(arguments: [AgentState.busy, .afterCallWork])
    func callContextSuppliesServiceAndNumber(state: AgentState) {
        let h = Fx.harness(loggedIn: "bob")
        h.given(.setState(SetState(agentId: "bob", state: state, call: Fx.call1)))
        let events = h.events(.send(SendMessage(agentId: "bob", text: "About your call")))
        #expect(events == [
            Fx.opened("c-1", agent: "bob"),
            Fx.sent("c-1", "m-2", agent: "bob", from: Fx.salesNumber, to: Fx.cust1, "About your call", callId: "call-1"),
        ])
        #expect(h.log.suffix(2).map(\.stream) == ["conversation:c-1", "conversation:c-1"])
        #expect(h.log.suffix(2).map(\.streamVersion) == [1, 2])
        h.expectRebuildMatches()
    }

    @Test func busySendToAnotherCustomerRecordsNoCallId() {
        let h = Fx.harness(loggedIn: "bob")
        h.given(.setState(SetState(agentId: "bob", state: .busy, call: Fx.call1)))
        let events = h.events(Fx.send("bob", Fx.sales, to: Fx.cust2, text: "Other"))
        #expect(events == [
            Fx.opened("c-1", agent: "bob", customer: Fx.cust2),
            Fx.sent("c-1", "m-2", agent: "bob", from: Fx.salesNumber, to: Fx.cust2, "Other", callId: nil),
        ])
    }

    @Test(arguments: [AgentState.ready, .notReady])
    func readyAndNotReadyMustNameServiceAndNumber(state: AgentState) {
        let h = Fx.harness(loggedIn: "bob")
        if state == .ready { h.given(.setState(SetState(agentId: "bob", state: .ready))) }
        let missing = Rejection.missingDestination(agentId: "bob", state: state)
        h.expectRefused(.send(SendMessage(agentId: "bob", text: "x")), missing, code: "MissingDestination")
        h.expectRefused(Fx.send("bob", Fx.sales, to: nil), missing, code: "MissingDestination")
        h.expectRefused(Fx.send("bob", nil, to: Fx.cust1), missing, code: "MissingDestination")
        let events = h.events(Fx.send("bob", Fx.sales, to: Fx.cust1, text: "Hello"))
        #expect(events == [
            Fx.opened("c-1", agent: "bob"),
            Fx.sent("c-1", "m-2", agent: "bob", from: Fx.salesNumber, to: Fx.cust1, "Hello"),
        ])
    }

    @Test func sentMessageIsQueuedInTheTranscript() throws {
        let h = Fx.harness(loggedIn: "bob")
        h.given(Fx.send("bob", text: "Hello"))
        let transcript = h.transcript("c-1")
        #expect(transcript.count == 1)
        let message = try #require(transcript.first)
        #expect(message.messageId == "m-2")
        #expect(message.direction == .outbound)
        #expect(message.status == .queued)
        #expect(message.agentId == "bob")
        #expect(message.segments == 1)
        #expect(message.position == h.head)
        #expect(message.timestamp == h.now)
        #expect(h.conversation("c-1")?.lastOutbound == "m-2")
        #expect(h.conversation("c-1")?.status == .open)
        #expect(h.view("bob")?.openChats.map(\.conversationId) == ["c-1"])
    }

    // MARK: Refusals

    @Test func unknownAgentIsRefused() {
        let h = Fx.harness()
        h.expectRefused(Fx.send("zed"), .unknownAgent("zed"), code: "UnknownAgent")
    }

    @Test func agentNotPermittedIsRefused() {
        let h = Fx.harness(loggedIn: "carol")
        h.expectRefused(Fx.send("carol"), .smsNotPermitted(agentId: "carol"), code: "SmsNotPermitted")
    }

    @Test func loggedOutAgentIsRefused() {
        let h = Fx.harness()
        h.expectRefused(Fx.send("bob"), .agentLoggedOut(agentId: "bob"), code: "AgentLoggedOut")
        h.given(.login(Login(agentId: "bob")), .logout(Logout(agentId: "bob")))
        h.expectRefused(Fx.send("bob"), .agentLoggedOut(agentId: "bob"), code: "AgentLoggedOut")
    }

    @Test func unknownServiceIsRefused() {
        let h = Fx.harness(loggedIn: "bob")
        h.expectRefused(Fx.send("bob", "nope"), .unknownService("nope"), code: "UnknownService")
    }

    @Test(arguments: [Fx.voice, Fx.paused])
    func serviceWithoutSmsIsRefused(service: String) {
        let h = Fx.harness(loggedIn: "alice")
        h.expectRefused(Fx.send("alice", service), .serviceWithoutSms(serviceId: service), code: "ServiceWithoutSms")
    }

    @Test func serviceNotAssignedIsRefused() {
        let h = Fx.harness(loggedIn: "dave")
        h.expectRefused(
            Fx.send("dave", Fx.sales), .serviceNotAssigned(agentId: "dave", serviceId: Fx.sales), code: "ServiceNotAssigned"
        )
    }

    @Test(arguments: ["5557770001", "+0123456", "+1", "+1555abc0001", "", "+1234567890123456"])
    func invalidCustomerNumberIsRefused(number: String) {
        let h = Fx.harness(loggedIn: "bob")
        h.expectRefused(
            Fx.send("bob", to: number), .invalidNumber(field: "customerNumber", value: number), code: "InvalidNumber"
        )
    }

    @Test func emptyTextWithoutAttachmentsIsRefused() {
        let h = Fx.harness(loggedIn: "bob")
        h.expectRefused(Fx.send("bob", text: ""), .emptyMessage, code: "EmptyMessage")
    }

    @Test func attachmentsOnlyIsAcceptedWithZeroSegments() throws {
        let h = Fx.harness(loggedIn: "bob")
        let photo = Attachment(name: "photo.jpg", contentType: "image/jpeg", size: 123_456, reference: "s3://bucket/photo.jpg")
        let events = h.events(Fx.send("bob", text: "", attachments: [photo]))
        #expect(events == [
            Fx.opened("c-1", agent: "bob"),
            .messageSent(MessageSent(
                conversationId: "c-1", messageId: "m-2", agentId: "bob", from: Fx.salesNumber, to: Fx.cust1, text: "",
                attachments: [photo], encoding: .gsm7, characters: 0, units: 0, segments: 0, callId: nil
            )),
        ])
        let message = try #require(h.transcript("c-1").first)
        #expect(message.attachments == [photo])
        #expect(message.segments == 0)
    }

    @Test func attachmentsAreNotCounted() {
        let h = Fx.harness(loggedIn: "bob")
        let files = (1...3).map { Attachment(name: "f\($0)", contentType: "application/pdf", size: 1 << 20, reference: "ref-\($0)") }
        let events = h.events(Fx.send("bob", text: "See attached", attachments: files))
        #expect(events.last == .messageSent(MessageSent(
            conversationId: "c-1", messageId: "m-2", agentId: "bob", from: Fx.salesNumber, to: Fx.cust1,
            text: "See attached", attachments: files, encoding: .gsm7, characters: 12, units: 12, segments: 1, callId: nil
        )))
    }

    @Test func invalidAttachmentIsRefused() {
        let h = Fx.harness(loggedIn: "bob")
        let bad = Attachment(name: "", contentType: "image/png", size: 1, reference: "r")
        h.expectRefused(
            Fx.send("bob", attachments: [bad]), .invalidArgument(field: "attachments.name", reason: "must not be empty"),
            code: "InvalidArgument"
        )
        let many = Array(repeating: Attachment(name: "a", contentType: "b", size: 1, reference: "c"), count: 11)
        h.expectRefused(
            Fx.send("bob", attachments: many), .invalidArgument(field: "attachments", reason: "more than 10"),
            code: "InvalidArgument"
        )
    }

    @Test func tenSegmentsAreAcceptedElevenRefused() {
        let h = Fx.harness(loggedIn: "bob")
        #expect(SegmentCounter.count(rep("a", 1531)).segments == 11)
        h.expectRefused(
            Fx.send("bob", text: rep("a", 1531)), .messageTooLong(segments: 11, maximum: 10), code: "MessageTooLong"
        )
        let events = h.events(Fx.send("bob", text: rep("a", 1530)))
        guard case .messageSent(let sent)? = events.last else {
            Issue.record("no MessageSent in \(events)")
            return
        }
        #expect(sent.segments == 10)
        #expect(sent.units == 1530)
    }

    @Test func maximumSegmentsAreConfigurable() {
        let h = Fx.harness(loggedIn: "bob")
        h.given(.putSettings(PutSettings(smsCounterEnabled: false, maxSegments: 2)))
        h.expectRefused(
            Fx.send("bob", text: rep("a", 307)), .messageTooLong(segments: 3, maximum: 2), code: "MessageTooLong"
        )
        // UCS-2: 135 units need 3 parts of 67.
        h.expectRefused(
            Fx.send("bob", text: rep("й", 135)), .messageTooLong(segments: 3, maximum: 2), code: "MessageTooLong"
        )
        #expect(h.events(Fx.send("bob", text: rep("a", 306))).count == 2)
        h.given(.putSettings(PutSettings(smsCounterEnabled: true, maxSegments: 20)))
        #expect(h.events(Fx.send("bob", text: rep("a", 1531))).count == 1)  // joins c-1
    }

    @Test func segmentCountIsRecorded() {
        let h = Fx.harness(loggedIn: "bob")
        let events = h.events(Fx.send("bob", text: rep("a", 161)))
        #expect(events.last == .messageSent(MessageSent(
            conversationId: "c-1", messageId: "m-2", agentId: "bob", from: Fx.salesNumber, to: Fx.cust1,
            text: rep("a", 161), attachments: [], encoding: .gsm7, characters: 161, units: 161, segments: 2, callId: nil
        )))
        let emoji = h.events(Fx.send("bob", text: "Thanks 😀"))
        #expect(emoji == [.messageSent(MessageSent(
            conversationId: "c-1", messageId: "m-3", agentId: "bob", from: Fx.salesNumber, to: Fx.cust1,
            text: "Thanks 😀", attachments: [], encoding: .ucs2, characters: 8, units: 9, segments: 1, callId: nil
        ))])
        let euro = h.events(Fx.send("bob", text: "5€"))
        #expect(euro == [.messageSent(MessageSent(
            conversationId: "c-1", messageId: "m-4", agentId: "bob", from: Fx.salesNumber, to: Fx.cust1,
            text: "5€", attachments: [], encoding: .gsm7, characters: 2, units: 3, segments: 1, callId: nil
        ))])
        #expect(h.transcript("c-1").map(\.segments) == [2, 1, 1])
    }

    // MARK: Conversations

    @Test func firstSendOpensSecondJoinsEndedReopens() {
        let h = Fx.harness(loggedIn: "bob")
        #expect(h.events(Fx.send("bob", text: "one")) == [
            Fx.opened("c-1", agent: "bob"),
            Fx.sent("c-1", "m-2", agent: "bob", from: Fx.salesNumber, to: Fx.cust1, "one"),
        ])
        #expect(h.events(Fx.send("bob", text: "two")) == [
            Fx.sent("c-1", "m-3", agent: "bob", from: Fx.salesNumber, to: Fx.cust1, "two"),
        ])
        // Another customer, another conversation.
        #expect(h.events(Fx.send("bob", to: Fx.cust2, text: "three")) == [
            Fx.opened("c-4", agent: "bob", customer: Fx.cust2),
            Fx.sent("c-4", "m-5", agent: "bob", from: Fx.salesNumber, to: Fx.cust2, "three"),
        ])
        #expect(h.events(.endChat(EndChat(agentId: "bob", conversationId: "c-1")))
            == [.chatEnded(ChatEnded(conversationId: "c-1", agentId: "bob"))])
        #expect(h.events(Fx.send("bob", text: "four")) == [
            Fx.opened("c-6", agent: "bob"),
            Fx.sent("c-6", "m-7", agent: "bob", from: Fx.salesNumber, to: Fx.cust1, "four"),
        ])
        #expect(h.transcript("c-1").map(\.text) == ["one", "two"])
        #expect(h.transcript("c-6").map(\.text) == ["four"])
        #expect(h.view("bob")?.openChats.map(\.conversationId) == ["c-4", "c-6"])
        h.expectRebuildMatches()
    }

    @Test func conversationOutlivesLoginSessionsAndCalls() {
        let h = Fx.harness(loggedIn: "bob")
        h.given(.setState(SetState(agentId: "bob", state: .busy, call: Fx.call1)))
        h.given(.send(SendMessage(agentId: "bob", text: "during call")))
        h.given(.logout(Logout(agentId: "bob")), .login(Login(agentId: "bob", state: .ready)))
        #expect(h.events(Fx.send("bob", text: "next day")) == [
            Fx.sent("c-1", "m-3", agent: "bob", from: Fx.salesNumber, to: Fx.cust1, "next day"),
        ])
        #expect(h.conversation("c-1")?.agentId == "bob")
    }

    @Test func replyNamingTheConversation() {
        let h = Fx.harness(loggedIn: "bob")
        h.given(Fx.send("bob", text: "one"))
        #expect(h.events(.send(SendMessage(agentId: "bob", conversationId: "c-1", text: "two"))) == [
            Fx.sent("c-1", "m-3", agent: "bob", from: Fx.salesNumber, to: Fx.cust1, "two"),
        ])
        h.expectRefused(
            .send(SendMessage(agentId: "bob", conversationId: "c-1", customerNumber: Fx.cust2, text: "x")),
            .invalidArgument(field: "customerNumber", reason: "does not match conversation \"c-1\""), code: "InvalidArgument"
        )
        h.expectRefused(
            .send(SendMessage(agentId: "bob", conversationId: "c-1", serviceId: Fx.support, text: "x")),
            .invalidArgument(field: "serviceId", reason: "does not match conversation \"c-1\""), code: "InvalidArgument"
        )
        h.expectRefused(
            .send(SendMessage(agentId: "bob", conversationId: "c-99", text: "x")),
            .unknownConversation("c-99"), code: "UnknownConversation"
        )
    }

    @Test func conversationEndedBySomeoneElseIsRefused() {
        let h = Fx.harness(loggedIn: "bob", "alice")
        h.given(Fx.send("bob", text: "one"), .endChat(EndChat(agentId: "bob", conversationId: "c-1")))
        h.expectRefused(
            .send(SendMessage(agentId: "alice", conversationId: "c-1", text: "late")),
            .conversationEnded(conversationId: "c-1"), code: "ConversationEnded"
        )
        h.expectRefused(
            .send(SendMessage(agentId: "bob", conversationId: "c-1", text: "late")),
            .conversationEnded(conversationId: "c-1"), code: "ConversationEnded"
        )
        #expect(h.transcript("c-1").count == 1)
    }

    @Test func conversationOwnedByAnotherAgentIsRefused() {
        let h = Fx.harness(loggedIn: "bob", "alice")
        h.given(Fx.send("bob", text: "mine"))
        let owned = Rejection.conversationOwnedByAnotherAgent(conversationId: "c-1", ownerId: "bob")
        h.expectRefused(Fx.send("alice", text: "also mine?"), owned, code: "ConversationOwnedByAnotherAgent")
        h.expectRefused(
            .send(SendMessage(agentId: "alice", conversationId: "c-1", text: "x")), owned,
            code: "ConversationOwnedByAnotherAgent"
        )
        // The same customer through another service is a different conversation.
        #expect(h.events(Fx.send("alice", Fx.support, text: "support here")).first
            == Fx.opened("c-3", service: Fx.support, agent: "alice", local: Fx.supportNumber))
    }

    @Test func sendingIntoAPendingChatRequestAcceptsIt() {
        let h = Fx.harness(loggedIn: "bob")
        h.given(Fx.inbound(to: Fx.supportNumber, "Can someone help?"))
        #expect(h.conversation("c-1")?.status == .pending)
        #expect(h.events(Fx.send("bob", Fx.support, text: "Sure")) == [
            .chatAccepted(ChatAccepted(conversationId: "c-1", agentId: "bob")),
            Fx.sent("c-1", "m-3", agent: "bob", from: Fx.supportNumber, to: Fx.cust1, "Sure"),
        ])
        #expect(h.conversation("c-1")?.status == .open)
        #expect(h.conversation("c-1")?.agentId == "bob")
        #expect(h.view("bob")?.pendingRequests == [])
        #expect(h.view("bob")?.openChats.map(\.conversationId) == ["c-1"])
        h.expectRebuildMatches()
    }

    @Test func sendingNamingAPendingChatAcceptsIt() {
        let h = Fx.harness(loggedIn: "bob", "dave")
        h.given(Fx.inbound(to: Fx.supportNumber, "Need help"))
        // dave does not serve support.
        h.expectRefused(
            .send(SendMessage(agentId: "dave", conversationId: "c-1", text: "x")),
            .serviceNotAssigned(agentId: "dave", serviceId: Fx.support), code: "ServiceNotAssigned"
        )
        #expect(h.events(.send(SendMessage(agentId: "bob", conversationId: "c-1", text: "Hi"))) == [
            .chatAccepted(ChatAccepted(conversationId: "c-1", agentId: "bob")),
            Fx.sent("c-1", "m-3", agent: "bob", from: Fx.supportNumber, to: Fx.cust1, "Hi"),
        ])
    }

    // MARK: DID

    @Test func sendingFromTheAgentsDidOpensADidConversation() {
        let h = Fx.harness(loggedIn: "alice")
        let events = h.events(.send(SendMessage(agentId: "alice", customerNumber: Fx.cust2, fromDid: true, text: "Personal")))
        #expect(events == [
            Fx.opened("c-1", service: nil, agent: "alice", local: Fx.aliceDid, customer: Fx.cust2, kind: .did),
            Fx.sent("c-1", "m-2", agent: "alice", from: Fx.aliceDid, to: Fx.cust2, "Personal"),
        ])
        #expect(h.events(.send(SendMessage(agentId: "alice", customerNumber: Fx.cust2, fromDid: true, text: "again"))) == [
            Fx.sent("c-1", "m-3", agent: "alice", from: Fx.aliceDid, to: Fx.cust2, "again"),
        ])
        #expect(h.conversation("c-1")?.kind == .did)
        h.expectRebuildMatches()
    }

    @Test func didSendFromBusyUsesTheCallsCustomer() {
        let h = Fx.harness(loggedIn: "alice")
        h.given(.setState(SetState(agentId: "alice", state: .busy, call: Fx.call1)))
        #expect(h.events(.send(SendMessage(agentId: "alice", fromDid: true, text: "x"))) == [
            Fx.opened("c-1", service: nil, agent: "alice", local: Fx.aliceDid, customer: Fx.cust1, kind: .did),
            Fx.sent("c-1", "m-2", agent: "alice", from: Fx.aliceDid, to: Fx.cust1, "x", callId: "call-1"),
        ])
    }

    @Test func didSendRefusals() {
        let h = Fx.harness(loggedIn: "bob", "alice")
        h.expectRefused(
            .send(SendMessage(agentId: "bob", customerNumber: Fx.cust1, fromDid: true, text: "x")),
            .agentWithoutDid(agentId: "bob"), code: "AgentWithoutDid"
        )
        h.expectRefused(
            .send(SendMessage(agentId: "alice", fromDid: true, text: "x")),
            .invalidArgument(field: "customerNumber", reason: "a DID send needs a customer number"), code: "InvalidArgument"
        )
        h.expectRefused(
            .send(SendMessage(agentId: "alice", customerNumber: "12", fromDid: true, text: "x")),
            .invalidNumber(field: "customerNumber", value: "12"), code: "InvalidNumber"
        )
    }
}
