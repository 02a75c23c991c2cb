/// Recorded events written straight into JSON bytes, member by member: the same text as their
/// `Encodable` form through ``CompactJSONEncoder`` (a test holds the two to it), without the
/// encoder's tree, its sorting and its boxes. Catch-up, `log.read` and every subscription
/// write each event this way.
extension RecordedEvent {
    /// The event's JSON object as `schemas/envelope.schema.json` describes it, with `hash` and
    /// `prevHash` (lowercase hex) when `chain` is given, appended to `bytes`.
    public func writeJSON(to bytes: inout [UInt8], chain: (hash: String, prevHash: String)? = nil) {
        var object = JSONObjectWriter(continuing: &bytes)
        object.object("actor") { actor in
            actor.string("role", self.actor.role)
            actor.integer("uid", self.actor.uid)
        }
        object.object("data") { event.writeJSON(to: &$0) }
        object.string("hash", chain?.hash)
        if let key = idempotencyKey {
            object.object("idempotencyKey") { member in
                member.string("key", key.key)
                member.string("scope", key.scope)
            }
        }
        object.integer("position", position)
        object.string("prevHash", chain?.prevHash)
        object.integer("schemaVersion", type.schemaVersion)
        object.string("stream", stream)
        object.integer("streamVersion", streamVersion)
        object.integer("timestamp", timestamp)
        object.string("type", type.name)
        bytes = object.finish()
    }
}

extension Event {
    /// Writes the event's data members, in key order.
    func writeJSON(to object: inout JSONObjectWriter) {
        switch self {
        case .agentConfigured(let e):
            object.string("agentId", e.agentId)
            object.string("did", e.did)
            object.string("displayName", e.displayName)
            object.strings("services", e.services)
            object.bool("smsAllowed", e.smsAllowed)
        case .serviceConfigured(let e):
            object.bool("inboundChats", e.inboundChats)
            object.string("name", e.name)
            object.string("serviceId", e.serviceId)
            object.bool("smsEnabled", e.smsEnabled)
            object.string("smsNumber", e.smsNumber)
        case .templateConfigured(let e):
            object.strings("services", e.services)
            object.string("templateId", e.templateId)
            object.string("text", e.text)
            object.string("title", e.title)
        case .settingsConfigured(let e):
            object.integer("maxSegments", e.maxSegments)
            object.bool("smsCounterEnabled", e.smsCounterEnabled)
        case .agentLoggedIn(let e):
            object.string("agentId", e.agentId)
            object.string("state", e.state)
        case .agentLoggedOut(let e):
            object.string("agentId", e.agentId)
        case .agentStateChanged(let e):
            object.string("agentId", e.agentId)
            if let call = e.call {
                object.object("call") { member in
                    member.string("callId", call.callId)
                    member.string("customerNumber", call.customerNumber)
                    member.string("serviceId", call.serviceId)
                }
            }
            object.string("state", e.state)
        case .conversationOpened(let e):
            object.string("agentId", e.agentId)
            object.string("conversationId", e.conversationId)
            object.string("customerNumber", e.customerNumber)
            object.string("kind", e.kind)
            object.string("localNumber", e.localNumber)
            object.string("origin", e.origin)
            object.string("serviceId", e.serviceId)
        case .messageSent(let e):
            object.string("agentId", e.agentId)
            Self.writeAttachments(e.attachments, to: &object)
            object.string("callId", e.callId)
            object.integer("characters", e.characters)
            object.string("conversationId", e.conversationId)
            object.string("encoding", e.encoding)
            object.string("from", e.from)
            object.string("messageId", e.messageId)
            object.integer("segments", e.segments)
            object.string("text", e.text)
            object.string("to", e.to)
            object.integer("units", e.units)
        case .deliveryReported(let e):
            object.string("carrierReference", e.carrierReference)
            object.string("conversationId", e.conversationId)
            object.string("detail", e.detail)
            object.string("messageId", e.messageId)
            object.string("status", e.status)
        case .inboundReceived(let e):
            Self.writeAttachments(e.attachments, to: &object)
            object.string("carrierReference", e.carrierReference)
            object.string("conversationId", e.conversationId)
            object.string("from", e.from)
            object.string("inReplyTo", e.inReplyTo)
            object.string("messageId", e.messageId)
            object.string("text", e.text)
            object.string("to", e.to)
        case .inboundIgnored(let e):
            Self.writeAttachments(e.attachments, to: &object)
            object.string("carrierReference", e.carrierReference)
            object.string("conversationId", e.conversationId)
            object.string("from", e.from)
            object.string("messageId", e.messageId)
            object.string("reason", e.reason)
            object.string("text", e.text)
            object.string("to", e.to)
        case .chatAccepted(let e):
            object.string("agentId", e.agentId)
            object.string("conversationId", e.conversationId)
        case .chatEnded(let e):
            object.string("agentId", e.agentId)
            object.string("conversationId", e.conversationId)
        case .recentRead(let e):
            object.string("agentId", e.agentId)
            object.integer("upTo", e.upTo)
        case .customerOptedOut(let e), .customerOptedIn(let e):
            object.string("conversationId", e.conversationId)
            object.string("customerNumber", e.customerNumber)
            object.string("keyword", e.keyword)
            object.string("localNumber", e.localNumber)
            object.string("messageId", e.messageId)
        case .optOutConfigured(let e):
            object.bool("confirmations", e.confirmations)
            object.strings("helpKeywords", e.helpKeywords)
            object.string("helpText", e.helpText)
            object.string("serviceId", e.serviceId)
            object.string("startConfirmation", e.startConfirmation)
            object.strings("startKeywords", e.startKeywords)
            object.string("stopConfirmation", e.stopConfirmation)
            object.strings("stopKeywords", e.stopKeywords)
        case .systemMessageSent(let e):
            object.integer("characters", e.characters)
            object.string("conversationId", e.conversationId)
            object.string("encoding", e.encoding)
            object.string("from", e.from)
            object.string("messageId", e.messageId)
            object.string("reason", e.reason)
            object.integer("segments", e.segments)
            object.string("text", e.text)
            object.string("to", e.to)
            object.integer("units", e.units)
        case .messageSubmitted(let e):
            object.integer("attempt", e.attempt)
            object.string("connector", e.connector)
            object.string("conversationId", e.conversationId)
            object.string("messageId", e.messageId)
        case .partReported(let e):
            object.string("carrierReference", e.carrierReference)
            object.string("conversationId", e.conversationId)
            object.string("detail", e.detail)
            object.string("messageId", e.messageId)
            object.integer("part", e.part)
            object.string("status", e.status)
        }
    }

    private static func writeAttachments(_ attachments: [Attachment], to object: inout JSONObjectWriter) {
        object.objects("attachments", attachments) { member, attachment in
            member.string("contentType", attachment.contentType)
            member.string("name", attachment.name)
            member.string("reference", attachment.reference)
            member.integer("size", attachment.size)
        }
    }
}
