public import AsyncHTTPClient
import Foundation
public import Logging
public import ParleyClient
import ParleyProtocol
import Synchronization

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
public final class KannelConnector: Sendable {
    let configuration: KannelConfiguration
    let client: ParleyClient
    let http: HTTPClient
    let signer: CallbackSigner
    let logger: Logger
    private let pacer: Pacer
    /// Whether ``stop()`` was called, and the task following the log, to cancel then.
    private let state = Mutex<(stopping: Bool, following: Task<Void, any Error>?)>((false, nil))

    /// A connector over `client` and `http`; neither is closed by it.
    public init(
        configuration: KannelConfiguration, client: ParleyClient, http: HTTPClient, signer: CallbackSigner,
        logger: Logger
    ) {
        self.configuration = configuration
        self.client = client
        self.http = http
        self.signer = signer
        self.logger = logger
        pacer = Pacer(perSecond: configuration.partsPerSecond)
    }

    /// Submits what is owed, then every new message, until ``stop()``.
    /// - Throws: a refusal of the contract's queries (the connection lacks the carrier role).
    public func run() async throws {
        let (messages, queue) = AsyncStream.makeStream(of: OutboundMessage.self)
        let follower = ConnectorFollower(client: client, connector: configuration.connector, logger: logger)
        let following = Task {
            defer { queue.finish() }
            try await follower.run { queue.yield($0) }
        }
        let stopped = state.withLock { state in
            state.following = following
            return state.stopping
        }
        if stopped { following.cancel() }
        await withTaskGroup(of: Void.self) { group in
            var running = 0
            for await message in messages {
                if isStopping { continue }
                if running >= configuration.concurrency {
                    await group.next()
                    running -= 1
                }
                group.addTask { await self.submit(message) }
                running += 1
            }
        }
        do {
            try await following.value
        } catch is CancellationError {
        } catch ParleyError.closed {}
    }

    /// Stops taking messages; a part being sent still has its acceptance recorded.
    public func stop() {
        let following = state.withLock { state in
            state.stopping = true
            return state.following
        }
        following?.cancel()
    }

    private var isStopping: Bool { state.withLock { $0.stopping } }

    /// Records the submission of `message` and sends the parts Kannel has not accepted.
    func submit(_ message: OutboundMessage) async {
        let id = JSONValue.string(message.messageId)
        let attempt: Int
        do {
            let result = try await client.call(
                "carrier.submit", ["messageId": id, "connector": .string(configuration.connector)])
            attempt = Int(result["attempt"]?.uint64 ?? 1)
        } catch {
            // MessageAlreadyAccepted: another listing of a message already done.
            if error.remote?.type != "MessageAlreadyAccepted" {
                logger.error(
                    "kannel.submit.refused", metadata: ["messageId": "\(message.messageId)", "error": "\(error)"])
            }
            return
        }
        for part in KannelSubmission.parts(of: message.text, messageId: message.messageId)
        where !message.acceptedParts.contains(part.number) {
            if isStopping { return }
            let reference = KannelSubmission.reference(
                connector: configuration.connector, messageId: message.messageId, attempt: attempt, part: part.number)
            var report: [String: JSONValue] = ["messageId": id, "part": .integer(Int64(part.number))]
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
            do {
                try await client.call("carrier.status", report)
            } catch {
                logger.error(
                    "kannel.record.failed",
                    metadata: ["messageId": "\(message.messageId)", "part": "\(part.number)", "error": "\(error)"])
                return
            }
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

    /// What became of one part.
    enum Outcome: Equatable {
        case accepted
        /// Kannel refused it too often; the reason is its last answer.
        case refused(String)
        /// The connector is stopping before Kannel took it.
        case stopped
    }

    /// Sends one part until Kannel accepts it, refuses it for good, or the connector stops.
    func send(_ part: KannelPart, of message: OutboundMessage, reference: String) async -> Outcome {
        let url = sendsmsURL(part, of: message, reference: reference)
        var pause: Duration = .milliseconds(250)
        var refusals = 0
        while true {
            if isStopping { return .stopped }
            do {
                try await pacer.wait()
            } catch {
                return .stopped
            }
            let problem: String
            var refused = false
            do {
                let response = try await http.execute(
                    HTTPClientRequest(url: url), timeout: .nanoseconds(configuration.requestTimeout.nanoseconds))
                let body = try await response.body.collect(upTo: 4096)
                let answer = String(buffer: body).trimmingCharacters(in: .whitespacesAndNewlines)
                let code = response.status.code
                if code == 200 || code == 202 { return .accepted }
                problem = "Kannel answered HTTP \(code) \(answer)"
                refused = (400..<500).contains(code)
            } catch {
                problem = "Kannel unreachable: \(error)"
            }
            if refused {
                refusals += 1
                if refusals > configuration.maxRefusals { return .refused(problem) }
            }
            logger.warning(
                "kannel.send.retry",
                metadata: [
                    "messageId": "\(message.messageId)", "part": "\(part.number)", "problem": "\(problem)",
                    "pause": "\(pause)",
                ])
            do {
                try await Task.sleep(for: pause)
            } catch {
                return .stopped
            }
            pause = min(pause * 2, configuration.maxBackoff)
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
    static func signedReport(messageId: String, part: Int, reference: String) -> String {
        "dlr\n\(messageId)\n\(part)\n\(reference)"
    }
}

extension Duration {
    fileprivate var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
