import Foundation
import ParleyCore
import ParleyProtocol
import ParleyServer
import Testing

/// Careless and hostile clients over a live socket: partial lines left hanging or trickled,
/// a flood of connections past the limit, a client that disconnects with commands in flight.
/// (Their memory and latency figures come from `tools/hostile-clients`.)
@Suite("Hostile and careless clients")
struct HostileClientTests {
    /// The error object of an answer line, or nil.
    static func errorType(_ line: String?) -> (type: String?, retryable: Bool?) {
        guard let line, let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
            let error = object["error"] as? [String: Any], let data = error["data"] as? [String: Any]
        else { return (nil, nil) }
        return (data["type"] as? String, data["retryable"] as? Bool)
    }

    @Test("a partial line left hanging gets LineTimeout and the connection is closed; others are unaffected")
    func partialLineTimesOut() async throws {
        let server = try await TestServer(lineTimeout: .milliseconds(400))
        let head = server.engine.head
        let loris = try await server.connect()
        // The clock starts before the bytes leave, so a busy test runner can only make the wait look longer.
        let started = ContinuousClock.now
        try await loris.sendRaw(Array(#"{"jsonrpc":"2.0","id":1,"method":"sms.cou"#.utf8))
        let answer = try await loris.readLine()
        let waited = ContinuousClock.now - started
        #expect(Self.errorType(answer).type == "LineTimeout", "\(answer ?? "EOF")")
        #expect(waited >= .milliseconds(300), "not before the timeout: \(waited)")
        #expect(await BadInputTests.isClosed(loris), "the connection is closed after LineTimeout")
        let other = try await server.connect()
        #expect(try await other.result("log.head")["position"] as? Int == Int(head.position))
        #expect(server.engine.head == head)
        try await server.stop()
    }

    @Test("a request trickled byte by byte is cut off at the line timeout, before it is complete")
    func tricklerIsCutOff() async throws {
        let server = try await TestServer(lineTimeout: .milliseconds(500))
        let head = server.engine.head
        let trickler = try await server.connect()
        // Padded with spaces so that trickling it, 50 ms a byte, would take over a minute: the
        // cut-off comes first however slowly this machine runs the test.
        let padding = String(repeating: " ", count: 1200)
        let request = Array((#"{"jsonrpc":"2.0",\#(padding)"id":1,"method":"directory.putSettings","params":{"maxSegments":3}}"# + "\n").utf8)
        var sent = 0
        for byte in request {
            do { try await trickler.sendRaw([byte]) } catch { break }  // the server closed the connection
            sent += 1
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(sent < request.count, "the connection was closed before the request was complete (\(sent) bytes sent)")
        #expect(Self.errorType(try await trickler.readLine()).type == "LineTimeout")
        #expect(server.engine.head == head, "nothing of the trickled request was applied")
        try await server.stop()
    }

    @Test("the timeout is per line: an idle connection is never timed out, before its first line or between lines")
    func idleConnectionsAreServed() async throws {
        // Idle (no partial line) for three times the timeout, twice: Task.sleep never returns
        // early, so the idle time is longer than the timeout however busy the machine. Each line
        // goes in one write, so it is never a partial line the timeout could cut.
        let timeout = Duration.milliseconds(300)
        let server = try await TestServer(lineTimeout: timeout)
        let client = try await server.connect()
        for round in 1...2 {
            try await Task.sleep(for: timeout * 3)
            #expect(try await client.result("log.head")["position"] != nil, "round \(round)")
        }
        try await server.stop()
    }

    @Test("a line sent in pieces within the timeout is served")
    func linesInPiecesAreServed() async throws {
        // The pieces of each line are 300 ms apart; the timeout is far longer, so only a stuck
        // server could let a line run into it.
        let server = try await TestServer(lineTimeout: Patience.timeout)
        let client = try await server.connect()
        for id in 101...104 {
            try await client.sendRaw(Array(#"{"jsonrpc":"2.0","id":\#(id),"method":"#.utf8))
            try await Task.sleep(for: .milliseconds(300))
            try await client.sendRaw(Array((#""log.head"}"# + "\n").utf8))
            let answer = try await client.readObject()
            #expect(answer["id"] as? Int == id && answer["result"] != nil, "\(answer)")
        }
        try await server.stop()
    }

    @Test("connections past the limit get TooManyConnections (retryable) and are closed; the others are unaffected")
    func connectionFlood() async throws {
        let server = try await TestServer(limits: ServerLimits(maxConnections: 3))
        var admitted: [TestClient] = []
        for _ in 0..<3 { admitted.append(try await server.connect()) }
        for _ in 0..<20 {
            let extra = try TestClient(path: server.socketPath)
            let (type, retryable) = Self.errorType(try await extra.readLine())
            #expect(type == "TooManyConnections")
            #expect(retryable == true)
            #expect(await BadInputTests.isClosed(extra))
        }
        for client in admitted { #expect(try await client.result("log.head")["position"] != nil) }
        admitted.removeFirst().disconnect()
        // The server frees the slot once it has seen the disconnect: until then a new connection
        // is still refused (and closed); afterwards it is greeted.
        var again: TestClient?
        try await waitUntil("a freed slot to be given to a new connection") {
            let client = try TestClient(path: server.socketPath)
            let first = try await client.readObject()
            if first["method"] as? String == "server.hello" { again = client }
            return again != nil
        }
        #expect(try await again?.result("server.info")["head"] != nil, "a freed slot is reused")
        try await server.stop()
    }

    @Test("a client that disconnects with commands in flight: each one either committed (and a retry replays it) or was never applied")
    func disconnectWithCommandsInFlight() async throws {
        let server = try await TestServer(deterministic: false)
        let setup = try await server.connect()
        try await setup.result("agent.login", ["agentId": "alice", "state": "Ready"])
        let count = 40
        func send(_ i: Int) -> [String: Any] {
            [
                "agentId": "alice", "serviceId": "support", "customerNumber": "+1555700" + String(format: "%04d", i),
                "text": "in flight \(i)", "idempotencyKey": "inflight-\(i)",
            ]
        }
        let careless = try await server.connect()
        var burst: [UInt8] = []
        for i in 0..<count {
            burst += Array((jsonLine(["jsonrpc": "2.0", "id": i, "method": "sms.send", "params": send(i)]) + "\n").utf8)
        }
        try await careless.sendRaw(burst)
        careless.disconnect()  // without reading a single answer

        // Retry everything with the same keys: what committed is replayed, the rest is applied now.
        let retry = try await server.connect()
        var replayed = 0
        for i in 0..<count {
            let result = try await retry.result("sms.send", send(i))
            if result["replayed"] as? Bool == true { replayed += 1 }
            let position = try #require(result["position"] as? Int)
            let event = try #require(try server.engine.log.event(at: UInt64(position)))
            guard case .messageSent(let sent) = event.recorded.event else {
                Issue.record("position \(position) is not a MessageSent")
                continue
            }
            #expect(sent.text == "in flight \(i)")
        }
        // Exactly one MessageSent per command, whichever way it got there.
        let texts = try server.engine.log.read(after: 0, limit: 10_000).compactMap { stored -> String? in
            if case .messageSent(let sent) = stored.recorded.event { return sent.text }
            return nil
        }
        for i in 0..<count { #expect(texts.filter { $0 == "in flight \(i)" }.count == 1, "command \(i)") }
        print("disconnect with \(count) commands in flight: \(replayed) had committed (replayed on retry), \(count - replayed) had not")
        try await server.stop()
    }
}
