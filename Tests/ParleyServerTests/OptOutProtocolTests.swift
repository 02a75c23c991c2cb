import ParleyClient
import ParleyProtocol
import Testing

/// STOP over the socket: the refusal clients see and what the transcript and agent view say.
@Suite("Opt-out over the socket")
struct OptOutProtocolTests {
    @Test(
        "after STOP, sms.send is refused with CustomerOptedOut and appends nothing; the transcript and the agent view show it; START lifts it"
    )
    func stopAndStart() async throws {
        let server = try await TestServer()
        let client = ParleyClient(path: server.socketPath)
        try await client.call("agent.login", ["agentId": "alice", "state": "Ready"])
        let send: [String: JSONValue] = [
            "agentId": "alice", "serviceId": "support", "customerNumber": "+15557000999", "text": "Your order shipped",
        ]
        let sent = try await client.call("sms.send", send)
        let conversation = try #require(sent["conversationId"])
        let stop = try await client.call(
            "carrier.inbound", ["from": "+15557000999", "to": "+15550100100", "text": " Stop "])
        #expect(stop["events"]?.array?.map { $0["type"] } == ["InboundReceived", "CustomerOptedOut"])

        let head = try await client.call("log.head")["position"]
        do {
            try await client.call("sms.send", send)
            Issue.record("a send to an opted-out customer was accepted")
        } catch {
            let remote = try #require(error.remote)
            #expect(remote.type == "CustomerOptedOut")
            #expect(remote.code == -32001)
            #expect(remote.message.contains("START"))
        }
        #expect(try await client.call("log.head")["position"] == head, "the refusal appended nothing")
        let transcript = try await client.call("conversation.get", ["conversationId": conversation])
        #expect(transcript["customerOptedOut"] == true)
        let view = try await client.call("agent.view", ["agentId": "alice"])
        #expect(view["optedOut"] == [conversation])

        let start = try await client.call(
            "carrier.inbound", ["from": "+15557000999", "to": "+15550100100", "text": "START"])
        #expect(start["events"]?.array?.map { $0["type"] } == ["InboundReceived", "CustomerOptedIn"])
        #expect(
            try await client.call("conversation.get", ["conversationId": conversation])["customerOptedOut"] == false)
        _ = try await client.call("sms.send", send)
        await client.close()
        try await server.stop()
    }
}
