import ParleyCore
import Testing

@Suite("Agent state")
struct AgentStateTests {
    @Test func loginDefaultsToNotReady() {
        let h = Fx.harness()
        #expect(h.events(.login(Login(agentId: "bob"))) == [.agentLoggedIn(AgentLoggedIn(agentId: "bob", state: .notReady))])
        #expect(h.agent("bob")?.state == .notReady)
        #expect(h.log.last?.stream == "agent:bob")
    }

    @Test func loginToReady() {
        let h = Fx.harness()
        #expect(h.events(.login(Login(agentId: "bob", state: .ready))) == [.agentLoggedIn(AgentLoggedIn(agentId: "bob", state: .ready))])
        #expect(h.agent("bob")?.state == .ready)
    }

    @Test(arguments: [AgentState.busy, .afterCallWork, .loggedOut])
    func loginToOtherStatesIsRefused(state: AgentState) {
        let h = Fx.harness()
        h.expectRefused(
            .login(Login(agentId: "bob", state: state)),
            .invalidArgument(field: "state", reason: "an agent logs in to Ready or NotReady"), code: "InvalidArgument"
        )
    }

    @Test func repeatedLoginAppendsNothing() {
        let h = Fx.harness(loggedIn: "bob")
        let head = h.head
        #expect(h.events(.login(Login(agentId: "bob", state: .ready))) == [])
        #expect(h.head == head)
        #expect(h.agent("bob")?.state == .notReady)
    }

    @Test func unknownAgentIsRefused() {
        let h = Fx.harness()
        h.expectRefused(.login(Login(agentId: "zed")), .unknownAgent("zed"), code: "UnknownAgent")
        h.expectRefused(.logout(Logout(agentId: "zed")), .unknownAgent("zed"), code: "UnknownAgent")
        h.expectRefused(.setState(SetState(agentId: "zed", state: .ready)), .unknownAgent("zed"), code: "UnknownAgent")
        h.expectRefused(.markRecentRead(MarkRecentRead(agentId: "zed", upTo: 0)), .unknownAgent("zed"), code: "UnknownAgent")
    }

    @Test func logoutAndRepeatedLogout() {
        let h = Fx.harness(loggedIn: "bob")
        h.given(.setState(SetState(agentId: "bob", state: .busy, call: Fx.call1)))
        #expect(h.events(.logout(Logout(agentId: "bob"))) == [.agentLoggedOut(AgentLoggedOut(agentId: "bob"))])
        #expect(h.agent("bob")?.state == .loggedOut)
        #expect(h.agent("bob")?.call == nil)
        #expect(h.events(.logout(Logout(agentId: "bob"))) == [])
        h.expectRebuildMatches()
    }

    @Test(arguments: [AgentState.busy, .afterCallWork])
    func callStatesCarryTheCall(state: AgentState) {
        let h = Fx.harness(loggedIn: "bob")
        #expect(h.events(.setState(SetState(agentId: "bob", state: state, call: Fx.call1)))
            == [.agentStateChanged(AgentStateChanged(agentId: "bob", state: state, call: Fx.call1))])
        #expect(h.agent("bob")?.state == state)
        #expect(h.agent("bob")?.call == Fx.call1)
        // Same state and call again: nothing.
        #expect(h.events(.setState(SetState(agentId: "bob", state: state, call: Fx.call1))) == [])
        // Back to Ready drops the call.
        #expect(h.events(.setState(SetState(agentId: "bob", state: .ready)))
            == [.agentStateChanged(AgentStateChanged(agentId: "bob", state: .ready, call: nil))])
        #expect(h.agent("bob")?.call == nil)
    }

    @Test(arguments: [AgentState.busy, .afterCallWork])
    func callStatesWithoutACallAreRefused(state: AgentState) {
        let h = Fx.harness(loggedIn: "bob")
        h.expectRefused(
            .setState(SetState(agentId: "bob", state: state)),
            .invalidArgument(field: "call", reason: "\(state.rawValue) needs the call's callId, serviceId and customerNumber"),
            code: "InvalidArgument"
        )
    }

    @Test func busyCallIsValidated() {
        let h = Fx.harness(loggedIn: "bob")
        h.expectRefused(
            .setState(SetState(agentId: "bob", state: .busy, call: CallContext(callId: "", serviceId: Fx.sales, customerNumber: Fx.cust1))),
            .invalidArgument(field: "call.callId", reason: "must not be empty"), code: "InvalidArgument"
        )
        h.expectRefused(
            .setState(SetState(agentId: "bob", state: .busy, call: CallContext(callId: "k", serviceId: "nope", customerNumber: Fx.cust1))),
            .unknownService("nope"), code: "UnknownService"
        )
        h.expectRefused(
            .setState(SetState(agentId: "bob", state: .busy, call: CallContext(callId: "k", serviceId: Fx.sales, customerNumber: "555"))),
            .invalidNumber(field: "call.customerNumber", value: "555"), code: "InvalidNumber"
        )
    }

    @Test(arguments: [AgentState.ready, .notReady])
    func callOnACallFreeStateIsRefused(state: AgentState) {
        let h = Fx.harness(loggedIn: "bob")
        h.expectRefused(
            .setState(SetState(agentId: "bob", state: state, call: Fx.call1)),
            .invalidArgument(field: "call", reason: "only Busy and AfterCallWork carry a call"), code: "InvalidArgument"
        )
    }

    @Test(arguments: [AgentState.ready, .notReady, .busy, .afterCallWork])
    func setStateWhileLoggedOutIsRefused(state: AgentState) {
        let h = Fx.harness()
        h.expectRefused(
            .setState(SetState(agentId: "bob", state: state, call: state.hasCall ? Fx.call1 : nil)),
            .agentLoggedOut(agentId: "bob"), code: "AgentLoggedOut"
        )
    }

    @Test func loggedOutThroughSetStateIsRefused() {
        let h = Fx.harness(loggedIn: "bob")
        h.expectRefused(
            .setState(SetState(agentId: "bob", state: .loggedOut)),
            .invalidArgument(field: "state", reason: "use agent.logout to log out"), code: "InvalidArgument"
        )
        #expect(h.agent("bob")?.state == .notReady)
    }

    @Test func loginAfterBusyLogoutStartsWithoutCall() {
        let h = Fx.harness(loggedIn: "bob")
        h.given(
            .setState(SetState(agentId: "bob", state: .afterCallWork, call: Fx.call1)),
            .logout(Logout(agentId: "bob")),
            .login(Login(agentId: "bob", state: .ready))
        )
        #expect(h.agent("bob")?.state == .ready)
        #expect(h.agent("bob")?.call == nil)
        #expect(h.view("bob")?.agent.state == .ready)
        h.expectRebuildMatches()
    }
}
