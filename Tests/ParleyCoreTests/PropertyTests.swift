import ParleyCore
import Testing

/// A small contact center and a stream of random commands over it, valid and invalid.
private struct Scenario {
    static let services = ["s1", "s2", "s3"]
    static let serviceNumbers = ["s1": "+15550000101", "s2": "+15550000102"]
    static let agents = ["a1", "a2", "a3", "a4"]
    static let dids = ["a1": "+15551110101", "a3": "+15551110103"]
    static let customers = (1...6).map { "+1555777010\($0)" }
    static let texts = [
        "", "Hi", "Ça va? 😀", "{braces} and €", String(repeating: "a", count: 161), String(repeating: "й", count: 140),
        String(repeating: "b", count: 470),
    ]
    static let references = ["r1", "r2", "r3", "r4", ""]

    static let directory: [Command] = [
        .putService(PutService(serviceId: "s1", name: "One", smsNumber: serviceNumbers["s1"], smsEnabled: true, inboundChats: true)),
        .putService(PutService(serviceId: "s2", name: "Two", smsNumber: serviceNumbers["s2"], smsEnabled: true, inboundChats: false)),
        .putService(PutService(serviceId: "s3", name: "Three", smsNumber: nil, smsEnabled: false, inboundChats: false)),
        .putAgent(PutAgent(agentId: "a1", displayName: "A1", did: dids["a1"], services: ["s1", "s2", "s3"])),
        .putAgent(PutAgent(agentId: "a2", displayName: "A2", services: ["s1", "s2"])),
        .putAgent(PutAgent(agentId: "a3", displayName: "A3", did: dids["a3"], services: ["s1"])),
        .putAgent(PutAgent(agentId: "a4", displayName: "A4", smsAllowed: false, services: ["s2"])),
    ]

    var rng: SplitMix64

    mutating func pick<T>(_ values: [T]) -> T { values[Int.random(in: 0..<values.count, using: &rng)] }
    mutating func chance(_ percent: Int) -> Bool { Int.random(in: 0..<100, using: &rng) < percent }

    mutating func maybe<T>(_ percent: Int, _ value: T) -> T? { chance(percent) ? value : nil }

    /// A customer number, now and then an invalid one.
    mutating func customer() -> String { chance(5) ? pick(["5557770101", "+0", "+1"]) : pick(Self.customers) }

    /// A local number: a service, a DID, an unknown number.
    mutating func localNumber() -> String {
        pick(Array(Self.serviceNumbers.values).sorted() + Array(Self.dids.values).sorted() + ["+15559999999", "nope"])
    }

    mutating func command(log: [RecordedEvent], head: UInt64) -> Command {
        var conversations: [String] = []
        var outbound: [String] = []
        var inbound: [String] = []
        for recorded in log {
            switch recorded.event {
            case .conversationOpened(let e): conversations.append(e.conversationId)
            case .messageSent(let e): outbound.append(e.messageId)
            case .inboundReceived(let e): inbound.append(e.messageId)
            default: break
            }
        }
        let agent = chance(3) ? "ghost" : pick(Self.agents)
        let conversation = conversations.isEmpty || chance(5) ? "c-404" : pick(conversations)
        switch Int.random(in: 0..<100, using: &rng) {
        case 0..<8:
            return .login(Login(agentId: agent, state: pick([.ready, .notReady, .notReady, .busy])))
        case 8..<12:
            return .logout(Logout(agentId: agent))
        case 12..<20:
            let state = pick([AgentState.ready, .notReady, .busy, .afterCallWork, .loggedOut])
            let call = CallContext(callId: "call-\(Int.random(in: 1...3, using: &rng))", serviceId: pick(Self.services + ["zz"]), customerNumber: customer())
            return .setState(SetState(agentId: agent, state: state, call: state.hasCall || chance(5) ? call : nil))
        case 20..<45:
            let attachments = chance(10) ? [Attachment(name: "f.png", contentType: "image/png", size: 42, reference: "ref")] : []
            let text = pick(Self.texts)
            switch Int.random(in: 0..<4, using: &rng) {
            case 0:
                return .send(SendMessage(agentId: agent, conversationId: conversation, text: text, attachments: attachments))
            case 1:
                return .send(SendMessage(agentId: agent, customerNumber: maybe(90, customer()), fromDid: true, text: text, attachments: attachments))
            default:
                return .send(SendMessage(
                    agentId: agent, serviceId: maybe(85, pick(Self.services + ["zz"])), customerNumber: maybe(85, customer()),
                    text: text, attachments: attachments
                ))
            }
        case 45..<60:
            let messageId: String? = chance(5) ? "m-404" : (chance(10) && !inbound.isEmpty ? pick(inbound) : (outbound.isEmpty ? "m-404" : pick(outbound)))
            if chance(20) {
                return .submitMessage(SubmitMessage(messageId: messageId ?? "m-404", connector: pick(["kannel", "twilio", "bad id"])))
            }
            let byReference = chance(25)
            return .reportDelivery(ReportDelivery(
                messageId: byReference ? nil : messageId, carrierReference: maybe(byReference ? 100 : 40, pick(Self.references)),
                status: pick(DeliveryStatus.allCases), detail: maybe(30, "d")
            ))
        case 60..<82:
            return .receive(ReceiveInbound(
                from: customer(), to: localNumber(), text: pick(Self.texts), carrierReference: maybe(20, "in-\(Int.random(in: 0...999, using: &rng))")
            ))
        case 82..<88:
            return .acceptChat(AcceptChat(agentId: agent, conversationId: conversation))
        case 88..<93:
            return .endChat(EndChat(agentId: agent, conversationId: conversation))
        case 93..<97:
            let upTo = UInt64.random(in: 0...(head + 2), using: &rng)
            return .markRecentRead(MarkRecentRead(agentId: agent, upTo: upTo))
        default:
            switch Int.random(in: 0..<3, using: &rng) {
            case 0: return .putSettings(PutSettings(smsCounterEnabled: chance(50), maxSegments: pick([1, 2, 3, 10, 0])))
            case 1:
                let sms = chance(80)
                return .putService(PutService(serviceId: "s2", name: "Two", smsNumber: Self.serviceNumbers["s2"], smsEnabled: sms, inboundChats: chance(50)))
            default:
                let services = Self.services.filter { _ in chance(60) }
                return .putAgent(PutAgent(agentId: "a2", displayName: "A2", services: services))
            }
        }
    }
}

@Suite("Properties")
struct PropertyTests {
    static let seeds: [UInt64] = (1...20).map { $0 &* 0x1234_5678_9ABC_DEF1 }

    @Test(arguments: seeds)
    func randomCommandsKeepTheInvariants(seed: UInt64) throws {
        var scenario = Scenario(rng: SplitMix64(seed: seed))
        let h = Harness()
        h.given(Scenario.directory)
        var ended: Set<String> = []
        var ranks: [String: Int] = [:]
        var accepted = 0
        var refused = 0
        for step in 1...300 {
            let command = scenario.command(log: h.log, head: h.head)
            let result = h.when(command)
            guard case .success(let recorded) = result else {
                refused += 1
                continue
            }
            accepted += 1
            for event in recorded {
                // No message is appended to an ended conversation.
                switch event.event {
                case .messageSent(let e):
                    #expect(!ended.contains(e.conversationId), "seed \(seed) step \(step): sent into ended \(e.conversationId)")
                case .inboundReceived(let e):
                    #expect(!ended.contains(e.conversationId), "seed \(seed) step \(step): received into ended \(e.conversationId)")
                case .chatAccepted(let e):
                    #expect(!ended.contains(e.conversationId))
                case .chatEnded(let e):
                    #expect(!ended.contains(e.conversationId))
                    ended.insert(e.conversationId)
                default: break
                }
                // Every event round-trips through the stored format.
                #expect(try RecordedEvent(decoding: event.binaryEncoded) == event)
            }
            for conversationId in ended {
                #expect(h.conversation(conversationId)?.status == .ended)
            }
            // Unread never exceeds the Recent items.
            for agentId in Scenario.agents {
                let unread = h.agent(agentId)?.unread ?? 0
                let items = UInt64(h.recent(agentId).count)
                #expect(unread <= items, "seed \(seed) step \(step): \(agentId) unread \(unread) > \(items) items")
            }
            // Transcript statuses never move backwards.
            for recordedEvent in recorded {
                switch recordedEvent.event {
                case .messageSent(let e): ranks[e.messageId] = DeliveryStatus.queued.rank
                case .deliveryReported(let e):
                    let status = try #require(h.message(e.messageId)?.status)
                    let before = ranks[e.messageId] ?? 0
                    #expect(status.rank >= before, "seed \(seed) step \(step): \(e.messageId) moved back to \(status)")
                    #expect(status.rank >= e.status.rank || before == 2, "report \(e.status) ignored while not final")
                    ranks[e.messageId] = status.rank
                default: break
                }
            }
            if step.isMultiple(of: 100) { h.expectRebuildMatches() }
        }
        // Connectors owe exactly the outbound messages still queued with no carrier reference, in send order.
        let owed = h.log.compactMap { recorded -> String? in
            guard case .messageSent(let e) = recorded.event, let message = h.message(e.messageId),
                message.status == .queued, message.carrierReferences.isEmpty
            else { return nil }
            return e.messageId
        }
        #expect(try h.projections.awaitingCarrier().map(\.messageId) == owed, "seed \(seed)")
        // …and a report for exactly the accepted ones with no final status.
        let reportOwed = h.log.compactMap { recorded -> String? in
            guard case .messageSent(let e) = recorded.event, let message = h.message(e.messageId),
                (message.status?.rank ?? 2) < 2, message.status != .queued || !message.carrierReferences.isEmpty
            else { return nil }
            return e.messageId
        }
        #expect(try h.projections.awaitingReport().map(\.messageId) == reportOwed, "seed \(seed)")
        // Every status seen is still there at the end.
        for (messageId, rank) in ranks {
            #expect((h.message(messageId)?.status?.rank ?? -1) >= rank)
        }
        // The run exercised both sides.
        #expect(accepted > 30, "seed \(seed): only \(accepted) accepted")
        #expect(refused > 30, "seed \(seed): only \(refused) refused")
        h.expectRebuildMatches()
        // Stream versions are gapless from 1 and positions gapless from 1.
        var versions: [String: UInt64] = [:]
        for (index, event) in h.log.enumerated() {
            #expect(event.position == UInt64(index + 1))
            let expected = (versions[event.stream] ?? 0) + 1
            #expect(event.streamVersion == expected)
            versions[event.stream] = expected
        }
    }

    @Test func generatorIsDeterministic() {
        var a = SplitMix64(seed: 42)
        var b = SplitMix64(seed: 42)
        var c = SplitMix64(seed: 43)
        let first = (0..<8).map { _ in a.next() }
        #expect(first == (0..<8).map { _ in b.next() })
        #expect(first != (0..<8).map { _ in c.next() })
        // Reference value of SplitMix64 seeded with 0.
        var zero = SplitMix64(seed: 0)
        #expect(zero.next() == 0xE220_A839_7B1D_CDAF)
    }
}
