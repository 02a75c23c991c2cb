import ParleyCore
import ParleyStore
import Testing

/// A command's result carries the state it left, read in its own write transaction, so the
/// daemon answers and feeds subscriptions without reading the projections again.
@Suite("Resulting state")
struct ResultingStateTests {
    @Test(
        "each event's conversation as it stood right after that command, even when later commands of the batch change it"
    )
    func conversationsPerCommand() throws {
        let dir = try TemporaryDirectory()
        let engine = try openEngine(dir.path)
        try run(engine, directoryCommands + [.login(Login(agentId: "bob", state: .ready))])
        let outcomes = try engine.execute([
            CommandRequest(
                .receive(ReceiveInbound(from: "+15551230009", to: "+15550000001", text: "anyone?")), actor: carrier),
            CommandRequest(.acceptChat(AcceptChat(agentId: "bob", conversationId: "c-1")), actor: frontend),
        ])
        let inbound = try #require(outcomes[0].result)
        #expect(inbound.events.map(\.type) == [.conversationOpened, .inboundReceived])
        #expect(
            inbound.state.conversations.map { $0?.status } == [.pending, .pending], "still waiting when it arrived")
        let accepted = try #require(outcomes[1].result)
        #expect(accepted.state.conversations.map { $0?.agentId } == ["bob"])
        #expect(accepted.state.conversations.first??.status == .open)
        #expect(try engine.projections.read { try $0.conversation("c-1") } == accepted.state.conversations.first ?? nil)
    }

    @Test(
        "a late delivery report carries the message's effective status; an agent command that changes nothing carries the agent"
    )
    func messageAndAgent() throws {
        let dir = try TemporaryDirectory()
        let engine = try openEngine(dir.path)
        try run(
            engine,
            directoryCommands + [
                .login(Login(agentId: "ann", state: .ready)),
                .send(SendMessage(agentId: "ann", serviceId: "sales", customerNumber: "+15551230001", text: "hello")),
                .reportDelivery(ReportDelivery(messageId: "m-2", carrierReference: "r-1", status: .delivered)),
            ])
        let outcomes = try engine.execute([
            CommandRequest(.reportDelivery(ReportDelivery(carrierReference: "r-1", status: .sent)), actor: carrier),
            CommandRequest(.login(Login(agentId: "ann", state: .ready)), actor: frontend),
        ])
        let late = try #require(outcomes[0].result)
        #expect(late.events.map(\.type) == [.deliveryReported])
        #expect(late.state.message?.status == .delivered, "a late 'sent' does not move 'delivered' back")
        let again = try #require(outcomes[1].result)
        #expect(again.events.isEmpty)
        #expect(again.state.agent?.state == .ready)
    }
}
