import Foundation
import Testing

/// The connector contract over the socket: every carrier reference a message was given
/// names it, submissions are recorded, `carrier.pending` lists what a connector still owes,
/// and the built-in simulator picks up after a restart what it had not handed over.
@Suite("Carrier connectors", .serialized)
struct CarrierContractTests {
    private static func messages(_ client: TestClient, _ conversationId: String) async throws -> [String: [String: Any]]
    {
        let answer = try await client.result("conversation.get", ["conversationId": conversationId])
        let records = answer["messages"] as? [[String: Any]] ?? []
        return Dictionary(
            uniqueKeysWithValues: records.compactMap { record in
                (record["messageId"] as? String).map { ($0, record) }
            })
    }

    private static func pendingIds(_ client: TestClient) async throws -> [String] {
        let answer = try await client.result("carrier.pending", ["limit": 1000])
        return (answer["messages"] as? [[String: Any]] ?? []).compactMap { $0["messageId"] as? String }
    }

    @Test("a second carrier reference given with the messageId is attached: each names the message later")
    func everyReferenceNamesTheMessage() async throws {
        let server = try await TestServer()
        let client = try await server.connect()
        try await client.result("agent.login", ["agentId": "alice", "state": "Ready"])
        let sent = try await client.result(
            "sms.send",
            [
                "agentId": "alice", "serviceId": "support", "customerNumber": "+15557770001",
                "text": "Your code is 1234",
            ])
        let m = try #require(sent["messageId"] as? String)
        let c = try #require(sent["conversationId"] as? String)
        try await client.result("carrier.status", ["messageId": m, "carrierReference": "R1", "status": "sent"])
        try await client.result("carrier.status", ["carrierReference": "R1", "status": "sent"])
        try await client.result("carrier.status", ["messageId": m, "carrierReference": "R2", "status": "delivered"])
        let byR2 = try await client.result("carrier.status", ["carrierReference": "R2", "status": "delivered"])
        #expect(byR2["messageId"] as? String == m)
        let record = try #require(try await Self.messages(client, c)[m])
        #expect(record["carrierReferences"] as? [String] == ["R1", "R2"])
        #expect(record["status"] as? String == "delivered")
        // A reference already naming this message cannot name another one.
        let other = try await client.result("sms.send", ["agentId": "alice", "conversationId": c, "text": "Second"])
        let second = try #require(other["messageId"] as? String)
        #expect(
            try await client.errorType(
                "carrier.status", ["messageId": second, "carrierReference": "R2", "status": "sent"])
                == "CarrierReferenceInUse")
        try await server.stop()
    }

    @Test("carrier.submit records attempts; carrier.pending lists messages until a carrier accepts them")
    func submitAndPending() async throws {
        let server = try await TestServer()
        let client = try await server.connect()
        try await client.result("agent.login", ["agentId": "alice", "state": "Ready"])
        var ids: [String] = []
        for n in 0..<3 {
            let sent = try await client.result(
                "sms.send",
                [
                    "agentId": "alice", "serviceId": "support", "customerNumber": "+1555777100\(n)",
                    "text": "hello \(n)",
                ])
            ids.append(try #require(sent["messageId"] as? String))
        }
        #expect(try await Self.pendingIds(client) == ids)
        let first = try await client.result("carrier.submit", ["messageId": ids[0], "connector": "kannel"])
        #expect(first["attempt"] as? Int == 1)
        #expect((first["events"] as? [[String: Any]])?.first?["type"] as? String == "MessageSubmitted")
        let again = try await client.result("carrier.submit", ["messageId": ids[0], "connector": "kannel"])
        #expect(again["attempt"] as? Int == 2)
        let page = try await client.result("carrier.pending", ["limit": 1])
        let record = try #require((page["messages"] as? [[String: Any]])?.first)
        #expect(record["messageId"] as? String == ids[0])
        #expect((record["submission"] as? [String: Any])?["connector"] as? String == "kannel")
        #expect((record["submission"] as? [String: Any])?["attempt"] as? Int == 2)
        let next = try #require(page["next"] as? Int)
        let rest = try await client.result("carrier.pending", ["after": next, "limit": 10])
        #expect((rest["messages"] as? [[String: Any]])?.compactMap { $0["messageId"] as? String } == Array(ids[1...]))
        // Acceptance (a reference) ends the wait; a final status without one does too.
        try await client.result("carrier.status", ["messageId": ids[0], "carrierReference": "K-1", "status": "sent"])
        try await client.result("carrier.status", ["messageId": ids[1], "status": "failed", "detail": "no route"])
        #expect(try await Self.pendingIds(client) == [ids[2]])
        #expect(
            try await client.errorType("carrier.submit", ["messageId": ids[0], "connector": "kannel"])
                == "MessageAlreadyAccepted")
        #expect(
            try await client.errorType("carrier.submit", ["messageId": "m-none", "connector": "kannel"])
                == "UnknownMessage")
        try await server.stop()
    }

    @Test("the simulator delivers after a restart what it had not handed over, and leaves other connectors' messages")
    func simulatorPicksUpAfterRestart() async throws {
        let directory = try TemporaryDirectory()
        var daemon = try await DaemonProcess(directory: directory.path)
        var client = try await TestClient.connect(path: daemon.socket)
        try await client.result("agent.login", ["agentId": "alice", "state": "Ready"])
        func send(_ n: Int) async throws -> (message: String, conversation: String) {
            let sent = try await client.result(
                "sms.send",
                [
                    "agentId": "alice", "serviceId": "support", "customerNumber": "+1555666000\(n)",
                    "text": "restart \(n)",
                ])
            return (try #require(sent["messageId"] as? String), try #require(sent["conversationId"] as? String))
        }
        let neverSubmitted = try await send(1)
        let submittedNotAccepted = try await send(2)  // the simulator died between its record and the carrier's answer
        let otherConnector = try await send(3)
        let accepted = try await send(4)
        let acceptedBySimulator = try await send(6)  // the daemon stopped between its `sent` and `delivered`
        try await client.result(
            "carrier.submit", ["messageId": submittedNotAccepted.message, "connector": "simulator"])
        try await client.result("carrier.submit", ["messageId": otherConnector.message, "connector": "kannel"])
        try await client.result(
            "carrier.status", ["messageId": accepted.message, "carrierReference": "A-4", "status": "sent"])
        try await client.result("carrier.submit", ["messageId": acceptedBySimulator.message, "connector": "simulator"])
        try await client.result(
            "carrier.status",
            [
                "messageId": acceptedBySimulator.message, "carrierReference": "sim-" + acceptedBySimulator.message,
                "status": "sent",
            ])
        let owed = try await client.result("carrier.pending", ["accepted": true])
        #expect(
            (owed["messages"] as? [[String: Any]])?.compactMap { $0["messageId"] as? String }
                == [accepted.message, acceptedBySimulator.message], "accepted, with no final status yet")
        client.disconnect()
        #expect(await daemon.stop() == 0)

        daemon = try await DaemonProcess(directory: directory.path, arguments: ["--carrier-sim", "--sim-delay", "20"])
        client = try await TestClient.connect(path: daemon.socket)
        let live = try await send(5)
        func status(_ sent: (message: String, conversation: String)) async throws -> String? {
            try await Self.messages(client, sent.conversation)[sent.message]?["status"] as? String
        }
        try await waitUntil("the simulator delivers the messages it owed and the new one") {
            for sent in [neverSubmitted, submittedNotAccepted, acceptedBySimulator, live]
            where try await status(sent) != "delivered" {
                return false
            }
            return true
        }
        #expect(try await status(otherConnector) == "queued", "kannel's message is not the simulator's")
        #expect(try await status(accepted) == "sent", "an accepted message is not submitted again")
        #expect(try await Self.pendingIds(client) == [otherConnector.message])
        let stillOwed = try await client.result("carrier.pending", ["accepted": true])
        #expect(
            (stillOwed["messages"] as? [[String: Any]])?.compactMap { $0["messageId"] as? String } == [
                accepted.message
            ],
            "only the other carrier's accepted message still waits for its report")

        // The log holds exactly the submissions the contract asks for.
        let log = try await client.result("log.read", ["after": 0, "limit": 1000])
        var submissions: [String: [Int]] = [:]
        for event in log["events"] as? [[String: Any]] ?? [] where event["type"] as? String == "MessageSubmitted" {
            let data = try #require(event["data"] as? [String: Any])
            let id = try #require(data["messageId"] as? String)
            submissions[id, default: []].append(try #require(data["attempt"] as? Int))
        }
        #expect(submissions[neverSubmitted.message] == [1])
        #expect(submissions[submittedNotAccepted.message] == [1, 2], "resubmitted once after the restart")
        #expect(submissions[otherConnector.message] == [1])
        #expect(submissions[accepted.message] == nil)
        #expect(submissions[live.message] == [1])
        #expect(submissions[acceptedBySimulator.message] == [1], "finished after the restart, not submitted again")
        let references = try await Self.messages(client, neverSubmitted.conversation)[neverSubmitted.message]?[
            "carrierReferences"]
        #expect(references as? [String] == ["sim-" + neverSubmitted.message])
        client.disconnect()
        #expect(await daemon.stop() == 0)
    }
}
