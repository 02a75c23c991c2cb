public import AsyncHTTPClient
import Foundation
public import Logging
import NIOCore
public import ParleyClient
import ParleyProtocol

/// The Twilio connector's outbound half: every message the daemon owes a carrier, created with
/// Twilio's Messages API under the connector contract.
///
/// For each message it records the submission (`carrier.submit`), posts `To`, `From` (or
/// `MessagingServiceSid`), `Body` and a `StatusCallback` naming the message, and records the
/// acceptance at once (`carrier.status` `queued` with Twilio's `sid` as reference). Twilio
/// splits and encodes the text itself, so a message is one reference, not parts.
///
/// Twilio unreachable, answering 5xx or 429 (too many requests), or refusing the credentials
/// (401, 403: an operator's mistake, not the message's) is retried with backoff until it
/// answers, the message staying `queued`. Any other 4xx is Twilio refusing the message itself
/// (an invalid `To`, say: error 21211): the message is reported `failed` with Twilio's code
/// and sentence.
public final class TwilioConnector: OutboundConnector {
    let configuration: TwilioConfiguration
    let http: HTTPClient
    let logger: Logger
    let pump: OutboundPump
    private let pacer: Pacer
    private let authorization: String

    /// A connector over `client` and `http`; neither is closed by it.
    public init(configuration: TwilioConfiguration, client: ParleyClient, http: HTTPClient, logger: Logger) {
        self.configuration = configuration
        self.http = http
        self.logger = logger
        pump = OutboundPump(
            client: client, connector: configuration.connector, concurrency: configuration.concurrency, logger: logger)
        pacer = Pacer(perSecond: configuration.messagesPerSecond)
        authorization =
            "Basic " + Data("\(configuration.accountSid):\(configuration.authToken)".utf8).base64EncodedString()
    }

    /// Sends what is owed, then every new message, until ``stop()``.
    public func run() async throws {
        try await pump.run { await self.submit($0) }
    }

    /// Stops taking messages; a message being sent still has its acceptance recorded.
    public func stop() { pump.stop() }

    /// Records the submission of `message`, creates it at Twilio, and records what came of it.
    func submit(_ message: OutboundMessage) async {
        guard await pump.recordSubmission(message) != nil else { return }
        let body = TwilioForm.encode(form(for: message))
        let policy = RetryPolicy(maxRefusals: 0, maxPause: configuration.maxBackoff)
        let outcome = await policy.run(
            pacer: pacer, isStopping: { pump.isStopping },
            onRetry: { problem, pause in
                logger.warning(
                    "twilio.send.retry",
                    metadata: ["messageId": "\(message.messageId)", "problem": "\(problem)", "pause": "\(pause)"])
            }
        ) { await create(body) }
        var report: [String: JSONValue] = ["messageId": .string(message.messageId)]
        switch outcome {
        case .accepted(let sid):
            report["status"] = "queued"
            if let sid { report["carrierReference"] = .string(sid) }
        case .refused(let reason):
            report["status"] = "failed"
            report["detail"] = .string(reason)
            logger.warning(
                "twilio.message.failed", metadata: ["messageId": "\(message.messageId)", "detail": "\(reason)"])
        case .stopped:
            return
        }
        _ = await pump.report(report)
    }

    /// The Messages API's parameters for `message`.
    func form(for message: OutboundMessage) -> [(String, String)] {
        var form = [("To", message.to), ("Body", message.text)]
        if let service = configuration.messagingServiceSid {
            form.append(("MessagingServiceSid", service))
        } else {
            form.append(("From", message.from))
        }
        form.append(
            ("StatusCallback", TwilioCallbacks.statusURL(base: configuration.publicURL, messageId: message.messageId)))
        return form
    }

    /// One `POST` to the Messages resource.
    func create(_ body: String) async -> CarrierAnswer {
        var request = HTTPClientRequest(url: configuration.messagesURL)
        request.method = .POST
        request.headers.add(name: "Authorization", value: authorization)
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.headers.add(name: "Accept", value: "application/json")
        request.body = .bytes(ByteBuffer(string: body))
        do {
            let response = try await http.execute(
                request, timeout: .nanoseconds(configuration.requestTimeout.nanoseconds))
            let bytes = Array(buffer: try await response.body.collect(upTo: 1 << 20))
            return Self.answer(status: Int(response.status.code), body: bytes)
        } catch {
            return .unavailable("Twilio unreachable: \(error)")
        }
    }

    /// What an answer of the Messages API says: 201 with the message's `sid`, or Twilio's
    /// error (`code`, `message`).
    static func answer(status: Int, body: [UInt8]) -> CarrierAnswer {
        let json = try? JSONParser.parse(body)
        if (200..<300).contains(status) {
            guard let sid = json?["sid"]?.string, !sid.isEmpty else {
                return .unavailable("Twilio answered HTTP \(status) without a sid")
            }
            return .accepted(reference: sid)
        }
        var problem = "Twilio answered HTTP \(status)"
        if let code = json?["code"]?.int64 { problem += ", error \(code)" }
        if let message = json?["message"]?.string { problem += ": \(message)" }
        switch status {
        case 401, 403, 429, 500...: return .unavailable(problem)
        case 400..<500: return .refused(problem)
        default: return .unavailable(problem)
        }
    }
}
