import Foundation
import LMDB
import ParleyCore
import ParleyStore
import Testing

@Suite("Stored format")
struct StorageFormatTests {
    @Test("the worked example of schemas/storage.md holds byte for byte")
    func workedExample() throws {
        let event = RecordedEvent(
            position: 1, stream: "agent:a1", streamVersion: 1, timestamp: 0, actor: Actor(uid: 0, role: .admin),
            idempotencyKey: nil, event: .agentLoggedOut(AgentLoggedOut(agentId: "a1"))
        )
        let body: [UInt8] = [
            0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
            0x08, 0x61, 0x67, 0x65, 0x6e, 0x74, 0x3a, 0x61, 0x31, 0x01, 0x06, 0x00, 0x01, 0x00, 0x00, 0x00,
            0x00, 0x02, 0x61, 0x31,
        ]
        #expect(event.binaryEncoded == body)
        let (value, hash) = StoredEvent.encode(event, after: .zero)
        #expect(hash.hex == "40deed408c13561d6d8c7c689d21db301da45227bed0e471e3bdc82c5f469439")
        #expect(value.count == 101)
        #expect(value[0] == 1 && value[1..<33].allSatisfy { $0 == 0 } && Array(value[33..<65]) == hash.bytes)
        #expect(Array(value[65...]) == body)
        let json = try EventJSON().line(StoredEvent(recorded: event, prevHash: .zero, hash: hash))
        #expect(json.contains("\"hash\":\"40deed408c13561d6d8c7c689d21db301da45227bed0e471e3bdc82c5f469439\""))
    }

    @Test("a parley-log/1 log is read as it is, and upgraded by the first writable open: its stream index deleted, nothing else changed")
    func upgradesFormatOne() throws {
        let dir = try TemporaryDirectory()
        let before: [StoredEvent]
        do {
            let engine = try openEngine(dir.path)
            try run(engine, scenarioCommands)
            before = try allEvents(engine)
        }
        // Make it a format-1 log: the per-stream index it had, and its marker.
        do {
            let environment = try Environment(path: dir.child(Engine.logFile), options: EnvironmentOptions(maxDatabases: 8))
            let meta = try environment.openDatabase("meta")
            let streams = try environment.openDatabase("streams", create: true)
            try environment.write { txn in
                for stored in before {
                    let recorded = stored.recorded
                    try txn.put(streams, key: Key.numbered(recorded.stream, recorded.streamVersion), value: Key.bigEndian(recorded.position))
                }
                try txn.put(meta, key: Key.of("format"), value: Key.of(EventLog.previousFormat))
            }
        }
        func storedFormat() throws -> (format: String?, hasStreams: Bool) {
            let environment = try Environment(path: dir.child(Engine.logFile), options: EnvironmentOptions(maxDatabases: 8, readOnly: true))
            let meta = try environment.openDatabase("meta")
            let format = try environment.read { txn in try txn.get(meta, Key.of("format")).map { String(decoding: $0, as: UTF8.self) } }
            let hasStreams = (try? environment.openDatabase("streams")) != nil
            return (format, hasStreams)
        }
        #expect(try storedFormat() == (EventLog.previousFormat, true))

        // Read-only: read as it is, and left as it is.
        do {
            let reader = try openEngine(dir.path, readOnly: true)
            #expect(try allEvents(reader) == before)
        }
        #expect(try storedFormat() == (EventLog.previousFormat, true))

        // Writable: upgraded once, with a sentence; events untouched; numbering goes on.
        let warnings = Warnings()
        let engine = try openEngine(dir.path, warnings: warnings)
        #expect(warnings.all.count == 1 && warnings.all.first?.contains("upgraded from parley-log/1 to parley-log/2") == true, "\(warnings.all)")
        #expect(try storedFormat() == (EventLog.format, false))
        #expect(try allEvents(engine) == before)
        let rename = PutAgent(agentId: "ann", displayName: "Ann B.", did: "+15550001001", services: ["sales", "billing"])
        let last = try #require(try run(engine, [.putAgent(rename)]).last?.events.last)
        let earlier = before.filter { $0.recorded.stream == last.stream }.count
        #expect(last.streamVersion == UInt64(earlier + 1))
        let log = try EventLog(path: dir.child(Engine.logFile), readOnly: true, mapSize: 4 << 20)
        let projections = try ProjectionDatabase(path: dir.child(Engine.projectionsFile), readOnly: true, mapSize: 4 << 20)
        #expect(try Auditor(log: log, projections: projections).verify().findings.isEmpty)
    }
}

@Suite("Ids")
struct EngineIDTests {
    @Test("a reopened engine makes ids above every stored one, even with its clock an hour behind")
    func idsFollowTheStoreAcrossRestarts() throws {
        let dir = try TemporaryDirectory()
        let send = SendMessage(agentId: "bob", serviceId: "sales", customerNumber: "+15557654321", text: "hi")
        let first: [CommandResult]
        do {
            let engine = try Engine(directory: dir.path, options: EngineOptions(initialMapSize: 1 << 20, clock: { 1_800_000_000_000 }))
            try run(engine, directoryCommands)
            try run(engine, [.login(Login(agentId: "bob", state: .ready))], actor: frontend)
            first = try run(engine, [.send(send)], actor: frontend)
        }
        let engine = try Engine(directory: dir.path, options: EngineOptions(initialMapSize: 1 << 20, clock: { 1_800_000_000_000 - 3_600_000 }))
        let opened = try #require(first.last?.events.first?.event.conversationId)
        try run(engine, [.endChat(EndChat(agentId: "bob", conversationId: opened))], actor: frontend)
        let second = try run(engine, [.send(send)], actor: frontend)
        func ids(_ results: [CommandResult]) -> [String] {
            results.flatMap(\.events).compactMap { recorded -> [String]? in
                if case .messageSent(let e) = recorded.event { return [e.conversationId, e.messageId] }
                return nil
            }.flatMap { $0 }
        }
        let before = ids(first)
        let after = ids(second)
        #expect(before.count == 2 && after.count == 2)
        for (old, new) in zip(before, after) { #expect(new > old, "\(new) after \(old)") }
    }
}
