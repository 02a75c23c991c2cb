import ParleyCore
import Testing

/// Swift Testing also has an `Attachment`; in these tests it is always Parley's.
typealias Attachment = ParleyCore.Attachment

/// One projection entry, comparable byte for byte.
struct DumpEntry: Equatable, CustomStringConvertible {
    let table: Table
    let key: [UInt8]
    let value: [UInt8]

    var description: String { "\(table.name) \(key) = \(value.count) bytes" }
}

extension MemoryProjections {
    /// ``dump()`` as an `Equatable` array.
    func entries() -> [DumpEntry] { dump().map { DumpEntry(table: $0.table, key: $0.key, value: $0.value) } }
}

/// An in-memory given/when/then harness over the pure domain: decides commands against
/// ``MemoryProjections``, records the accepted events with an envelope the way the log
/// would, and applies them with the ``Projector``.
final class Harness {
    /// The live projections.
    let projections = MemoryProjections()
    /// Server ids `c-1`, `m-2`, …
    let ids = SequentialIDs()
    /// The last position recorded.
    private(set) var head: UInt64 = 0
    /// Every recorded event in log order.
    private(set) var log: [RecordedEvent] = []
    /// The last version of each stream.
    private(set) var versions: [String: UInt64] = [:]
    /// The fake clock: milliseconds since the epoch, advanced on every accepted command.
    private(set) var now: Int64 = 1_700_000_000_000
    /// Who issues the commands.
    var actor = Actor(uid: 1000, role: .frontend)

    init() {}

    /// Decides and applies each command, failing the test if one is refused.
    func given(_ commands: Command..., sourceLocation: SourceLocation = #_sourceLocation) {
        given(commands, sourceLocation: sourceLocation)
    }

    /// Decides and applies each command, failing the test if one is refused.
    func given(_ commands: [Command], sourceLocation: SourceLocation = #_sourceLocation) {
        for command in commands {
            if case .failure(let rejection) = when(command, sourceLocation: sourceLocation) {
                Issue.record("given \(command) was refused: \(rejection)", sourceLocation: sourceLocation)
            }
        }
    }

    /// Decides `command`; on success records and applies its events and returns them, on
    /// refusal checks that nothing changed and returns the rejection.
    @discardableResult
    func when(_ command: Command, sourceLocation: SourceLocation = #_sourceLocation) -> Result<[RecordedEvent], Rejection> {
        let before = projections.entries()
        let headBefore = head
        let decider = Decider(state: projections, ids: ids, head: head)
        let events: [Event]
        do {
            events = try decider.decide(command)
        } catch let rejection as Rejection {
            #expect(projections.entries() == before, "a refused command changed the projections", sourceLocation: sourceLocation)
            #expect(head == headBefore, sourceLocation: sourceLocation)
            return .failure(rejection)
        } catch {
            Issue.record("decide threw a non-rejection error: \(error)", sourceLocation: sourceLocation)
            return .failure(.invalidArgument(field: "<harness>", reason: "\(error)"))
        }
        now += 1000
        var recorded: [RecordedEvent] = []
        for event in events {
            head += 1
            let version = (versions[event.stream] ?? 0) + 1
            versions[event.stream] = version
            recorded.append(RecordedEvent(
                position: head, stream: event.stream, streamVersion: version, timestamp: now, actor: actor,
                idempotencyKey: nil, event: event
            ))
        }
        do {
            try Projector(store: projections).apply(recorded)
        } catch {
            Issue.record("projector failed: \(error)", sourceLocation: sourceLocation)
        }
        log += recorded
        return .success(recorded)
    }

    /// The events `command` appends; records an issue when it is refused.
    @discardableResult
    func events(_ command: Command, sourceLocation: SourceLocation = #_sourceLocation) -> [Event] {
        switch when(command, sourceLocation: sourceLocation) {
        case .success(let recorded): return recorded.map(\.event)
        case .failure(let rejection):
            Issue.record("\(command) was refused: \(rejection)", sourceLocation: sourceLocation)
            return []
        }
    }

    /// The rejection of `command`; records an issue when it is accepted.
    func rejection(_ command: Command, sourceLocation: SourceLocation = #_sourceLocation) -> Rejection? {
        switch when(command, sourceLocation: sourceLocation) {
        case .success(let recorded):
            Issue.record("\(command) was accepted with \(recorded.map(\.event))", sourceLocation: sourceLocation)
            return nil
        case .failure(let rejection): return rejection
        }
    }

    /// Expects `command` to be refused with exactly `expected`, whose stable code is `code`.
    func expectRefused(
        _ command: Command, _ expected: Rejection, code: String, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let rejection = rejection(command, sourceLocation: sourceLocation)
        #expect(rejection == expected, sourceLocation: sourceLocation)
        #expect(rejection?.code == code, sourceLocation: sourceLocation)
    }

    /// A fresh store with every recorded event replayed.
    func rebuilt() throws -> MemoryProjections {
        let fresh = MemoryProjections()
        try Projector(store: fresh).apply(log)
        return fresh
    }

    /// Expects a rebuild from the log to equal the live projections byte for byte.
    func expectRebuildMatches(sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            let fresh = try rebuilt()
            #expect(fresh.entries() == projections.entries(), "rebuild differs from live projections", sourceLocation: sourceLocation)
        } catch {
            Issue.record("rebuild failed: \(error)", sourceLocation: sourceLocation)
        }
    }

    // MARK: Reads for assertions

    func agent(_ id: String) -> AgentRecord? { try? projections.agent(id) }
    func conversation(_ id: String) -> ConversationRecord? { try? projections.conversation(id) }
    func transcript(_ id: String) -> [MessageRecord] { (try? projections.transcript(id)) ?? [] }
    func message(_ id: String) -> MessageRecord? { try? projections.message(id) }
    func view(_ id: String) -> AgentView? { try? projections.agentView(id) }
    func recent(_ id: String) -> [(position: UInt64, message: MessageRecord)] { (try? projections.recent(id)) ?? [] }
}

/// A small contact center used by the given/when/then tests.
enum Fx {
    static let sales = "sales"  // SMS, no inbound chats
    static let support = "support"  // SMS and inbound chats
    static let voice = "voice"  // no SMS number at all
    static let paused = "paused"  // has a number, SMS disabled

    static let salesNumber = "+15550000001"
    static let supportNumber = "+15550000002"
    static let pausedNumber = "+15550000003"

    static let aliceDid = "+15551110001"

    static let cust1 = "+15557770001"
    static let cust2 = "+15557770002"
    static let cust3 = "+15557770003"

    static let call1 = CallContext(callId: "call-1", serviceId: sales, customerNumber: cust1)

    /// alice serves everything and has a DID; bob serves sales and support; carol may not
    /// send SMS; dave serves only voice.
    static let directory: [Command] = [
        .putService(PutService(serviceId: sales, name: "Sales", smsNumber: salesNumber, smsEnabled: true, inboundChats: false)),
        .putService(PutService(serviceId: support, name: "Support", smsNumber: supportNumber, smsEnabled: true, inboundChats: true)),
        .putService(PutService(serviceId: voice, name: "Voice", smsNumber: nil, smsEnabled: false, inboundChats: false)),
        .putService(PutService(serviceId: paused, name: "Paused", smsNumber: pausedNumber, smsEnabled: false, inboundChats: false)),
        .putAgent(PutAgent(agentId: "alice", displayName: "Alice", did: aliceDid, services: [sales, support, voice, paused])),
        .putAgent(PutAgent(agentId: "bob", displayName: "Bob", services: [sales, support])),
        .putAgent(PutAgent(agentId: "carol", displayName: "Carol", smsAllowed: false, services: [sales])),
        .putAgent(PutAgent(agentId: "dave", displayName: "Dave", services: [voice])),
    ]

    /// A harness with the directory configured and the named agents logged in (NotReady).
    static func harness(loggedIn agents: String...) -> Harness {
        let h = Harness()
        h.given(directory)
        for agent in agents { h.given(.login(Login(agentId: agent))) }
        return h
    }

    /// A send naming a service and customer.
    static func send(
        _ agent: String, _ service: String? = sales, to customer: String? = cust1, text: String = "Hello",
        attachments: [Attachment] = []
    ) -> Command {
        .send(SendMessage(agentId: agent, serviceId: service, customerNumber: customer, text: text, attachments: attachments))
    }

    /// A customer's SMS.
    static func inbound(from: String = cust1, to: String = salesNumber, _ text: String = "Hi", reference: String? = nil) -> Command {
        .receive(ReceiveInbound(from: from, to: to, text: text, carrierReference: reference))
    }

    /// The `MessageSent` a send of `text` produces.
    static func sent(
        _ conversationId: String, _ messageId: String, agent: String, from: String, to: String, _ text: String,
        attachments: [Attachment] = [], callId: String? = nil
    ) -> Event {
        let count = SegmentCounter.count(text)
        return .messageSent(MessageSent(
            conversationId: conversationId, messageId: messageId, agentId: agent, from: from, to: to, text: text,
            attachments: attachments, encoding: count.encoding, characters: count.characters, units: count.units,
            segments: count.segments, callId: callId
        ))
    }

    /// The `ConversationOpened` an agent's send produces.
    static func opened(
        _ id: String, service: String? = sales, agent: String? , local: String = salesNumber, customer: String = cust1,
        kind: ConversationKind = .service, origin: ConversationOrigin = .agent
    ) -> Event {
        .conversationOpened(ConversationOpened(
            conversationId: id, kind: kind, origin: origin, serviceId: service, agentId: agent, localNumber: local,
            customerNumber: customer
        ))
    }
}
