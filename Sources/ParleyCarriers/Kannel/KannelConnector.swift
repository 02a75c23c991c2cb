public import AsyncHTTPClient
import Foundation
public import Logging
public import ParleyClient
import ParleyProtocol

/// The Kannel connector's outbound half: every message the daemon owes a carrier, submitted to
/// Kannel's `sendsms` part by part under the connector contract.
///
/// For each message it records the submission (`carrier.submit`), sends each part Kannel has
/// not accepted yet (paced to ``KannelConfiguration/partsPerSecond``) with its coding, header,
/// `dlr-mask` and a signed `dlr-url`, and records each part's acceptance at once
/// (`carrier.status` with `part`, status `queued`, the part's reference). A Kannel that is down
/// or answers 5xx is retried with backoff until it answers (the message stays `queued`); a part
/// Kannel refuses ``KannelConfiguration/maxRefusals`` times is reported `failed` with Kannel's
/// answer, which fails the message.
public final class KannelConnector: OutboundConnector {
    let configuration: KannelConfiguration
    let http: HTTPClient
    let signer: CallbackSigner
    let logger: Logger
    let pump: OutboundPump
    private let pacer: Pacer

    /// A connector over `client` and `http`; neither is closed by it.
    public init(
        configuration: KannelConfiguration, client: ParleyClient, http: HTTPClient, signer: CallbackSigner,
        logger: Logger
    ) {
        self.configuration = configuration
        self.http = http
        self.signer = signer
        self.logger = logger
        pump = OutboundPump(
            client: client, connector: configuration.connector, concurrency: configuration.concurrency, logger: logger)
        pacer = Pacer(perSecond: configuration.partsPerSecond)
    }

    /// Submits what is owed, then every new message, until ``stop()``.
    /// - Throws: a refusal of the contract's queries (the connection lacks the carrier role).
    public func run() async throws {
        try await pump.run { await self.submit($0) }
    }

    /// Stops taking messages; a part being sent still has its acceptance recorded.
    public func stop() { pump.stop() }

    /// Records the submission of `message` and sends the parts Kannel has not accepted.
    func submit(_ message: OutboundMessage) async {
        guard let attempt = await pump.recordSubmission(message) else { return }
        for part in KannelSubmission.parts(of: message.text, messageId: message.messageId)
        where !message.acceptedParts.contains(part.number) {
            let reference = KannelSubmission.reference(
                connector: configuration.connector, messageId: message.messageId, attempt: attempt, part: part.number)
            var report: [String: JSONValue] = [
                "messageId": .string(message.messageId), "part": .integer(Int64(part.number)),
            ]
            switch await send(part, of: message, reference: reference) {
            case .accepted:
                report["carrierReference"] = .string(reference)
                report["status"] = "queued"
            case .refused(let reason):
                report["status"] = "failed"
                report["detail"] = .string(reason)
            case .stopped:
                return
            }
            guard await pump.report(report) else { return }
            if report["status"] == "failed" {
                logger.warning(
                    "kannel.part.failed",
                    metadata: [
                        "messageId": "\(message.messageId)", "part": "\(part.number)",
                        "detail": "\(report["detail"]?.string ?? "")",
                    ])
                return
            }
        }
    }

    /// Sends one part until Kannel accepts it, refuses it for good, or the connector stops.
    func send(_ part: KannelPart, of message: OutboundMessage, reference: String) async -> SendOutcome {
        let url = sendsmsURL(part, of: message, reference: reference)
        let policy = RetryPolicy(maxRefusals: configuration.maxRefusals, maxPause: configuration.maxBackoff)
        return await policy.run(
            pacer: pacer, isStopping: { pump.isStopping },
            onRetry: { problem, pause in
                logger.warning(
                    "kannel.send.retry",
                    metadata: [
                        "messageId": "\(message.messageId)", "part": "\(part.number)", "problem": "\(problem)",
                        "pause": "\(pause)",
                    ])
            }
        ) {
            do {
                let response = try await http.execute(
                    HTTPClientRequest(url: url), timeout: .nanoseconds(configuration.requestTimeout.nanoseconds))
                let body = try await response.body.collect(upTo: 4096)
                let answer = String(buffer: body).trimmingCharacters(in: .whitespacesAndNewlines)
                let code = response.status.code
                if code == 200 || code == 202 { return .accepted(reference: nil) }
                let problem = "Kannel answered HTTP \(code) \(answer)"
                return (400..<500).contains(code) ? .refused(problem) : .unavailable(problem)
            } catch {
                return .unavailable("Kannel unreachable: \(error)")
            }
        }
    }

    /// The `sendsms` request of one part; its `dlr-url` names the message, the part and its
    /// reference, signed, for Kannel to fill in the report's type, SMSC id and answer.
    func sendsmsURL(_ part: KannelPart, of message: OutboundMessage, reference: String) -> String {
        let callback =
            configuration.callbackURL + "/kannel/dlr?"
            + [
                "msg=" + PercentEncoding.encode(message.messageId.utf8),
                "part=\(part.number)",
                "ref=" + PercentEncoding.encode(reference.utf8),
                "sig="
                    + signer.signature(
                        Self.signedReport(messageId: message.messageId, part: part.number, reference: reference)),
                "type=%d", "smsc=%F", "reply=%A",
            ].joined(separator: "&")
        var query: [(String, [UInt8])] = [
            ("username", Array(configuration.username.utf8)), ("password", Array(configuration.password.utf8)),
            ("from", Array(message.from.utf8)), ("to", Array(message.to.utf8)),
            ("text", part.text), ("coding", Array("\(part.coding)".utf8)), ("charset", Array(part.charset.utf8)),
            ("dlr-mask", Array("\(KannelReport.mask)".utf8)), ("dlr-url", Array(callback.utf8)),
        ]
        if let udh = part.udh { query.append(("udh", udh)) }
        if let smsc = configuration.smsc { query.append(("smsc", Array(smsc.utf8))) }
        return configuration.sendsmsURL + "?"
            + query.map { $0.0 + "=" + PercentEncoding.encode($0.1) }.joined(separator: "&")
    }

    /// The text a delivery-report URL's signature covers.
    public static func signedReport(messageId: String, part: Int, reference: String) -> String {
        "dlr\n\(messageId)\n\(part)\n\(reference)"
    }
}
