import Foundation
import LMDB
import ParleyCore
import ParleyStore
import Testing

@Suite("Event log")
struct EventLogTests {
    @Test("appended events read back in order with gapless positions and the stored envelope")
    func appendAndReadBack() throws {
        let dir = try TemporaryDirectory()
        let engine = try openEngine(dir.path)
        let results = try run(engine, scenarioCommands)
        let appended = results.flatMap(\.events)
        let stored = try allEvents(engine)
        #expect(stored.map(\.recorded) == appended)
        #expect(stored.map(\.recorded.position) == Array(1...UInt64(stored.count)))
        #expect(engine.head.position == UInt64(stored.count))
        #expect(engine.head.hash == stored.last?.hash)
        #expect(stored.allSatisfy { $0.recorded.timestamp > 1_780_000_000_000 })
        #expect(stored.first?.recorded.actor == admin)
        #expect(Set(stored.map(\.recorded.type)) == Set(EventType.allCases))
    }

    @Test("stream versions are gapless per stream and the projections hold each stream's last one")
    func streamIndex() throws {
        let dir = try TemporaryDirectory()
        let engine = try openEngine(dir.path)
        try run(engine, scenarioCommands)
        let stored = try allEvents(engine)
        let byStream = Dictionary(grouping: stored.map(\.recorded), by: \.stream)
        for (stream, events) in byStream {
            #expect(events.map(\.streamVersion) == Array(1...UInt64(events.count)), "stream \(stream)")
            #expect(try engine.projections.read { try $0.streamVersion(stream) } == UInt64(events.count), "stream \(stream)")
        }
        #expect(try engine.projections.read { try $0.streamVersion("conversation:none") } == 0)
    }

    @Test("one batch: refused commands append nothing and later commands see earlier ones")
    func groupCommit() throws {
        let dir = try TemporaryDirectory()
        let engine = try openEngine(dir.path)
        try run(engine, directoryCommands + [.login(Login(agentId: "ann"))])
        let before = engine.head.position
        let outcomes = try engine.execute([
            CommandRequest(.send(SendMessage(agentId: "ann", serviceId: "sales", customerNumber: "+15551230001", text: "one")), actor: frontend),
            CommandRequest(.send(SendMessage(agentId: "nobody", serviceId: "sales", customerNumber: "+15551230001", text: "x")), actor: frontend),
            CommandRequest(.send(SendMessage(agentId: "ann", serviceId: "sales", customerNumber: "+15551230001", text: "two")), actor: frontend),
            CommandRequest(.send(SendMessage(agentId: "ann", serviceId: "sales", customerNumber: "12345", text: "x")), actor: frontend),
        ])
        #expect(outcomes[1].rejection == .unknownAgent("nobody"))
        #expect(outcomes[3].rejection == .invalidNumber(field: "customerNumber", value: "12345"))
        let first = try #require(outcomes[0].result)
        let second = try #require(outcomes[2].result)
        #expect(first.events.map(\.type) == [.conversationOpened, .messageSent])
        #expect(second.events.map(\.type) == [.messageSent], "the second send joins the conversation the first opened")
        #expect(second.events.first?.stream == first.events.first?.stream)
        #expect(engine.head.position == before + 3)
        #expect(try allEvents(engine).map(\.recorded.position) == Array(1...(before + 3)))
    }

    @Test("an id LMDB cannot use as a key fails its own command, not the batch it shares")
    func badKeyFailsOnlyItsCommand() throws {
        let dir = try TemporaryDirectory()
        let engine = try openEngine(dir.path)
        try run(engine, directoryCommands + [.login(Login(agentId: "ann"))])
        let send = Command.send(SendMessage(agentId: "ann", serviceId: "sales", customerNumber: "+15551230001", text: "ok"))
        let outcomes = try engine.execute([
            CommandRequest(send, actor: frontend),
            CommandRequest(.login(Login(agentId: "")), actor: frontend),
            CommandRequest(.reportDelivery(ReportDelivery(carrierReference: String(repeating: "r", count: 600), status: .sent)), actor: carrier),
            CommandRequest(send, actor: frontend),
        ])
        #expect(outcomes[0].result != nil && outcomes[3].result != nil)
        #expect(outcomes[1].rejection?.code == "InvalidArgument")
        #expect(outcomes[2].rejection?.code == "InvalidArgument")
    }

    @Test("an idempotency key returns the original result after a reopen, and refuses a different command")
    func idempotencyAcrossReopen() throws {
        let dir = try TemporaryDirectory()
        let send = Command.send(SendMessage(agentId: "ann", serviceId: "sales", customerNumber: "+15551230001", text: "hi"))
        let original: CommandResult
        do {
            let engine = try openEngine(dir.path)
            try run(engine, directoryCommands + [.login(Login(agentId: "ann"))])
            original = try #require(try engine.execute([CommandRequest(send, actor: frontend, idempotencyKey: "k-1")]).first?.result)
            #expect(original.replayed == false)
        }
        let engine = try openEngine(dir.path)
        let head = engine.head
        let again = try #require(try engine.execute([CommandRequest(send, actor: frontend, idempotencyKey: "k-1")]).first?.result)
        #expect(again.replayed)
        #expect(again.events == original.events)
        #expect(again.position == original.position)
        #expect(engine.head == head, "a retry appends nothing")

        let different = Command.send(SendMessage(agentId: "ann", serviceId: "sales", customerNumber: "+15551230001", text: "other"))
        let refused = try engine.execute([CommandRequest(different, actor: frontend, idempotencyKey: "k-1")]).first
        #expect(refused?.rejection == .idempotencyKeyReused(key: "k-1"))
        #expect(refused?.rejection?.code == "IdempotencyKeyReused")

        let otherAgent = Command.send(SendMessage(agentId: "bob", serviceId: "sales", customerNumber: "+15551230009", text: "hi"))
        try run(engine, [.login(Login(agentId: "bob"))])
        let scoped = try engine.execute([CommandRequest(otherAgent, actor: frontend, idempotencyKey: "k-1")]).first
        #expect(scoped?.result?.replayed == false, "keys are scoped per agent")
        #expect(engine.head.position > head.position)
    }

    @Test("a retry inside the same batch returns the first result")
    func idempotencyWithinBatch() throws {
        let dir = try TemporaryDirectory()
        let engine = try openEngine(dir.path)
        try run(engine, directoryCommands + [.login(Login(agentId: "ann"))])
        let send = Command.send(SendMessage(agentId: "ann", serviceId: "sales", customerNumber: "+15551230001", text: "hi"))
        let outcomes = try engine.execute([
            CommandRequest(send, actor: frontend, idempotencyKey: "dup"),
            CommandRequest(send, actor: frontend, idempotencyKey: "dup"),
        ])
        let first = try #require(outcomes[0].result)
        let second = try #require(outcomes[1].result)
        #expect(second.replayed)
        #expect(second.events == first.events)
        #expect(try allEvents(engine).filter { $0.recorded.type == .messageSent }.count == 1)
    }

    @Test("the hash chain verifies, and the head hash is the last event's")
    func chainVerifies() throws {
        let dir = try TemporaryDirectory()
        let engine = try openEngine(dir.path)
        try run(engine, scenarioCommands)
        let report = try ChainVerifier(log: engine.log).verify()
        #expect(report.finding == nil)
        #expect(report.events == Int(engine.head.position))
        #expect(report.head == engine.head)
        let stored = try allEvents(engine)
        #expect(stored.first?.prevHash == .zero)
        for (previous, next) in zip(stored, stored.dropFirst()) { #expect(next.prevHash == previous.hash) }
    }

    @Test("tampering is found at the position it happened", arguments: tamperings)
    func tampering(_ tampering: Tampering) throws {
        let dir = try TemporaryDirectory()
        do {
            let engine = try openEngine(dir.path)
            try run(engine, scenarioCommands)
        }
        try tamper(dir, tampering, at: 5)
        let log = try EventLog(path: dir.child(Engine.logFile), readOnly: true, mapSize: 1 << 20)
        let report = try ChainVerifier(log: log).verify()
        let finding = try #require(report.finding)
        #expect(finding.position == 5, "\(finding)")  // for a deletion, the missing position
    }

    static let tamperings: [Tampering] = [.flipByte, .delete, .swap]

    @Test("the map grows when it fills and nothing is lost")
    func mapGrowth() throws {
        let dir = try TemporaryDirectory()
        let engine = try openEngine(dir.path, mapSize: 64 << 10)
        try run(engine, directoryCommands + [.login(Login(agentId: "ann"))])
        let initial = engine.log.environment.mapSize
        var expected = engine.head.position
        for batch in 0..<40 {
            let requests = (0..<50).map { i in
                CommandRequest(.send(SendMessage(
                    agentId: "ann", serviceId: "sales", customerNumber: "+1555200\(String(format: "%04d", batch * 50 + i))",
                    text: String(repeating: "x", count: 120)
                )), actor: frontend)
            }
            let outcomes = try engine.execute(requests)
            #expect(outcomes.allSatisfy { $0.result != nil })
            expected += 100
        }
        #expect(engine.head.position == expected)
        #expect(engine.log.environment.mapSize > initial)
        #expect(engine.projections.environment.mapSize > initial)
        #expect(try ChainVerifier(log: engine.log).verify().finding == nil)
        #expect(try engine.projections.read { try $0.checkpoint() } == expected)
    }

    @Test("every appended event matches the JSON Schemas in schemas/")
    func eventsMatchSchemas() throws {
        let dir = try TemporaryDirectory()
        let engine = try openEngine(dir.path)
        try run(engine, scenarioCommands)
        try run(engine, [.send(SendMessage(agentId: "ann", serviceId: "sales", customerNumber: "+15551239999", text: "",
            attachments: [Attachment(name: "a.pdf", contentType: "application/pdf", size: 1, reference: "ref")]))])
        let json = EventJSON()
        let lines = try allEvents(engine).map { try json.line($0) }
        try validateWithSchemas(lines, scratch: dir)
    }
}

/// Runs `tools/validate-events` over JSON lines; records an issue with its output when it fails.
func validateWithSchemas(_ lines: [String], scratch: TemporaryDirectory, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let file = scratch.child("events-\(UUID().uuidString).jsonl")
    try (lines.joined(separator: "\n") + "\n").write(toFile: file, atomically: true, encoding: .utf8)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", repositoryRoot + "/tools/validate-events", file]
    let output = Pipe()
    process.standardOutput = output
    process.standardError = output
    try process.run()
    let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    #expect(process.terminationStatus == 0, "validate-events: \(text)", sourceLocation: sourceLocation)
    #expect(text.contains("\(lines.count) events valid"), sourceLocation: sourceLocation)
}
