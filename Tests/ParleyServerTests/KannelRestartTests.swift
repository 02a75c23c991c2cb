import Foundation
import ParleyCarriers
import ParleyClient
import ParleyProtocol
import Testing

/// The connector contract under kill -9: `parley-kannel` killed mid-stream again and again
/// and restarted; every part reaches the SMSC, and one reaches it twice only inside the
/// contract's one window (Kannel took it, the kill came before its acceptance was recorded).
@Suite("Kannel connector, killed and restarted", .serialized)
struct KannelRestartTests {
    static let kills = 20
    static let messages = 60

    /// A two-part GSM-7 text whose parts name the message, so each part's payload is unique.
    static func text(_ i: Int) -> String {
        String(String(repeating: String(format: "%03d ", i), count: 75).prefix(290))
    }

    @Test("kill -9 twenty times mid-stream: every part reaches the SMSC, twice only inside the window")
    func killAndRestart() async throws {
        let setup = try await KannelConnectorTests.Setup()
        let (daemon, smsc) = (setup.daemon, setup.smsc)
        let client = ParleyClient(path: daemon.socket)
        defer { Task { await client.close() } }
        try await client.call("agent.login", ["agentId": "alice", "state": "Ready"])
        var ids: [String] = []
        var conversations: [String] = []
        for i in 0..<Self.messages {
            let sent = try await client.call(
                "sms.send",
                [
                    "agentId": "alice", "serviceId": "support",
                    "customerNumber": .string("+1555700\(String(format: "%04d", i))"), "text": .string(Self.text(i)),
                ])
            ids.append(sent["messageId"]?.string ?? "")
            conversations.append(sent["conversationId"]?.string ?? "")
        }
        let expected = zip(ids.indices, ids).flatMap { i, id in
            KannelSubmission.parts(of: Self.text(i), messageId: id)
        }
        #expect(expected.count == 2 * Self.messages)

        // Kill the connector each time a few more parts have reached the SMSC (the kill lands
        // wherever the connector happens to be), then let the last one finish.
        var generator = SystemRandomNumberGenerator()
        var stderr: [String] = []
        for round in 0..<Self.kills {
            let connector = try setup.connector(rate: 100)
            let before = smsc.lines.count
            let step = Int.random(in: 1...5, using: &generator)
            try await waitUntil("round \(round): \(step) more parts to reach the SMSC (\(connector.stderr.text))") {
                smsc.lines.count >= min(before + step, expected.count) || !connector.process.isRunning
            }
            #expect(connector.process.isRunning, "round \(round): \(connector.stderr.wholeText())")
            kill(connector.process.processIdentifier, SIGKILL)
            try await waitUntil("the connector to die") { !connector.process.isRunning }
            stderr.append(connector.stderr.wholeText())
        }
        let last = try setup.connector(rate: 0)
        try await waitUntil("every message to be delivered (\(last.stderr.text))", every: .milliseconds(200)) {
            try await Self.statuses(client, conversations).allSatisfy { $0 == "delivered" }
        }

        // What reached the SMSC: each part identified by its sequence number and payload.
        var arrivals: [String: Int] = [:]
        for line in smsc.lines {
            let part = try #require(FakeSMSC.part(line), "a part: \(line)")
            arrivals[Self.key(part.udh, part.payload), default: 0] += 1
        }
        for part in expected {
            #expect(arrivals[Self.key(part.udh, part.text)] != nil, "part \(part.number) of a message reached the SMSC")
        }
        #expect(arrivals.count == expected.count, "nothing reached the SMSC that was not sent")

        // What the log says: each message's submissions, and the acceptances the connector
        // itself recorded for each part (a delivery report's SMSC id can be a part's first
        // reference too, when it beat the connector's record across a kill).
        let log = try await Self.log(client)
        var duplicates = 0
        var unrecorded = 0
        for (index, id) in ids.enumerated() {
            for part in KannelSubmission.parts(of: Self.text(index), messageId: id) {
                let times = arrivals[Self.key(part.udh, part.text), default: 0]
                let recorded = log.acceptances["\(id).\(part.number)", default: 0]
                // A part whose acceptance was recorded is never sent again...
                #expect(recorded <= 1, "\(id) part \(part.number): \(recorded) acceptances recorded")
                // ...so every copy beyond the recorded one is a send a kill cut off before its record.
                #expect(times >= recorded, "\(id) part \(part.number): \(times) sent, \(recorded) recorded")
                unrecorded += times - recorded
                duplicates += times - 1
            }
        }
        let resubmissions = log.submissions.values.reduce(0) { $0 + $1 - 1 }
        print(
            "kannel restart: \(Self.kills) kills, \(expected.count) parts, \(resubmissions) resubmissions, \(unrecorded) sends cut off before their record, \(duplicates) parts reached the SMSC twice"
        )
        // A kill cuts off at most the parts in flight: one per message handled at once.
        #expect(unrecorded <= Self.kills * 8)
        #expect(duplicates <= unrecorded)
        kill(last.process.processIdentifier, SIGTERM)
        try await waitUntil("parley-kannel to stop") { !last.process.isRunning }
        _ = await daemon.stop()
    }

    static func key(_ udh: [UInt8]?, _ payload: [UInt8]) -> String {
        "\(udh?.last ?? 0) " + String(decoding: payload, as: UTF8.self)
    }

    /// The status of each conversation's one message.
    static func statuses(_ client: ParleyClient, _ conversations: [String]) async throws -> [String?] {
        var statuses: [String?] = []
        for id in conversations {
            let transcript = try await client.call("conversation.get", ["conversationId": .string(id)])
            statuses.append(transcript["messages"]?.array?.first?["status"]?.string)
        }
        return statuses
    }

    /// Submissions per message, and per part the acceptances the connector recorded (a
    /// `queued` `PartReported` with its own reference).
    static func log(_ client: ParleyClient) async throws -> (submissions: [String: Int], acceptances: [String: Int]) {
        var submissions: [String: Int] = [:]
        var acceptances: [String: Int] = [:]
        for try await notification in client.events(after: 0, filter: ["types": ["MessageSubmitted", "PartReported"]]) {
            if case .caughtUp = notification { break }
            guard case .event(_, let event, _) = notification, let data = event["data"],
                let id = data["messageId"]?.string
            else { continue }
            if event["type"]?.string == "MessageSubmitted" {
                submissions[id, default: 0] += 1
            } else if data["status"]?.string == "queued",
                data["carrierReference"]?.string?.hasPrefix("kannel:") == true,
                let part = data["part"]?.int64
            {
                acceptances["\(id).\(part)", default: 0] += 1
            }
        }
        return (submissions, acceptances)
    }
}
