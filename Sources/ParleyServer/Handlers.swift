import ParleyCore
import ParleyProtocol
import ParleyStore

/// Answers the query methods from the projections and the log, each in one short read
/// transaction, and runs command methods through the writer.
struct Handlers {
    let context: ServerContext
    let peer: Peer

    private var responses: ResponseWriter { context.responses }

    /// The greeting for this peer.
    func greeting() throws -> String {
        try responses.json(Greeting(
            limits: context.limits, peer: .init(uid: peer.uid, gids: peer.gids, roles: peer.roles), head: context.engine.head.position
        ))
    }

    /// Decodes a command method's params into the request the writer queues.
    func request(_ method: Method, _ params: Params) throws(ProtocolError) -> (CommandRequest, Command) {
        let (command, key) = try CommandDecoding.command(method, params)
        return (CommandRequest(command, actor: peer.actor(for: method.roles), idempotencyKey: key), command)
    }

    /// The answer lines of finished commands, in their order (results or errors), joined by
    /// newlines: the bytes of one write.
    func answers(_ finished: [FinishedCommand]) -> [UInt8] {
        var text: [UInt8] = []
        for command in finished {
            if !text.isEmpty { text.append(UInt8(ascii: "\n")) }
            do throws(ProtocolError) {
                let answer = try self.answer(command)
                text += responses.result(id: command.tag.id) { answer.write(to: &$0) }
            } catch {
                text += responses.error(id: command.tag.id, error).utf8
            }
        }
        return text
    }

    /// The answer of a command whose outcome is durable, or why it failed.
    private func answer(_ finished: FinishedCommand) throws(ProtocolError) -> CommandAnswer {
        let outcome: CommandOutcome
        switch finished.result {
        case .success(let value): outcome = value
        case .failure(let error):
            if error is WriterStopped { throw .shuttingDown }
            if context.engine.isOutOfSpace(error) { throw .storageFull }
            context.logger.error("command failed", metadata: ["method": "\(finished.tag.method.rawValue)", "error": "\(error)"])
            throw .internalError("the command could not be committed; nothing was written")
        }
        switch outcome {
        case .rejected(let rejection): throw .rejected(rejection)
        case .accepted(let result): return CommandAnswer(result, command: finished.tag.command)
        }
    }

    /// Runs a query method.
    func query(_ method: Method, _ params: Params) throws(ProtocolError) -> String {
        var p = params
        let projections = context.engine.projections
        do {
            switch method {
            case .sessionHello:
                if let name = try p.optionalString("protocol"), name != ProtocolInfo.name {
                    throw ProtocolError.invalidArgument("protocol", "must be \"\(ProtocolInfo.name)\"")
                }
                if let versions = try p.optionalIntegers("versions"), !versions.contains(ProtocolInfo.version) {
                    throw ProtocolError.unsupportedVersion(versions)
                }
                try p.finish()
                return try greeting()
            case .serverInfo:
                try p.finish()
                return try greeting()
            case .directoryList:
                try p.finish()
                return try projections.read { view in
                    try encode(DirectoryList(
                        agents: try view.agents(), services: try view.services(), templates: try view.templates(),
                        settings: try view.settings(), optOut: try view.configuredOptOut(serviceId: nil) ?? .builtIn,
                        serviceOptOuts: try view.serviceOptOuts(), asOf: try view.checkpoint()
                    ))
                }
            case .agentView:
                let agentId = try p.identifier("agentId")
                try p.finish()
                return try projections.read { view in
                    guard let agentView = try view.agentView(agentId) else { throw ProtocolError.rejected(.unknownAgent(agentId)) }
                    let optedOut = try (agentView.openChats + agentView.pendingRequests).filter {
                        try view.isOptedOut(local: $0.localNumber, customer: $0.customerNumber)
                    }
                    return try encode(AgentViewAnswer(
                        agent: agentView.agent, openChats: agentView.openChats, pendingRequests: agentView.pendingRequests,
                        optedOut: optedOut.map(\.conversationId), unread: agentView.unread, asOf: try view.checkpoint()
                    ))
                }
            case .smsCount:
                let text = try p.string("text")
                try p.finish()
                let count = SegmentCounter.count(text)
                return try projections.read { view in
                    let settings = try view.settings()
                    return try encode(CountAnswer(
                        encoding: count.encoding.rawValue, characters: count.characters, units: count.units,
                        segments: count.segments, remaining: count.remaining, nonGsm: count.nonGsm, display: count.display,
                        maxSegments: settings.maxSegments, withinLimit: count.segments <= settings.maxSegments,
                        counterEnabled: settings.smsCounterEnabled, asOf: try view.checkpoint()
                    ))
                }
            case .templatesList:
                let serviceId = try p.optionalIdentifier("serviceId")
                try p.finish()
                return try projections.read { view in
                    try encode(TemplatesAnswer(templates: try view.templates(for: serviceId), asOf: try view.checkpoint()))
                }
            case .conversationGet:
                let id = try p.serverId("conversationId")
                let after = try p.optionalUInt64("after")
                let limit = try p.optionalInt("limit", in: 1...10_000) ?? 1000
                try p.finish()
                return try projections.read { view in
                    guard let conversation = try view.conversation(id) else { throw ProtocolError.rejected(.unknownConversation(id)) }
                    let messages = try view.transcript(id, after: after, limit: limit)
                    return try encode(ConversationAnswer(
                        conversation: conversation, messages: messages, next: messages.last?.sequence ?? after ?? 0,
                        customerOptedOut: try view.isOptedOut(
                            local: conversation.localNumber, customer: conversation.customerNumber),
                        asOf: try view.checkpoint()
                    ))
                }
            case .carrierPending:
                let after = try p.optionalUInt64("after")
                let limit = try p.optionalInt("limit", in: 1...1000) ?? 100
                let accepted = try p.bool("accepted", default: false)
                try p.finish()
                return try projections.read { view in
                    let messages = try accepted
                        ? view.awaitingReport(after: after, limit: limit) : view.awaitingCarrier(after: after, limit: limit)
                    return try encode(PendingAnswer(
                        messages: messages, next: messages.last?.position ?? after ?? 0, asOf: try view.checkpoint()
                    ))
                }
            case .recentGet:
                let agentId = try p.identifier("agentId")
                let limit = try p.optionalInt("limit", in: 1...10_000) ?? 100
                try p.finish()
                return try projections.read { view in
                    guard let agent = try view.agent(agentId) else { throw ProtocolError.rejected(.unknownAgent(agentId)) }
                    let all = try view.recent(agentId)
                    let items = all.suffix(limit).reversed().map {
                        RecentItem(position: $0.position, unread: $0.position > agent.readHorizon, message: $0.message)
                    }
                    return try encode(RecentAnswer(
                        agentId: agentId, unread: agent.unread, readHorizon: agent.readHorizon, items: items,
                        asOf: try view.checkpoint()
                    ))
                }
            case .logHead:
                try p.finish()
                let head = context.engine.head
                return try encode(HeadAnswer(position: head.position, hash: head.hash.hex, asOf: head.position))
            case .logRead:
                let after = try p.optionalUInt64("after") ?? 0
                let limit = try p.optionalInt("limit", in: 1...context.limits.maxReadLimit) ?? 100
                try p.finish()
                let head = context.engine.head.position
                // Written straight from the stored bytes: a page of the log is read to be sent on.
                var events: [UInt8] = []
                var next = after
                let until = after > UInt64.max - UInt64(limit) ? UInt64.max : after + UInt64(limit)
                try context.engine.log.scan(after: after, until: until, chunk: limit) { position, value in
                    if !events.isEmpty { events.append(UInt8(ascii: ",")) }
                    try context.eventJSON.append(storedValue: value, at: position, chain: true, to: &events)
                    next = position
                }
                return "{\"asOf\":\(max(head, next)),\"events\":[" + String(decoding: events, as: UTF8.self) + "],\"next\":\(next)}"
            default:
                throw ProtocolError.internalError("\(method.rawValue) is not a query")
            }
        } catch let error as ProtocolError {
            throw error
        } catch {
            context.logger.error("query failed", metadata: ["method": "\(method.rawValue)", "error": "\(error)"])
            throw .internalError("the query could not be answered")
        }
    }

    private func encode(_ value: some Encodable) throws(ProtocolError) -> String {
        do { return try responses.json(value) } catch { throw .internalError("could not encode the answer") }
    }
}
