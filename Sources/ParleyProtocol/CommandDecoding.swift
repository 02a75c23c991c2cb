public import ParleyCore

/// Reads the parameters of each command method into a domain ``ParleyCore/Command``.
/// Parameter names and types are documented in `schemas/protocol/`. Ids are checked here,
/// for every method alike: an agent, service or template id must be an identifier and a
/// conversation or message id 1 to 256 bytes, else `InvalidArgument` naming the field
/// (only a well-formed id that names nothing is `UnknownAgent` and the like).
public enum CommandDecoding {
    /// The command a request asks for, and its idempotency key.
    /// - Throws: ``ProtocolError`` naming the missing, mistyped or unknown parameter.
    public static func command(_ method: Method, _ params: Params) throws(ProtocolError) -> (Command, idempotencyKey: String?) {
        var p = params
        let key = try p.optionalString("idempotencyKey")
        let command: Command
        switch method {
        case .directoryPutAgent:
            command = .putAgent(PutAgent(
                agentId: try p.identifier("agentId"), displayName: try p.string("displayName"), did: try p.optionalString("did"),
                smsAllowed: try p.bool("smsAllowed", default: true), services: try p.optionalIdentifiers("services") ?? []
            ))
        case .directoryPutService:
            command = .putService(PutService(
                serviceId: try p.identifier("serviceId"), name: try p.string("name"), smsNumber: try p.optionalString("smsNumber"),
                smsEnabled: try p.bool("smsEnabled", default: false), inboundChats: try p.bool("inboundChats", default: false)
            ))
        case .directoryPutTemplate:
            command = .putTemplate(PutTemplate(
                templateId: try p.identifier("templateId"), title: try p.string("title"), text: try p.string("text"),
                services: try p.optionalIdentifiers("services") ?? []
            ))
        case .directoryPutSettings:
            guard let maxSegments = try p.optionalInt("maxSegments", in: 1...255) else { throw .missingParam("maxSegments") }
            command = .putSettings(PutSettings(smsCounterEnabled: try p.bool("smsCounterEnabled", default: true), maxSegments: maxSegments))
        case .directoryPutOptOut:
            let builtIn = OptOutConfigured.builtIn
            command = .putOptOut(PutOptOut(settings: OptOutConfigured(
                serviceId: try p.optionalIdentifier("serviceId"),
                stopKeywords: try p.optionalStrings("stopKeywords") ?? builtIn.stopKeywords,
                startKeywords: try p.optionalStrings("startKeywords") ?? builtIn.startKeywords,
                helpKeywords: try p.optionalStrings("helpKeywords") ?? builtIn.helpKeywords,
                helpText: try p.optionalString("helpText") ?? builtIn.helpText,
                confirmations: try p.bool("confirmations", default: builtIn.confirmations),
                stopConfirmation: try p.optionalString("stopConfirmation") ?? builtIn.stopConfirmation,
                startConfirmation: try p.optionalString("startConfirmation") ?? builtIn.startConfirmation
            )))
        case .agentLogin:
            command = .login(Login(
                agentId: try p.identifier("agentId"),
                state: try p.optionalEnum("state", AgentState.self, among: [.ready, .notReady]) ?? .notReady
            ))
        case .agentLogout:
            command = .logout(Logout(agentId: try p.identifier("agentId")))
        case .agentSetState:
            let agentId = try p.identifier("agentId")
            guard let state = try p.optionalEnum("state", AgentState.self, among: [.ready, .notReady, .busy, .afterCallWork]) else {
                throw .missingParam("state")
            }
            command = .setState(SetState(agentId: agentId, state: state, call: try p.optionalObject("call").map(callContext)))
        case .smsSend:
            command = .send(SendMessage(
                agentId: try p.identifier("agentId"), conversationId: try p.optionalServerId("conversationId"),
                serviceId: try p.optionalIdentifier("serviceId"), customerNumber: try p.optionalString("customerNumber"),
                fromDid: try p.bool("fromDid", default: false), text: try p.optionalString("text") ?? "",
                attachments: try attachments(&p)
            ))
        case .carrierInbound:
            command = .receive(ReceiveInbound(
                from: try p.string("from"), to: try p.string("to"), text: try p.optionalString("text") ?? "",
                attachments: try attachments(&p), carrierReference: try p.optionalString("carrierReference")
            ))
        case .carrierStatus:
            let messageId = try p.optionalServerId("messageId")
            let reference = try p.optionalString("carrierReference")
            guard let status = try p.optionalEnum("status", DeliveryStatus.self) else { throw .missingParam("status") }
            if messageId == nil && reference == nil { throw .missingParam("messageId") }
            command = .reportDelivery(ReportDelivery(
                messageId: messageId, carrierReference: reference, status: status, detail: try p.optionalString("detail"),
                part: try p.optionalInt("part", in: 1...Limits.parts)
            ))
        case .carrierSubmit:
            command = .submitMessage(SubmitMessage(
                messageId: try p.serverId("messageId"), connector: try p.identifier("connector")
            ))
        case .chatAccept:
            command = .acceptChat(AcceptChat(agentId: try p.identifier("agentId"), conversationId: try p.serverId("conversationId")))
        case .chatEnd:
            command = .endChat(EndChat(agentId: try p.identifier("agentId"), conversationId: try p.serverId("conversationId")))
        case .recentMarkRead:
            command = .markRecentRead(MarkRecentRead(agentId: try p.identifier("agentId"), upTo: try p.uint64("upTo")))
        default:
            throw .internalError("\(method.rawValue) is not a command")
        }
        try p.finish()
        return (command, key)
    }

    private static func callContext(_ params: Params) throws(ProtocolError) -> CallContext {
        var p = params
        let call = CallContext(
            callId: try p.string("callId"), serviceId: try p.identifier("serviceId"), customerNumber: try p.string("customerNumber")
        )
        try p.finish()
        return call
    }

    private static func attachments(_ p: inout Params) throws(ProtocolError) -> [Attachment] {
        var result: [Attachment] = []
        for item in try p.optionalObjects("attachments") ?? [] {
            var a = item
            result.append(Attachment(
                name: try a.string("name"), contentType: try a.string("contentType"), size: try a.uint64("size"),
                reference: try a.string("reference")
            ))
            try a.finish()
        }
        return result
    }
}
