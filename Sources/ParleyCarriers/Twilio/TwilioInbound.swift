public import ParleyProtocol

/// An inbound SMS or MMS from Twilio's messaging webhook, as `carrier.inbound` takes it.
public struct TwilioInbound: Sendable, Equatable {
    public var from: String
    public var to: String
    public var body: String
    /// Twilio's id for the message (`MessageSid`, or `SmsSid` from older webhooks).
    public var messageSid: String
    /// `MediaUrl{N}` with `MediaContentType{N}`, N from 0 below `NumMedia`.
    public var media: [(url: String, contentType: String)]

    /// What is wrong with a webhook's parameters.
    public struct Unreadable: Error, Equatable {
        public var reason: String
    }

    /// Reads the webhook's parameters.
    /// - Throws: ``Unreadable`` when `From`, `To` or `MessageSid` is missing, or `NumMedia`
    ///   promises media the request does not carry.
    public init(parameters: [(String, String)]) throws(Unreadable) {
        var values: [String: String] = [:]
        for (name, value) in parameters where values[name] == nil { values[name] = value }
        guard let from = values["From"], !from.isEmpty, let to = values["To"], !to.isEmpty else {
            throw Unreadable(reason: "From and To are required")
        }
        guard let sid = values["MessageSid"] ?? values["SmsSid"], !sid.isEmpty else {
            throw Unreadable(reason: "MessageSid is required")
        }
        self.from = from
        self.to = to
        body = values["Body"] ?? ""
        messageSid = sid
        media = []
        let count = Int(values["NumMedia"] ?? "0") ?? -1
        guard (0...10).contains(count) else { throw Unreadable(reason: "NumMedia must be 0 to 10") }
        for index in 0..<count {
            guard let url = values["MediaUrl\(index)"], !url.isEmpty else {
                throw Unreadable(reason: "NumMedia is \(count) but MediaUrl\(index) is missing")
            }
            media.append((url, values["MediaContentType\(index)"] ?? "application/octet-stream"))
        }
    }

    public static func == (a: TwilioInbound, b: TwilioInbound) -> Bool {
        a.from == b.from && a.to == b.to && a.body == b.body && a.messageSid == b.messageSid
            && a.media.map(\.url) == b.media.map(\.url) && a.media.map(\.contentType) == b.media.map(\.contentType)
    }

    /// The `carrier.inbound` parameters: each medium an attachment named by the last part of
    /// its URL (Twilio's media id), of size 0 (the webhook does not say; the URL holds it), and
    /// Twilio's id as reference and idempotency key, so a repeated webhook appends nothing.
    public var params: [String: JSONValue] {
        var params: [String: JSONValue] = [
            "from": .string(from), "to": .string(to), "text": .string(body),
            "carrierReference": .string(messageSid), "idempotencyKey": .string("twilio:" + messageSid),
        ]
        if !media.isEmpty {
            params["attachments"] = .array(
                media.map { medium in
                    let name = medium.url.split(separator: "/").last.map(String.init) ?? "attachment"
                    return [
                        "name": .string(name), "contentType": .string(medium.contentType), "size": 0,
                        "reference": .string(medium.url),
                    ]
                })
        }
        return params
    }
}
