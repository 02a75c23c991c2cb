/// Recorded events written to JSON straight from their stored bytes (the layout of
/// ``RecordedEvent/encode(to:)``), without decoding them into values first: catch-up and
/// `log.read` read many events only to send them on, and building each `String` of each event
/// cost more than writing it.
///
/// The text is exactly ``RecordedEvent/writeJSON(to:chain:)``'s (a test holds the two to it for
/// every sample event), and bytes that would not decode are refused as decoding refuses them.
public enum StoredEventJSON {
    /// Appends the JSON object of the recorded event in `binary` to `bytes`, with `hash` and
    /// `prevHash` as lowercase hex when `chain` is given. On error `bytes` is left as it was.
    /// - Throws: ``BinaryDecodingError`` when `binary` is not a recorded event's layout.
    public static func write(
        _ binary: UnsafeRawBufferPointer,
        chain: (hash: UnsafeRawBufferPointer, prevHash: UnsafeRawBufferPointer)? = nil,
        to bytes: inout [UInt8]
    ) throws(BinaryDecodingError) {
        var reader = BinaryReader(binary)
        let position = try reader.readUInt64()
        let timestamp = try reader.readInt64()
        let stream = try reader.readUTF8()
        let streamVersion = try reader.readVarint()
        let code = try reader.readUInt16()
        guard let type = EventType(rawValue: code) else {
            throw BinaryDecodingError(reason: "unknown event type \(code)")
        }
        let schemaVersion = try reader.readUInt16()
        guard schemaVersion == type.schemaVersion else {
            throw BinaryDecodingError(reason: "\(type.name) schema version \(schemaVersion) is not supported")
        }
        let actor = try Actor(from: &reader)
        let key = try reader.readBool() ? (scope: try reader.readUTF8(), key: try reader.readUTF8()) : nil

        let start = bytes.count
        var object = JSONObjectWriter(continuing: &bytes)
        do throws(BinaryDecodingError) {
            object.object("actor") { member in
                member.string("role", actor.role)
                member.integer("uid", actor.uid)
            }
            try object.object("data") { (data: inout JSONObjectWriter) throws(BinaryDecodingError) in
                try writeData(type, from: &reader, to: &data)
            }
            guard reader.isAtEnd else {
                throw BinaryDecodingError(reason: "\(reader.remainingCount) unexpected trailing bytes")
            }
        } catch {
            bytes = object.finish()
            bytes.removeSubrange(start...)
            throw error
        }
        if let chain { object.hex("hash", chain.hash) }
        if let key {
            object.object("idempotencyKey") { member in
                member.string("key", utf8: key.key)
                member.string("scope", utf8: key.scope)
            }
        }
        object.integer("position", position)
        if let chain { object.hex("prevHash", chain.prevHash) }
        object.integer("schemaVersion", schemaVersion)
        object.string("stream", utf8: stream)
        object.integer("streamVersion", streamVersion)
        object.integer("timestamp", timestamp)
        object.string("type", type.name)
        bytes = object.finish()
    }

    /// Reads one event's data in its stored order and writes its members in key order.
    private static func writeData(
        _ type: EventType, from r: inout BinaryReader, to o: inout JSONObjectWriter
    ) throws(BinaryDecodingError) {
        switch type {
        case .agentConfigured:
            let agentId = try r.readUTF8()
            let displayName = try r.readUTF8()
            let did = try r.readOptionalUTF8()
            let smsAllowed = try r.readBool()
            o.string("agentId", utf8: agentId)
            o.string("did", utf8: did)
            o.string("displayName", utf8: displayName)
            try writeStrings("services", from: &r, to: &o)
            o.bool("smsAllowed", smsAllowed)
        case .serviceConfigured:
            let serviceId = try r.readUTF8()
            let name = try r.readUTF8()
            let smsNumber = try r.readOptionalUTF8()
            let smsEnabled = try r.readBool()
            let inboundChats = try r.readBool()
            o.bool("inboundChats", inboundChats)
            o.string("name", utf8: name)
            o.string("serviceId", utf8: serviceId)
            o.bool("smsEnabled", smsEnabled)
            o.string("smsNumber", utf8: smsNumber)
        case .templateConfigured:
            let templateId = try r.readUTF8()
            let title = try r.readUTF8()
            let text = try r.readUTF8()
            try writeStrings("services", from: &r, to: &o)
            o.string("templateId", utf8: templateId)
            o.string("text", utf8: text)
            o.string("title", utf8: title)
        case .settingsConfigured:
            let smsCounterEnabled = try r.readBool()
            let maxSegments = try r.readCount()
            o.integer("maxSegments", maxSegments)
            o.bool("smsCounterEnabled", smsCounterEnabled)
        case .agentLoggedIn:
            let agentId = try r.readUTF8()
            let state = try AgentState(from: &r)
            o.string("agentId", utf8: agentId)
            o.string("state", state)
        case .agentLoggedOut:
            o.string("agentId", utf8: try r.readUTF8())
        case .agentStateChanged:
            let agentId = try r.readUTF8()
            let state = try AgentState(from: &r)
            o.string("agentId", utf8: agentId)
            if try r.readBool() {
                let callId = try r.readUTF8()
                let serviceId = try r.readUTF8()
                let customerNumber = try r.readUTF8()
                o.object("call") { call in
                    call.string("callId", utf8: callId)
                    call.string("customerNumber", utf8: customerNumber)
                    call.string("serviceId", utf8: serviceId)
                }
            }
            o.string("state", state)
        case .conversationOpened:
            let conversationId = try r.readUTF8()
            let kind = try ConversationKind(from: &r)
            let origin = try ConversationOrigin(from: &r)
            let serviceId = try r.readOptionalUTF8()
            let agentId = try r.readOptionalUTF8()
            let localNumber = try r.readUTF8()
            let customerNumber = try r.readUTF8()
            o.string("agentId", utf8: agentId)
            o.string("conversationId", utf8: conversationId)
            o.string("customerNumber", utf8: customerNumber)
            o.string("kind", kind)
            o.string("localNumber", utf8: localNumber)
            o.string("origin", origin)
            o.string("serviceId", utf8: serviceId)
        case .messageSent:
            let conversationId = try r.readUTF8()
            let messageId = try r.readUTF8()
            let agentId = try r.readUTF8()
            let from = try r.readUTF8()
            let to = try r.readUTF8()
            let text = try r.readUTF8()
            let attachments = try skipAttachments(&r)
            let encoding: SMSEncoding
            switch try r.readUInt8() {
            case 0: encoding = .gsm7
            case 1: encoding = .ucs2
            case let other: throw BinaryDecodingError(reason: "unknown encoding code \(other)")
            }
            let characters = try r.readCount()
            let units = try r.readCount()
            let segments = try r.readCount()
            let callId = try r.readOptionalUTF8()
            o.string("agentId", utf8: agentId)
            try writeAttachments(attachments, to: &o)
            o.string("callId", utf8: callId)
            o.integer("characters", characters)
            o.string("conversationId", utf8: conversationId)
            o.string("encoding", encoding)
            o.string("from", utf8: from)
            o.string("messageId", utf8: messageId)
            o.integer("segments", segments)
            o.string("text", utf8: text)
            o.string("to", utf8: to)
            o.integer("units", units)
        case .deliveryReported:
            let conversationId = try r.readUTF8()
            let messageId = try r.readUTF8()
            let status = try DeliveryStatus(from: &r)
            let carrierReference = try r.readOptionalUTF8()
            let detail = try r.readOptionalUTF8()
            o.string("carrierReference", utf8: carrierReference)
            o.string("conversationId", utf8: conversationId)
            o.string("detail", utf8: detail)
            o.string("messageId", utf8: messageId)
            o.string("status", status)
        case .inboundReceived:
            let conversationId = try r.readUTF8()
            let messageId = try r.readUTF8()
            let from = try r.readUTF8()
            let to = try r.readUTF8()
            let text = try r.readUTF8()
            let attachments = try skipAttachments(&r)
            let inReplyTo = try r.readOptionalUTF8()
            let carrierReference = try r.readOptionalUTF8()
            try writeAttachments(attachments, to: &o)
            o.string("carrierReference", utf8: carrierReference)
            o.string("conversationId", utf8: conversationId)
            o.string("from", utf8: from)
            o.string("inReplyTo", utf8: inReplyTo)
            o.string("messageId", utf8: messageId)
            o.string("text", utf8: text)
            o.string("to", utf8: to)
        case .inboundIgnored:
            let messageId = try r.readUTF8()
            let from = try r.readUTF8()
            let to = try r.readUTF8()
            let text = try r.readUTF8()
            let attachments = try skipAttachments(&r)
            let reason = try IgnoreReason(from: &r)
            let conversationId = try r.readOptionalUTF8()
            let carrierReference = try r.readOptionalUTF8()
            try writeAttachments(attachments, to: &o)
            o.string("carrierReference", utf8: carrierReference)
            o.string("conversationId", utf8: conversationId)
            o.string("from", utf8: from)
            o.string("messageId", utf8: messageId)
            o.string("reason", reason)
            o.string("text", utf8: text)
            o.string("to", utf8: to)
        case .chatAccepted, .chatEnded:
            let conversationId = try r.readUTF8()
            let agentId = try r.readUTF8()
            o.string("agentId", utf8: agentId)
            o.string("conversationId", utf8: conversationId)
        case .recentRead:
            let agentId = try r.readUTF8()
            let upTo = try r.readVarint()
            o.string("agentId", utf8: agentId)
            o.integer("upTo", upTo)
        case .customerOptedOut, .customerOptedIn:
            let localNumber = try r.readUTF8()
            let customerNumber = try r.readUTF8()
            let keyword = try r.readUTF8()
            let messageId = try r.readUTF8()
            let conversationId = try r.readOptionalUTF8()
            o.string("conversationId", utf8: conversationId)
            o.string("customerNumber", utf8: customerNumber)
            o.string("keyword", utf8: keyword)
            o.string("localNumber", utf8: localNumber)
            o.string("messageId", utf8: messageId)
        case .optOutConfigured:
            // Rare: decoded whole, since its members are not stored in key order.
            let e = try OptOutConfigured(from: &r)
            o.bool("confirmations", e.confirmations)
            o.strings("helpKeywords", e.helpKeywords)
            o.string("helpText", e.helpText)
            o.string("serviceId", e.serviceId)
            o.string("startConfirmation", e.startConfirmation)
            o.strings("startKeywords", e.startKeywords)
            o.string("stopConfirmation", e.stopConfirmation)
            o.strings("stopKeywords", e.stopKeywords)
        case .systemMessageSent:
            let e = try SystemMessageSent(from: &r)
            o.integer("characters", e.characters)
            o.string("conversationId", e.conversationId)
            o.string("encoding", e.encoding)
            o.string("from", e.from)
            o.string("messageId", e.messageId)
            o.string("reason", e.reason)
            o.integer("segments", e.segments)
            o.string("text", e.text)
            o.string("to", e.to)
            o.integer("units", e.units)
        case .messageSubmitted:
            let conversationId = try r.readUTF8()
            let messageId = try r.readUTF8()
            let connector = try r.readUTF8()
            let attempt = try r.readCount()
            o.integer("attempt", attempt)
            o.string("connector", utf8: connector)
            o.string("conversationId", utf8: conversationId)
            o.string("messageId", utf8: messageId)
        case .partReported:
            let conversationId = try r.readUTF8()
            let messageId = try r.readUTF8()
            let part = try r.readCount()
            let status = try DeliveryStatus(from: &r)
            let carrierReference = try r.readOptionalUTF8()
            let detail = try r.readOptionalUTF8()
            o.string("carrierReference", utf8: carrierReference)
            o.string("conversationId", utf8: conversationId)
            o.string("detail", utf8: detail)
            o.string("messageId", utf8: messageId)
            o.integer("part", part)
            o.string("status", status)
        }
    }

    /// Writes `"key":[…]` from a stored array of strings.
    private static func writeStrings(
        _ key: StaticString, from r: inout BinaryReader, to o: inout JSONObjectWriter
    ) throws(BinaryDecodingError) {
        let count = try r.readCount()
        try o.array(key, count: count) { (bytes: inout [UInt8], _: Int) throws(BinaryDecodingError) in
            JSONNode.writeQuoted(utf8: try r.readUTF8(), to: &bytes)
        }
    }

    /// Checks the stored attachments at the reader and moves past them; returns a reader at
    /// their start, for ``writeAttachments(_:to:)``, which comes earlier in key order.
    private static func skipAttachments(_ r: inout BinaryReader) throws(BinaryDecodingError) -> BinaryReader {
        let start = r
        let count = try r.readCount()
        for _ in 0..<count {
            _ = try r.readUTF8()
            _ = try r.readUTF8()
            _ = try r.readVarint()
            _ = try r.readUTF8()
        }
        return start
    }

    /// Writes `"attachments":[…]` from stored attachments (name, contentType, size, reference).
    private static func writeAttachments(_ start: BinaryReader, to o: inout JSONObjectWriter)
        throws(BinaryDecodingError)
    {
        var r = start
        let count = try r.readCount()
        try o.array("attachments", count: count) { (bytes: inout [UInt8], _: Int) throws(BinaryDecodingError) in
            let name = try r.readUTF8()
            let contentType = try r.readUTF8()
            let size = try r.readVarint()
            let reference = try r.readUTF8()
            var member = JSONObjectWriter(continuing: &bytes)
            member.string("contentType", utf8: contentType)
            member.string("name", utf8: name)
            member.string("reference", utf8: reference)
            member.integer("size", size)
            bytes = member.finish()
        }
    }
}
