import Foundation
import ParleyCore
import ParleyStore
import Testing

@Suite("Projection store")
struct ProjectionStoreTests {
    @Test("live projections are byte-identical to a rebuild from the log")
    func liveEqualsRebuild() throws {
        let dir = try TemporaryDirectory()
        let engine = try openEngine(dir.path)
        try run(engine, scenarioCommands)
        expectSameDump(try engine.projections.dump(), try rebuiltDump(of: engine, scratch: dir))
    }

    @Test("deleted projections are rebuilt from the log on open")
    func rebuildOnOpen() throws {
        let dir = try TemporaryDirectory()
        let before: [(table: Table, key: [UInt8], value: [UInt8])]
        do {
            let engine = try openEngine(dir.path)
            try run(engine, scenarioCommands)
            before = try engine.projections.dump()
        }
        try FileManager.default.removeItem(atPath: dir.child(Engine.projectionsFile))
        try FileManager.default.removeItem(atPath: dir.child(Engine.projectionsFile + "-lock"))
        let reopened = try openEngine(dir.path)
        expectSameDump(try reopened.projections.dump(), before)
    }

    @Test("projections behind the log catch up from their checkpoint on open")
    func catchUpFromCheckpoint() throws {
        let dir = try TemporaryDirectory()
        let stale = try TemporaryDirectory()
        let full: [(table: Table, key: [UInt8], value: [UInt8])]
        do {
            let engine = try openEngine(dir.path)
            try run(engine, directoryCommands)
            try engine.projections.environment.copy(to: stale.child(Engine.projectionsFile), compact: false)
            try run(engine, Array(scenarioCommands.dropFirst(directoryCommands.count)))
            full = try engine.projections.dump()
        }
        try FileManager.default.removeItem(atPath: dir.child(Engine.projectionsFile))
        try FileManager.default.copyItem(atPath: stale.child(Engine.projectionsFile), toPath: dir.child(Engine.projectionsFile))
        let reopened = try openEngine(dir.path)
        #expect(try reopened.projections.read { try $0.checkpoint() } == reopened.head.position)
        expectSameDump(try reopened.projections.dump(), full)
    }

    @Test("the scenario's projections answer the questions front ends ask")
    func scenarioQueries() throws {
        let dir = try TemporaryDirectory()
        let engine = try openEngine(dir.path)
        try run(engine, scenarioCommands)
        try engine.projections.read { view in
            let transcript = try view.transcript("c-1")
            #expect(transcript.map(\.direction) == [.outbound, .inbound])
            #expect(transcript.first?.status == .delivered, "a late 'sent' does not move 'delivered' back")
            #expect(transcript.first?.carrierReferences == ["carrier-77", "smsc-77"])
            #expect(transcript.first?.parts == [PartStatus(part: 1, status: .delivered, carrierReferences: ["smsc-77"])])
            #expect(transcript.last?.inReplyTo == transcript.first?.messageId)
            #expect(try view.conversation("c-1")?.status == .ended)
            #expect(try view.conversation("c-4")?.agentId == "bob")
            let bob = try #require(try view.agentView("bob"))
            #expect(bob.openChats.map(\.conversationId) == ["c-4"])
            let ann = try #require(try view.agentView("ann"))
            #expect(ann.unread == 2, "both DID messages are unread: the read horizon (1) is below them")
            #expect(try view.recent("ann").map(\.message.text) == ["Ann, call me back", "Are you there?"])
            #expect(ann.openChats.map(\.kind) == [.did])
        }
    }

    @Test("random command sequences in random batches keep live projections equal to a rebuild", arguments: [1, 2, 3])
    func randomSequences(seed: UInt64) throws {
        let dir = try TemporaryDirectory()
        let engine = try openEngine(dir.path, mapSize: 256 << 10)
        try run(engine, directoryCommands)
        var generator = SplitMix64(seed: seed)
        var produced: [String] = []
        for _ in 0..<60 {
            let size = Int.random(in: 1...12, using: &generator)
            let batch = (0..<size).map { _ in randomRequest(&generator, head: engine.head.position) }
            _ = try engine.execute(batch)
        }
        expectSameDump(try engine.projections.dump(), try rebuiltDump(of: engine, scratch: dir))
        #expect(try ChainVerifier(log: engine.log).verify().finding == nil)
        let json = EventJSON()
        produced = try allEvents(engine).map { try json.line($0) }
        try validateWithSchemas(produced, scratch: dir)
    }

    @Test("deferred projection changes: later batches decide against them, readers see them at the checkpoint")
    func deferredUntilCheckpoint() throws {
        let dir = try TemporaryDirectory()
        let engine = try openEngine(dir.path)
        try run(engine, directoryCommands)
        let before = engine.head.position
        let login = try engine.execute([CommandRequest(.login(Login(agentId: "ann", state: .ready)), actor: admin)], deferringProjections: true)
        #expect(login.first?.result != nil)
        // Decided against the pending login: only a logged-in agent may change state.
        let busy = try engine.execute([CommandRequest(.setState(SetState(agentId: "ann", state: .notReady)), actor: admin)], deferringProjections: true)
        #expect(busy.first?.result != nil, "\(String(describing: busy.first?.rejection))")
        #expect(engine.pendingProjectionBatches == 2)
        #expect(engine.projectionsPosition == before, "readers still see the last checkpoint")
        #expect(try engine.projections.read { try $0.agent("ann")?.state } == .loggedOut)
        #expect(try engine.projections.read { try $0.checkpoint() } == before)
        engine.checkpointProjections()
        #expect(engine.pendingProjectionBatches == 0)
        #expect(engine.projectionsPosition == engine.head.position)
        #expect(try engine.projections.read { try $0.agent("ann")?.state } == .notReady)
        expectSameDump(try engine.projections.dump(), try rebuiltDump(of: engine, scratch: dir))
    }

    @Test("projection changes still pending at a crash are redone from the log on open")
    func pendingLostAtCrash() throws {
        let dir = try TemporaryDirectory()
        do {
            let engine = try openEngine(dir.path)
            try run(engine, directoryCommands)
            for command in scenarioCommands.dropFirst(directoryCommands.count) {
                let outcome = try engine.execute([CommandRequest(command, actor: admin)], deferringProjections: true)
                #expect(outcome.first?.result != nil, "\(command)")
            }
            // Dropped without a checkpoint: the pending transaction is aborted, as a crash would lose it.
        }
        let reopened = try openEngine(dir.path)
        #expect(try reopened.projections.read { try $0.checkpoint() } == reopened.head.position)
        expectSameDump(try reopened.projections.dump(), try rebuiltDump(of: reopened, scratch: dir))
    }

    @Test("random batches with deferred projections and random checkpoints, through map growth, equal a rebuild", arguments: [4, 5])
    func randomDeferred(seed: UInt64) throws {
        let dir = try TemporaryDirectory()
        let engine = try openEngine(dir.path, mapSize: 256 << 10)
        try run(engine, directoryCommands)
        var generator = SplitMix64(seed: seed)
        for _ in 0..<60 {
            let size = Int.random(in: 1...12, using: &generator)
            let batch = (0..<size).map { _ in randomRequest(&generator, head: engine.head.position) }
            _ = try engine.execute(batch, deferringProjections: true)
            if Int.random(in: 0..<4, using: &generator) == 0 { engine.checkpointProjections() }
        }
        engine.checkpointProjections()
        #expect(engine.projectionsPosition == engine.head.position)
        expectSameDump(try engine.projections.dump(), try rebuiltDump(of: engine, scratch: dir))
    }
}

/// A random command over the test directory: valid most of the time, sometimes refused.
func randomRequest(_ g: inout SplitMix64, head: UInt64) -> CommandRequest {
    let agents = ["ann", "bob", "cy"]
    let services = ["sales", "billing", "voice"]
    let customers = (1...6).map { "+1555123000\($0)" }
    let locals = ["+15550000001", "+15550000002", "+15550001001", "+15559999999"]
    let agent = agents.randomElement(using: &g) ?? "ann"
    let customer = customers.randomElement(using: &g) ?? customers[0]
    let conversation = "c-\(Int.random(in: 1...40, using: &g))"
    let message = "m-\(Int.random(in: 1...80, using: &g))"
    let statuses = DeliveryStatus.allCases
    let command: Command
    switch Int.random(in: 0..<12, using: &g) {
    case 0: command = .login(Login(agentId: agent, state: Bool.random(using: &g) ? .ready : .notReady))
    case 1: command = .logout(Logout(agentId: agent))
    case 2:
        command = .setState(SetState(agentId: agent, state: .busy, call: CallContext(
            callId: "call-\(Int.random(in: 1...9, using: &g))", serviceId: services.randomElement(using: &g) ?? "sales",
            customerNumber: customer)))
    case 3, 4:
        command = .send(SendMessage(agentId: agent, serviceId: services.randomElement(using: &g), customerNumber: customer,
            text: ["hi", "", "Ünïcödé 😀", String(repeating: "long ", count: 400)].randomElement(using: &g) ?? "hi"))
    case 5: command = .send(SendMessage(agentId: agent, conversationId: conversation, text: "reply"))
    case 6: command = .send(SendMessage(agentId: agent, customerNumber: customer, fromDid: true, text: "from my DID"))
    case 7:
        command = .reportDelivery(ReportDelivery(messageId: message, carrierReference: Bool.random(using: &g) ? "ref-\(message)" : nil,
            status: statuses.randomElement(using: &g) ?? .sent))
    case 8, 9:
        command = .receive(ReceiveInbound(from: customer, to: locals.randomElement(using: &g) ?? locals[0], text: "customer says hi"))
    case 10:
        command = Bool.random(using: &g)
            ? .acceptChat(AcceptChat(agentId: agent, conversationId: conversation))
            : .endChat(EndChat(agentId: agent, conversationId: conversation))
    default: command = .markRecentRead(MarkRecentRead(agentId: agent, upTo: UInt64.random(in: 0...(head + 2), using: &g)))
    }
    let key: String? = Int.random(in: 0..<4, using: &g) == 0 ? "key-\(Int.random(in: 0..<20, using: &g))" : nil
    return CommandRequest(command, actor: frontend, idempotencyKey: key)
}
