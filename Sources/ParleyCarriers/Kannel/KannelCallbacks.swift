public import Hummingbird
public import Logging
public import ParleyClient
import ParleyProtocol

/// The Kannel connector's inbound half: the HTTP callbacks Kannel calls.
///
/// - `GET /kannel/dlr`: a delivery report for one part, on the URL the connector gave with the
///   part (`msg`, `part`, `ref`, `sig`, and Kannel's `type`, `smsc`, `reply`). Only a URL the
///   connector signed is accepted; its type becomes the part's status (``KannelReport``), with
///   the SMSC's message id, when the report has one, as a reference of the part.
/// - `GET /kannel/mo`: an inbound SMS from Kannel's `sms-service` (`key`, `from`, `to`, `text`,
///   `coding`, `charset`, `id`); `key` must be ``inboundKey``. It becomes `carrier.inbound`
///   with Kannel's id as reference and idempotency key, so a repeat appends nothing.
///
/// Each answers 200 once the daemon recorded the report, 403 for a bad signature or key, 400
/// for a request it cannot read, and 503 when the daemon could not be reached (Kannel retries).
public struct KannelCallbacks: Sendable {
    let client: ParleyClient
    let signer: CallbackSigner
    let logger: Logger

    /// Callbacks reporting through `client`.
    public init(client: ParleyClient, signer: CallbackSigner, logger: Logger) {
        self.client = client
        self.signer = signer
        self.logger = logger
    }

    /// The `key` of the `sms-service` URL: derived from the secret, so the URL holds no secret.
    public var inboundKey: String { signer.signature("inbound") }

    /// The routes.
    public func router() -> Hummingbird.Router<BasicRequestContext> {
        let router = Hummingbird.Router()
        router.get("kannel/dlr") { request, _ in await self.deliveryReport(request.uri.query ?? "") }
        router.get("kannel/mo") { request, _ in await self.inbound(request.uri.query ?? "") }
        return router
    }

    /// Handles a delivery report's query.
    public func deliveryReport(_ query: String) async -> Response {
        guard let items = PercentEncoding.queryItems(query[...]) else {
            return Self.answer(.badRequest, "malformed query")
        }
        func text(_ name: String) -> String? { items[name].map { String(decoding: $0, as: UTF8.self) } }
        guard let messageId = text("msg"), let partText = text("part"), let part = Int(partText),
            let reference = text("ref"), let signature = items["sig"]
        else { return Self.answer(.badRequest, "msg, part, ref and sig are required") }
        guard
            signer.verify(
                signature, for: KannelConnector.signedReport(messageId: messageId, part: part, reference: reference))
        else {
            logger.warning("kannel.dlr.forged", metadata: ["messageId": "\(messageId)"])
            return Self.answer(.forbidden, "bad signature")
        }
        guard let type = text("type").flatMap({ Int($0) }), let status = KannelReport.status(type: type) else {
            return Self.answer(.badRequest, "unknown report type \(text("type") ?? "(none)")")
        }
        var params: [String: JSONValue] = [
            "messageId": .string(messageId), "part": .integer(Int64(part)), "status": .string(status.rawValue),
        ]
        // The SMSC's message id for the part (fakesmsc and some SMSCs give none on type 8).
        if let smscId = text("smsc"), !smscId.isEmpty { params["carrierReference"] = .string(smscId) }
        if let reply = text("reply"), !reply.isEmpty { params["detail"] = .string(String(reply.prefix(200))) }
        return await record("carrier.status", params, what: "kannel.dlr", messageId: messageId)
    }

    /// Handles an inbound SMS's query.
    public func inbound(_ query: String) async -> Response {
        guard let items = PercentEncoding.queryItems(query[...]) else {
            return Self.answer(.badRequest, "malformed query")
        }
        guard let key = items["key"], signer.verify(key, for: "inbound") else {
            logger.warning("kannel.mo.forbidden")
            return Self.answer(.forbidden, "bad key")
        }
        let message: KannelInbound
        do {
            message = try KannelInbound(items: items)
        } catch {
            logger.warning("kannel.mo.unreadable", metadata: ["reason": "\(error.reason)"])
            return Self.answer(.badRequest, error.reason)
        }
        let params: [String: JSONValue] = [
            "from": .string(message.from), "to": .string(message.to), "text": .string(message.text),
            "carrierReference": .string(message.id), "idempotencyKey": .string("kannel:" + message.id),
        ]
        return await record("carrier.inbound", params, what: "kannel.mo", messageId: message.id)
    }

    private func record(_ method: String, _ params: [String: JSONValue], what: String, messageId: String) async
        -> Response
    {
        do {
            try await client.call(method, params)
            return Self.answer(.ok, "ok")
        } catch {
            if let remote = error.remote, !remote.retryable {
                // A report the daemon will never take (an unknown message, a bad number): asking
                // again would not help.
                logger.warning("\(what).refused", metadata: ["id": "\(messageId)", "error": "\(remote)"])
                return Self.answer(.ok, "refused: \(remote.type)")
            }
            logger.error("\(what).failed", metadata: ["id": "\(messageId)", "error": "\(error)"])
            return Self.answer(.serviceUnavailable, "the daemon is unavailable")
        }
    }

    private static func answer(_ status: HTTPResponse.Status, _ text: String) -> Response {
        Response(
            status: status, headers: [.contentType: "text/plain; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: text + "\n")))
    }
}
