import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import ParleyCarriers
import ParleyClient
import ParleyProtocol
import ServiceLifecycle
import Synchronization
import Testing

/// A stand-in for Twilio's REST API that exists only in this test: the Messages resource of
/// one account, on loopback. It answers the first request 503 (the connector must retry), a
/// `To` of ``invalidNumber`` with Twilio's error 21211, and the rest 201 with a new sid.
final class TwilioStandIn: Sendable {
    static let accountSid = "AC0123456789abcdef0123456789abcdef"
    static let token = "lab-auth-token-0123456789"
    static let invalidNumber = "+15559990000"

    let port: Int
    /// Each request's form, in the order they came.
    let requests = Recorder()
    private let group: ServiceGroup

    init() throws {
        port = try freePort()
        let router = Hummingbird.Router()
        let requests = self.requests
        let expected = "Basic " + Data("\(Self.accountSid):\(Self.token)".utf8).base64EncodedString()
        router.post("2010-04-01/Accounts/:account/Messages.json") { request, context -> Response in
            let body = String(buffer: try await request.body.collect(upTo: 1 << 16))
            guard context.parameters.get("account") == Self.accountSid, request.headers[.authorization] == expected
            else { return Self.json(.unauthorized, #"{"code":20003,"message":"Authenticate","status":401}"#) }
            let form = TwilioForm.decode(body) ?? []
            let count = requests.forms.withLock { requests in
                requests.append(form)
                return requests.count
            }
            if count == 1 {
                return Self.json(.serviceUnavailable, #"{"code":20500,"message":"Internal Server Error"}"#)
            }
            if form.contains(where: { $0 == ("To", Self.invalidNumber) }) {
                return Self.json(
                    .badRequest,
                    #"{"code":21211,"message":"The 'To' number \#(Self.invalidNumber) is not a valid phone number.","status":400}"#
                )
            }
            return Self.json(.created, #"{"sid":"SM\#(count)","status":"queued"}"#)
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)))
        group = ServiceGroup(configuration: .init(services: [app], logger: Logger(label: "twilio-stand-in")))
        let group = group
        Task { try await group.run() }
    }

    func stop() async { await group.triggerGracefulShutdown() }

    /// The forms of the requests sent to `to`.
    func forms(to number: String) -> [[String: String]] {
        requests.forms.withLock { requests in
            requests.filter { $0.contains { $0 == ("To", number) } }.map {
                Dictionary($0, uniquingKeysWith: { a, _ in a })
            }
        }
    }

    private static func json(_ status: HTTPResponse.Status, _ body: String) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }
}

/// What a stand-in was sent.
final class Recorder: Sendable {
    let forms = Mutex<[[(String, String)]]>([])
}

/// Signatures made by Twilio's own helper library (tools/twilio-sign, in the virtual
/// environment tools/setup creates).
enum TwilioHelperLibrary {
    static let root: String = {
        var root = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { root.deleteLastPathComponent() }
        return root.path
    }()

    /// The `X-Twilio-Signature` of each request (token, URL, parameters).
    static func signatures(_ requests: [(token: String, url: String, parameters: [(String, String)])]) async throws
        -> [String]
    {
        let python = root + "/.venv/bin/python"
        guard FileManager.default.isExecutableFile(atPath: python) else {
            throw LabFailed(what: "no \(python): run tools/setup")
        }
        let json = JSONValue.array(
            requests.map { request in
                [
                    "token": .string(request.token), "url": .string(request.url),
                    "params": .array(request.parameters.map { [.string($0.0), .string($0.1)] }),
                ]
            })
        let (process, stdout, stderr) = try ChildProcess.spawnCapturing(
            python, [root + "/tools/twilio-sign", json.jsonText])
        let output = OutputCollector(stdout)
        let errors = OutputCollector(stderr)
        try await waitUntil("tools/twilio-sign") { !process.isRunning }
        let answer = try JSONParser.parse(Array(output.wholeText().utf8))
        let signatures: [String] = (answer.array ?? []).compactMap { $0.string }
        guard process.terminationStatus == 0, signatures.count == requests.count else {
            throw LabFailed(what: "tools/twilio-sign failed: \(errors.wholeText())")
        }
        return signatures
    }
}

@Suite("Twilio connector, against a stand-in for the REST API", .serialized)
struct TwilioConnectorTests {
    static let customer = "+15557654321"
    static let service = "+15550100100"
    /// The public URL the connector is told Twilio calls it at; the test signs for it.
    static let publicURL = "http://parley.test"

    @Test(
        "messages are created at Twilio and accepted, a refused one fails, signed callbacks in any order deliver, forged ones are refused, an inbound MMS joins the conversation"
    )
    func endToEnd() async throws {
        let dir = try TemporaryDirectory()
        let daemon = try await DaemonProcess(directory: dir.path)
        let api = try TwilioStandIn()
        let tokenFile = dir.path + "/token"
        try (TwilioStandIn.token + "\n").write(toFile: tokenFile, atomically: true, encoding: .utf8)
        let port = try freePort()
        let executable = URL(fileURLWithPath: try DaemonProcess.executable()).deletingLastPathComponent()
            .appendingPathComponent("parley-twilio").path
        let (connector, errors) = try ChildProcess.spawn(
            executable,
            [
                "--socket", daemon.socket, "--account-sid", TwilioStandIn.accountSid, "--auth-token-file", tokenFile,
                "--api-base", "http://127.0.0.1:\(api.port)", "--listen", "127.0.0.1:\(port)", "--public-url",
                Self.publicURL, "--rate", "0",
            ])
        let connectorLog = OutputCollector(errors)
        defer { if connector.isRunning { kill(connector.processIdentifier, SIGKILL) } }

        let client = ParleyClient(path: daemon.socket)
        defer { Task { await client.close() } }
        try await client.call("agent.login", ["agentId": "alice", "state": "Ready"])
        func send(_ to: String, _ text: String) async throws -> (message: String, conversation: String) {
            let sent = try await client.call(
                "sms.send",
                ["agentId": "alice", "serviceId": "support", "customerNumber": .string(to), "text": .string(text)])
            return (sent["messageId"]?.string ?? "", sent["conversationId"]?.string ?? "")
        }
        func message(_ sent: (message: String, conversation: String)) async throws -> JSONValue? {
            let transcript = try await client.call("conversation.get", ["conversationId": .string(sent.conversation)])
            return (transcript["messages"]?.array ?? []).first { $0["messageId"]?.string == sent.message }
        }
        let text = "Your order ships today 😀 — reply here with questions"
        let good = try await send(Self.customer, text)
        let bad = try await send(TwilioStandIn.invalidNumber, "Hello")

        // Created at Twilio exactly as sent (after the stand-in's first 503), and accepted.
        try await waitUntil("Twilio to accept the message (\(connectorLog.text))") {
            try await message(good)?["carrierReferences"]?.array?.isEmpty == false
        }
        let form = try #require(api.forms(to: Self.customer).last)
        #expect(form["Body"] == text)
        #expect(form["From"] == Self.service)
        #expect(form["StatusCallback"] == Self.publicURL + "/twilio/status?msg=" + good.message)
        let sid = try #require(try await message(good)?["carrierReferences"]?.array?.first?.string)
        #expect(try await message(good)?["status"]?.string == "queued")

        // Refused by Twilio: failed, with Twilio's code and sentence.
        try await waitUntil("the refused message to fail") { try await message(bad)?["status"]?.string == "failed" }
        #expect(try await message(bad)?["statusDetail"]?.string?.contains("21211") == true)
        #expect(api.requests.forms.withLock { $0.count } == 3, "two messages, one of them tried again after the 503")

        // Status callbacks signed by Twilio's helper library, out of order and repeated.
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        defer { _ = http.shutdown() }
        func post(_ path: String, _ parameters: [(String, String)], signature: String?) async throws -> (Int, String) {
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)" + path)
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
            if let signature { request.headers.add(name: "X-Twilio-Signature", value: signature) }
            request.body = .bytes(ByteBuffer(string: TwilioForm.encode(parameters)))
            let response = try await http.execute(request, timeout: .seconds(Int64(Patience.seconds)))
            return (Int(response.status.code), String(buffer: try await response.body.collect(upTo: 1 << 16)))
        }
        let statusPath = "/twilio/status?msg=" + good.message
        let callbacks: [[(String, String)]] = ["delivered", "sent", "sending", "delivered"].map {
            [("MessageSid", sid), ("MessageStatus", $0), ("AccountSid", TwilioStandIn.accountSid)]
        }
        let inbound: [(String, String)] = [
            ("From", Self.customer), ("To", Self.service), ("Body", "Got it — thanks!"), ("MessageSid", "MM900"),
            ("NumMedia", "1"), ("MediaContentType0", "image/jpeg"),
            (
                "MediaUrl0",
                "https://api.twilio.com/2010-04-01/Accounts/\(TwilioStandIn.accountSid)/Messages/MM900/Media/ME1"
            ),
            ("AccountSid", TwilioStandIn.accountSid),
        ]
        let signatures = try await TwilioHelperLibrary.signatures(
            callbacks.map { (TwilioStandIn.token, Self.publicURL + statusPath, $0) } + [
                // The inbound webhook signed for the URL with its default port: accepted too.
                (TwilioStandIn.token, "http://parley.test:80/twilio/sms", inbound),
                (TwilioStandIn.token, Self.publicURL + statusPath, [("MessageSid", sid), ("MessageStatus", "failed")]),
                ("another-account-token", Self.publicURL + "/twilio/sms", inbound),
            ])
        for (callback, signature) in zip(callbacks, signatures) {
            #expect(try await post(statusPath, callback, signature: signature).0 == 200)
        }
        try await waitUntil("the message to be delivered") {
            try await message(good)?["status"]?.string == "delivered"
        }

        // Forged: no signature, another account's, a signature for other parameters. Each is
        // refused with 403 and appends nothing.
        let head = try await client.call("log.head")["position"]
        let undelivered = [("MessageSid", sid), ("MessageStatus", "undelivered")]
        #expect(try await post(statusPath, undelivered, signature: nil).0 == 403)
        #expect(try await post(statusPath, undelivered, signature: signatures[5]).0 == 403)
        #expect(try await post("/twilio/sms", inbound, signature: signatures[6]).0 == 403)
        #expect(try await post("/twilio/sms", inbound, signature: "").0 == 403)
        #expect(try await client.call("log.head")["position"] == head, "a forged callback records nothing")
        #expect(try await message(good)?["status"]?.string == "delivered")

        // An inbound MMS, twice (Twilio retries): one reply in the conversation, with its medium.
        for _ in 0..<2 {
            let (status, body) = try await post("/twilio/sms", inbound, signature: signatures[4])
            #expect(status == 200)
            #expect(body.contains("<Response/>"), "empty TwiML, so Twilio texts nothing back: \(body)")
        }
        let transcript = try await client.call("conversation.get", ["conversationId": .string(good.conversation)])
        let replies = (transcript["messages"]?.array ?? []).filter { $0["direction"]?.string == "inbound" }
        #expect(replies.count == 1)
        #expect(replies.first?["text"]?.string == "Got it — thanks!")
        #expect(replies.first?["attachments"]?.array?.first?["contentType"]?.string == "image/jpeg")

        kill(connector.processIdentifier, SIGTERM)
        try await waitUntil("parley-twilio to stop") { !connector.isRunning }
        #expect(connector.terminationStatus == 0, "\(connectorLog.wholeText())")
        await api.stop()
        _ = await daemon.stop()
    }
}
