import AsyncHTTPClient
import Foundation
import ParleyCarriers
import ParleyClient
import ParleyCore
import ParleyProtocol
import Testing

/// A real Kannel on loopback (bearerbox and smsbox, configured and started by the test) whose
/// fake SMSC is the test itself: it speaks the fake SMSC's line protocol on bearerbox's
/// `smsc = fake` port, as `fakesmsc` does, so it sees every part byte for byte and can type
/// inbound SMS.
final class KannelLab: @unchecked Sendable {
    let directory: String
    let adminPort: Int, smsboxPort: Int, sendsmsPort: Int, fakePort: Int, callbackPort: Int
    private var processes: [ChildProcess] = []

    init(directory: String) throws {
        self.directory = directory
        (adminPort, smsboxPort, sendsmsPort, fakePort, callbackPort) =
            (try freePort(), try freePort(), try freePort(), try freePort(), try freePort())
    }

    deinit {
        for process in processes where process.isRunning { kill(process.processIdentifier, SIGTERM) }
    }

    /// kannel.conf with the sms-service whose get-url `smsService` gives.
    func configure(smsService: String) throws {
        let conf = """
            group = core
            admin-port = \(adminPort)
            admin-password = lab
            admin-interface = 127.0.0.1
            smsbox-port = \(smsboxPort)
            smsbox-interface = 127.0.0.1
            box-allow-ip = 127.0.0.1
            log-file = "\(directory)/bearerbox.log"
            log-level = 1
            store-type = file
            store-location = "\(directory)/kannel.store"
            dlr-storage = internal

            group = smsc
            smsc = fake
            smsc-id = fake1
            port = \(fakePort)
            connect-allow-ip = 127.0.0.1

            group = smsbox
            bearerbox-host = 127.0.0.1
            bearerbox-port = \(smsboxPort)
            sendsms-port = \(sendsmsPort)
            sendsms-interface = 127.0.0.1
            http-request-retry = 5
            log-file = "\(directory)/smsbox.log"
            log-level = 1

            group = sendsms-user
            username = parley
            password = lab-password
            max-messages = 10
            concatenation = true

            \(smsService)
            """
        try conf.write(toFile: directory + "/kannel.conf", atomically: true, encoding: .utf8)
    }

    /// Starts bearerbox, then (once its box port is open) smsbox, and waits for both.
    func start() async throws {
        let bearerbox = try ChildProcess.spawn("/usr/sbin/bearerbox", ["-v", "2", directory + "/kannel.conf"]).0
        processes.append(bearerbox)
        let smsboxPort = self.smsboxPort
        try await waitUntil("bearerbox to open its box port") {
            guard bearerbox.isRunning else { throw LabFailed(what: "bearerbox exited") }
            return canConnect(port: smsboxPort)
        }
        try await startSmsbox()
    }

    private var smsbox: ChildProcess?

    /// Starts smsbox (Kannel's sendsms and sms-service side) and waits for it to connect.
    func startSmsbox() async throws {
        let smsbox = try ChildProcess.spawn("/usr/sbin/smsbox", ["-v", "2", directory + "/kannel.conf"]).0
        processes.append(smsbox)
        self.smsbox = smsbox
        let port = sendsmsPort
        try await waitUntil("smsbox to connect to bearerbox and open sendsms") {
            try self.status().contains("smsbox:") && canConnect(port: port)
        }
    }

    /// Stops smsbox: `sendsms` refuses connections, as when Kannel is down.
    func stopSmsbox() async throws {
        guard let smsbox else { return }
        kill(smsbox.processIdentifier, SIGTERM)
        try await waitUntil("smsbox to stop") { !smsbox.isRunning }
        self.smsbox = nil
    }

    /// bearerbox's status page.
    func status() throws -> String {
        (try? httpGet(port: adminPort, path: "/status.txt?password=lab")) ?? ""
    }
}

struct LabFailed: Error { let what: String }

/// The SMSC end of bearerbox's fake SMSC connection: one line per message, `from to type
/// payload`.
final class FakeSMSC: @unchecked Sendable {
    private let socket: Int32
    private let lock = NSLock()
    private var received: [String] = []
    private var buffer: [UInt8] = []

    init(port: Int) throws {
        socket = try connectTCP(port: port)
        let thread = Thread { [self] in
            var chunk = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = read(socket, &chunk, chunk.count)
                if n <= 0 { return }
                lock.withLock {
                    buffer += chunk[0..<n]
                    while let newline = buffer.firstIndex(of: 10) {
                        received.append(String(decoding: buffer[..<newline], as: UTF8.self))
                        buffer.removeSubrange(...newline)
                    }
                }
            }
        }
        thread.start()
    }

    deinit { close(socket) }

    /// Every line bearerbox sent so far.
    var lines: [String] { lock.withLock { received } }

    /// Types an inbound SMS.
    func send(_ line: String) {
        let bytes = Array((line + "\n").utf8)
        _ = bytes.withUnsafeBytes { write(socket, $0.baseAddress, bytes.count) }
    }

    /// One received part: its header and payload bytes, as bearerbox encoded them.
    static func part(_ line: String) -> (to: String, udh: [UInt8]?, payload: [UInt8])? {
        let fields = line.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: false)
        guard fields.count == 4 else { return nil }
        let to = String(fields[1])
        switch fields[2] {
        case "text": return (to, nil, Array(fields[3].utf8))
        case "ucs-2", "data": return PercentEncoding.decode(fields[3]).map { (to, nil, $0) }
        case "udh":
            let rest = fields[3].split(separator: " ", maxSplits: 2)
            guard rest.count == 3, let udh = PercentEncoding.decode(rest[0]), let data = PercentEncoding.decode(rest[2])
            else { return nil }
            return (to, udh, data)
        default: return nil
        }
    }
}

/// The `parley-kannel` executable, started beside the daemon.
final class KannelConnectorProcess: @unchecked Sendable {
    let process: ChildProcess
    let stderr: OutputCollector

    init(
        socket: String, lab: KannelLab, secretFile: String, passwordFile: String, rate: Int = 0, concurrency: Int = 8,
        maxRefusals: Int = 5
    ) throws {
        let executable = URL(fileURLWithPath: try DaemonProcess.executable()).deletingLastPathComponent()
            .appendingPathComponent("parley-kannel").path
        let (process, errors) = try ChildProcess.spawn(
            executable,
            [
                "--socket", socket, "--sendsms", "http://127.0.0.1:\(lab.sendsmsPort)/cgi-bin/sendsms",
                "--password-file", passwordFile, "--secret-file", secretFile,
                "--listen", "127.0.0.1:\(lab.callbackPort)", "--rate", "\(rate)", "--concurrency", "\(concurrency)",
                "--max-refusals", "\(maxRefusals)",
            ])
        self.process = process
        stderr = OutputCollector(errors)
    }

    deinit { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }

    static func smsService(lab: KannelLab, secretFile: String) async throws -> String {
        let executable = URL(fileURLWithPath: try DaemonProcess.executable()).deletingLastPathComponent()
            .appendingPathComponent("parley-kannel").path
        let (process, stdout, _) = try ChildProcess.spawnCapturing(
            executable,
            [
                "--secret-file", secretFile, "--listen", "127.0.0.1:\(lab.callbackPort)", "--print-sms-service",
            ])
        let output = OutputCollector(stdout)
        try await waitUntil("parley-kannel --print-sms-service") { !process.isRunning }
        return output.wholeText()
    }
}

@Suite("Kannel connector, end to end", .serialized)
struct KannelConnectorTests {
    static let customer = "+15557654321"
    static let service = "+15550100100"

    /// The texts sent, and what the counter says about each.
    static let texts = [
        "Hello world @£$",  // GSM-7, one part
        "Hi 😀 Привет",  // UCS-2, one part
        String(repeating: "Three parts of GSM-7 text. ", count: 16),  // 432 septets: 3 parts
        String(repeating: "😀", count: 67),  // 134 UTF-16 units: 3 parts, never a pair split
    ]

    /// A daemon, a Kannel with the test as its SMSC, and the connector's secret files.
    struct Setup {
        let dir: TemporaryDirectory
        let daemon: DaemonProcess
        let lab: KannelLab
        let smsc: FakeSMSC
        let secretFile: String
        let passwordFile: String

        init() async throws {
            dir = try TemporaryDirectory()
            daemon = try await DaemonProcess(directory: dir.path)
            lab = try KannelLab(directory: dir.path)
            secretFile = dir.path + "/secret"
            passwordFile = dir.path + "/password"
            try "0123456789abcdef0123456789abcdef".write(toFile: secretFile, atomically: true, encoding: .utf8)
            try "lab-password\n".write(toFile: passwordFile, atomically: true, encoding: .utf8)
            try lab.configure(smsService: try await KannelConnectorProcess.smsService(lab: lab, secretFile: secretFile))
            try await lab.start()
            smsc = try FakeSMSC(port: lab.fakePort)
            let lab = self.lab
            try await waitUntil("the fake SMSC to be online") { try lab.status().contains("(online") }
        }

        func connector(rate: Int = 0, concurrency: Int = 8, maxRefusals: Int = 5) throws -> KannelConnectorProcess {
            try KannelConnectorProcess(
                socket: daemon.socket, lab: lab, secretFile: secretFile, passwordFile: passwordFile, rate: rate,
                concurrency: concurrency, maxRefusals: maxRefusals)
        }
    }

    @Test(
        "messages reach the SMSC in the counted parts byte for byte, reports make them delivered, and an inbound SMS joins the conversation"
    )
    func endToEnd() async throws {
        let setup = try await Setup()
        let (daemon, smsc) = (setup.daemon, setup.smsc)
        let connector = try setup.connector()

        let client = ParleyClient(path: daemon.socket)
        defer { Task { await client.close() } }
        try await client.call("agent.login", ["agentId": "alice", "state": "Ready"])
        var ids: [String] = []
        var conversation = ""
        for text in Self.texts {
            let sent = try await client.call(
                "sms.send",
                [
                    "agentId": "alice", "serviceId": "support", "customerNumber": .string(Self.customer),
                    "text": .string(text),
                ])
            ids.append(sent["messageId"]?.string ?? "")
            conversation = sent["conversationId"]?.string ?? ""
        }

        // Every counted part reaches the SMSC, exactly as packed.
        let expected = zip(Self.texts, ids).flatMap { KannelSubmission.parts(of: $0, messageId: $1) }
        #expect(expected.count == 8)
        try await waitUntil("every part to reach the SMSC (\(connector.stderr.text))") {
            smsc.lines.count >= expected.count
        }
        let parts = smsc.lines.compactMap(FakeSMSC.part)
        #expect(parts.count == smsc.lines.count, "every line is a part: \(smsc.lines)")
        #expect(parts.allSatisfy { $0.to == Self.customer })
        for part in expected {
            #expect(
                parts.contains { $0.udh == part.udh && $0.payload == part.text },
                "part \(part.number)/\(part.total) \(part.charset) arrived as sent")
        }
        #expect(parts.count == expected.count, "no part twice")

        // The fake SMSC acknowledges (8) and delivers (1) each part: every message is delivered.
        try await waitUntil("every message to be delivered") {
            let transcript = try await client.call("conversation.get", ["conversationId": .string(conversation)])
            let statuses = (transcript["messages"]?.array ?? []).filter { ids.contains($0["messageId"]?.string ?? "") }
                .map { $0["status"]?.string }
            return statuses.count == ids.count && statuses.allSatisfy { $0 == "delivered" }
        }
        let transcript = try await client.call("conversation.get", ["conversationId": .string(conversation)])
        let long = (transcript["messages"]?.array ?? []).first { $0["messageId"]?.string == ids[2] }
        #expect(long?["parts"]?.array?.map { $0["status"]?.string } == ["delivered", "delivered", "delivered"])

        // An SMS typed into the SMSC arrives as the customer's reply in the same conversation.
        smsc.send("\(Self.customer) \(Self.service) text Thanks, got it")
        try await waitUntil("the reply to join the conversation") {
            let transcript = try await client.call("conversation.get", ["conversationId": .string(conversation)])
            return (transcript["messages"]?.array ?? []).contains {
                $0["direction"]?.string == "inbound" && $0["text"]?.string == "Thanks, got it"
            }
        }
        // HELP is answered by the daemon itself, and the connector sends the answer like any other.
        smsc.send("\(Self.customer) \(Self.service) text HELP")
        let help = Array(OptOutConfigured.builtIn.helpText.utf8)
        try await waitUntil("the help text to reach the SMSC") {
            smsc.lines.contains { FakeSMSC.part($0)?.payload == help }
        }
        kill(connector.process.processIdentifier, SIGTERM)
        try await waitUntil("parley-kannel to stop") { !connector.process.isRunning }
        #expect(connector.process.terminationStatus == 0, "\(connector.stderr.wholeText())")
        _ = await daemon.stop()
    }

    @Test(
        "Kannel down: messages stay queued and go once it is back; reports of types 2 and 16 on the signed URL fail them; forged reports and refused sends"
    )
    func faults() async throws {
        let setup = try await Setup()
        let (daemon, lab) = (setup.daemon, setup.lab)
        try await lab.stopSmsbox()
        let connector = try setup.connector()
        let client = ParleyClient(path: daemon.socket)
        defer { Task { await client.close() } }
        try await client.call("agent.login", ["agentId": "alice", "state": "Ready"])
        var sent: [(message: String, conversation: String)] = []
        for (i, text) in ["Undelivered, as the SMSC will say", "Rejected by the SMSC", "Sent once Kannel is back"]
            .enumerated()
        {
            let answer = try await client.call(
                "sms.send",
                [
                    "agentId": "alice", "serviceId": "support", "customerNumber": .string("+155577700\(i)0"),
                    "text": .string(text),
                ])
            sent.append((answer["messageId"]?.string ?? "", answer["conversationId"]?.string ?? ""))
        }
        func message(_ i: Int) async throws -> JSONValue? {
            let transcript = try await client.call(
                "conversation.get", ["conversationId": .string(sent[i].conversation)])
            return transcript["messages"]?.array?.first
        }
        // Kannel unreachable: every message is submitted, retried, and stays queued.
        try await waitUntil("the connector to retry against a Kannel that is down") {
            connector.stderr.text.contains("kannel.send.retry")
        }
        for i in sent.indices {
            try await waitUntil("message \(i) to be submitted") { try await message(i)?["submission"] != nil }
            #expect(try await message(i)?["status"]?.string == "queued")
        }

        // The SMSC's reports on the URLs the connector signs: 2 is undelivered, 16 (rejected) failed.
        let signer = try #require(CallbackSigner(secret: Array("0123456789abcdef0123456789abcdef".utf8)))
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        defer { _ = http.shutdown() }
        func report(_ i: Int, type: Int, reply: String, forged: Bool = false) async throws -> UInt {
            let reference = KannelSubmission.reference(
                connector: "kannel", messageId: sent[i].message, attempt: 1, part: 1)
            let signature = signer.signature(
                KannelConnector.signedReport(messageId: sent[i].message, part: 1, reference: reference))
            let query = [
                "msg=" + PercentEncoding.encode(sent[i].message.utf8), "part=1",
                "ref=" + PercentEncoding.encode(reference.utf8),
                "sig=" + (forged ? String(signature.reversed()) : signature),
                "type=\(type)", "smsc=smsc-\(i)", "reply=" + PercentEncoding.encode(reply.utf8),
            ]
            let request = HTTPClientRequest(
                url: "http://127.0.0.1:\(lab.callbackPort)/kannel/dlr?" + query.joined(separator: "&"))
            return try await http.execute(request, timeout: .seconds(Int64(Patience.seconds))).status.code
        }
        let head = try await client.call("log.head")["position"]
        #expect(try await report(0, type: 2, reply: "NACK", forged: true) == 403)
        #expect(try await client.call("log.head")["position"] == head, "a forged report records nothing")
        #expect(try await report(0, type: 2, reply: "Undeliverable") == 200)
        #expect(try await report(1, type: 16, reply: "NACK/0x0000000b/Invalid Destination Address") == 200)
        #expect(try await message(0)?["status"]?.string == "undelivered")
        #expect(try await message(1)?["status"]?.string == "failed")
        #expect(try await message(1)?["statusDetail"]?.string?.contains("Invalid Destination Address") == true)

        // Kannel back: the message that waited goes through and is delivered; none was lost.
        try await lab.startSmsbox()
        try await waitUntil("the waiting message to be delivered") {
            try await message(2)?["status"]?.string == "delivered"
        }
        kill(connector.process.processIdentifier, SIGTERM)
        try await waitUntil("parley-kannel to stop") { !connector.process.isRunning }

        // Kannel refusing the connector (a wrong sendsms password: HTTP 403) past --max-refusals:
        // the message is reported failed with Kannel's answer.
        try "not-the-password\n".write(toFile: setup.passwordFile, atomically: true, encoding: .utf8)
        let refused = try setup.connector(maxRefusals: 1)
        let answer = try await client.call(
            "sms.send",
            ["agentId": "alice", "serviceId": "support", "customerNumber": "+15557770090", "text": "Refused by Kannel"])
        sent.append((answer["messageId"]?.string ?? "", answer["conversationId"]?.string ?? ""))
        try await waitUntil("the refused message to fail (\(refused.stderr.text))") {
            try await message(3)?["status"]?.string == "failed"
        }
        #expect(try await message(3)?["statusDetail"]?.string?.contains("Kannel answered HTTP 4") == true)
        kill(refused.process.processIdentifier, SIGTERM)
        try await waitUntil("parley-kannel to stop") { !refused.process.isRunning }
        _ = await daemon.stop()
    }
}

/// A TCP port nothing listens on now.
func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
        }
    }
    guard bound else { throw LabFailed(what: "no free port") }
    return Int(UInt16(bigEndian: address.sin_port))
}

func connectTCP(port: Int) throws -> Int32 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = UInt16(port).bigEndian
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
        }
    }
    guard connected else {
        close(fd)
        throw LabFailed(what: "cannot connect to port \(port)")
    }
    return fd
}

func canConnect(port: Int) -> Bool {
    guard let fd = try? connectTCP(port: port) else { return false }
    close(fd)
    return true
}

/// A plain HTTP/1.0 GET on loopback; the body.
func httpGet(port: Int, path: String) throws -> String {
    let fd = try connectTCP(port: port)
    defer { close(fd) }
    let request = Array("GET \(path) HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n".utf8)
    _ = request.withUnsafeBytes { write(fd, $0.baseAddress, request.count) }
    var response: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = read(fd, &chunk, chunk.count)
        if n <= 0 { break }
        response += chunk[0..<n]
    }
    return String(decoding: response, as: UTF8.self)
}

/// The messages a round of ``KannelThroughput`` sends: `PARLEY_KANNEL_BENCH`, 0 (skipped) unless set.
let kannelBenchCount = Int(ProcessInfo.processInfo.environment["PARLEY_KANNEL_BENCH"] ?? "") ?? 0
/// The connector's `--concurrency` in ``KannelThroughput``: `PARLEY_KANNEL_BENCH_CONCURRENCY`, else 8.
let kannelBenchConcurrency = Int(ProcessInfo.processInfo.environment["PARLEY_KANNEL_BENCH_CONCURRENCY"] ?? "") ?? 8

/// Messages through Kannel per second, Parley's connector against Kannel alone: run with
/// `PARLEY_KANNEL_BENCH=N swift test --filter KannelThroughput` (not in `make test`; it
/// asserts nothing about speed, it prints the figures).
@Suite("Kannel throughput", .serialized, .enabled(if: kannelBenchCount > 0))
struct KannelThroughput {
    static let count = kannelBenchCount

    @Test("N one-part messages: straight to sendsms, then sent in parleyd and delivered through parley-kannel")
    func throughput() async throws {
        let setup = try await KannelConnectorTests.Setup()
        let (daemon, smsc, lab) = (setup.daemon, setup.smsc, setup.lab)
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        defer { _ = http.shutdown() }
        var rounds: [(kannel: Double, parley: Double)] = []
        let client = ParleyClient(path: daemon.socket)
        defer { Task { await client.close() } }
        try await client.call("agent.login", ["agentId": "alice", "state": "Ready"])
        for round in 0..<3 {
            // Kannel alone: sendsms requests, 8 at a time, until the SMSC has them all.
            var start = ContinuousClock.now
            var before = smsc.lines.count
            try await withThrowingTaskGroup(of: Void.self) { group in
                for i in 0..<Self.count {
                    if i >= 8 { try await group.next() }
                    group.addTask {
                        let query =
                            "username=parley&password=lab-password&from=%2B15550100100&to=%2B1555800\(String(format: "%04d", i))&text=Baseline+\(round)+\(i)"
                        _ = try await http.execute(
                            HTTPClientRequest(url: "http://127.0.0.1:\(lab.sendsmsPort)/cgi-bin/sendsms?" + query),
                            timeout: .seconds(60))
                    }
                }
                try await group.waitForAll()
            }
            try await waitUntil("the baseline to reach the SMSC") { smsc.lines.count >= before + Self.count }
            let kannel = Double(Self.count) / (ContinuousClock.now - start).seconds

            // Parley: sms.send, then the connector, until every part reached the SMSC.
            let connector = try setup.connector(rate: 0, concurrency: kannelBenchConcurrency)
            before = smsc.lines.count
            start = ContinuousClock.now
            try await withThrowingTaskGroup(of: Void.self) { group in
                for i in 0..<Self.count {
                    if i >= 8 { try await group.next() }
                    group.addTask {
                        try await client.call(
                            "sms.send",
                            [
                                "agentId": "alice", "serviceId": "support",
                                "customerNumber": .string("+1555900\(String(format: "%04d", i))"),
                                "text": .string("Parley \(round) \(i)"),
                            ])
                    }
                }
                try await group.waitForAll()
            }
            try await waitUntil("every message to reach the SMSC") { smsc.lines.count >= before + Self.count }
            let parley = Double(Self.count) / (ContinuousClock.now - start).seconds
            kill(connector.process.processIdentifier, SIGTERM)
            try await waitUntil("parley-kannel to stop") { !connector.process.isRunning }
            rounds.append((kannel, parley))
            print(
                String(
                    format: "kannel throughput round %d: Kannel alone %.0f msg/s, through Parley %.0f msg/s (%.2fx)",
                    round, kannel, parley, parley / kannel))
        }
        let kannel = rounds.map(\.kannel).sorted()[1]
        let parley = rounds.map(\.parley).sorted()[1]
        print(
            String(
                format:
                    "kannel throughput, medians of 3: Kannel alone %.0f msg/s, through Parley %.0f msg/s (%.2fx), %d messages a round, connector concurrency %d",
                kannel, parley, parley / kannel, Self.count, kannelBenchConcurrency))
        _ = await daemon.stop()
    }
}

extension Duration {
    var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
