import HTTPTypes
public import Hummingbird
public import Logging
public import ParleyClient
import ParleyProtocol

/// The Twilio connector's inbound half: the webhooks Twilio posts, each taken only with a
/// valid `X-Twilio-Signature` for the URL under ``TwilioConfiguration/publicURL``.
///
/// - `POST /twilio/sms`: the messaging webhook of the account's numbers (an inbound SMS or
///   MMS): `carrier.inbound`, idempotent on `MessageSid`. Answered with an empty TwiML
///   `<Response/>`, so Twilio texts nothing back.
/// - `POST /twilio/status?msg=ID`: the status callback the connector gave with message ID:
///   `carrier.status` with `MessageSid` as reference and `ErrorCode` as detail. Steps that
///   change nothing (`sending`, `queued`) are taken and ignored; repeats and reports out of
///   order are harmless by the daemon's rules.
///
/// Each answers 200 once the daemon recorded it (or refused it for good: asking again would
/// not help), 403 for a missing or wrong signature, recording nothing, 400 for a body it
/// cannot read, and 503 when the daemon could not be reached (Twilio retries).
public struct TwilioCallbacks: Sendable {
    let client: ParleyClient
    let signature: TwilioSignature
    let publicURL: String
    let logger: Logger

    /// The largest webhook body read.
    static let maxBody = 64 * 1024

    /// Callbacks checked against `authToken`'s signatures for URLs under `publicURL`.
    public init(client: ParleyClient, authToken: String, publicURL: String, logger: Logger) {
        self.client = client
        signature = TwilioSignature(authToken: authToken)
        self.publicURL = publicURL
        self.logger = logger
    }

    /// The status callback URL of one message.
    public static func statusURL(base: String, messageId: String) -> String {
        base + "/twilio/status?msg=" + PercentEncoding.encode(messageId.utf8)
    }

    /// The routes.
    public func router() -> Hummingbird.Router<BasicRequestContext> {
        let router = Hummingbird.Router()
        router.post("twilio/sms") { request, _ in await self.handle(request, self.inbound) }
        router.post("twilio/status") { request, _ in await self.handle(request, self.status) }
        return router
    }

    /// Reads and checks a webhook, then hands its parameters (and the URL's query) on.
    private func handle(
        _ request: Request, _ next: ([(String, String)], [String: [UInt8]]) async -> Response
    ) async -> Response {
        let body: String
        do {
            body = String(buffer: try await request.body.collect(upTo: Self.maxBody))
        } catch {
            return Self.answer(.contentTooLarge, "body over \(Self.maxBody) bytes")
        }
        guard let parameters = TwilioForm.decode(body),
            let query = PercentEncoding.queryItems(request.uri.query?[...] ?? "")
        else { return Self.answer(.badRequest, "malformed form") }
        let url = publicURL + request.uri.string
        guard let header = request.headers[.twilioSignature],
            signature.isValid(header, url: url, parameters: parameters)
        else {
            logger.warning("twilio.webhook.forged", metadata: ["path": "\(request.uri.path)"])
            return Self.answer(.forbidden, "bad X-Twilio-Signature")
        }
        return await next(parameters, query)
    }

    /// An inbound SMS or MMS.
    func inbound(_ parameters: [(String, String)], _: [String: [UInt8]]) async -> Response {
        let message: TwilioInbound
        do {
            message = try TwilioInbound(parameters: parameters)
        } catch {
            logger.warning("twilio.inbound.unreadable", metadata: ["reason": "\(error.reason)"])
            return Self.answer(.badRequest, error.reason)
        }
        let answer = await record("carrier.inbound", message.params, what: "twilio.inbound", id: message.messageSid)
        guard answer == .ok else { return Self.answer(answer, "the daemon is unavailable") }
        return Response(
            status: .ok, headers: [.contentType: "text/xml; charset=utf-8"],
            body: ResponseBody(
                byteBuffer: ByteBuffer(string: "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response/>\n")))
    }

    /// A status callback.
    func status(_ parameters: [(String, String)], _ query: [String: [UInt8]]) async -> Response {
        var values: [String: String] = [:]
        for (name, value) in parameters where values[name] == nil { values[name] = value }
        guard let messageId = query["msg"].map({ String(decoding: $0, as: UTF8.self) }), !messageId.isEmpty,
            let sid = values["MessageSid"] ?? values["SmsSid"], let messageStatus = values["MessageStatus"]
        else { return Self.answer(.badRequest, "msg, MessageSid and MessageStatus are required") }
        guard let status = TwilioStatus.status(messageStatus) else { return Self.answer(.ok, "ignored") }
        var params: [String: JSONValue] = [
            "messageId": .string(messageId), "status": .string(status.rawValue), "carrierReference": .string(sid),
        ]
        if let code = values["ErrorCode"], !code.isEmpty { params["detail"] = .string("Twilio error \(code)") }
        let answer = await record("carrier.status", params, what: "twilio.status", id: sid)
        return Self.answer(answer, answer == .ok ? "ok" : "the daemon is unavailable")
    }

    private func record(_ method: String, _ params: [String: JSONValue], what: String, id: String) async
        -> HTTPResponse.Status
    {
        do {
            try await client.call(method, params)
            return .ok
        } catch {
            if let remote = error.remote, !remote.retryable {
                logger.warning("\(what).refused", metadata: ["id": "\(id)", "error": "\(remote)"])
                return .ok
            }
            logger.error("\(what).failed", metadata: ["id": "\(id)", "error": "\(error)"])
            return .serviceUnavailable
        }
    }

    private static func answer(_ status: HTTPResponse.Status, _ text: String) -> Response {
        Response(
            status: status, headers: [.contentType: "text/plain; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: text + "\n")))
    }
}

extension HTTPField.Name {
    /// Twilio's request signature header.
    static let twilioSignature = Self("X-Twilio-Signature")!
}
