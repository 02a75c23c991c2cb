import Foundation
import LMDB
import ParleyCore
import ParleyStore
import Testing

/// A unique temporary directory, removed when the value is released.
final class TemporaryDirectory {
    let path: String

    init() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("parley-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        path = base.path
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// A path inside the directory.
    func child(_ name: String) -> String { path + "/" + name }
}

let admin = Actor(uid: 0, role: .admin)
let frontend = Actor(uid: 1000, role: .frontend)
let carrier = Actor(uid: 1001, role: .carrier)

/// A fixed clock advancing 1 ms per call, so tests are deterministic.
func fakeClock() -> @Sendable () -> Int64 {
    let counter = Counter()
    return { counter.next() }
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Int64 = 1_780_000_000_000
    func next() -> Int64 {
        lock.lock()
        defer { lock.unlock() }
        value += 1
        return value
    }
}

/// Opens an engine with deterministic ids and clock.
func openEngine(_ directory: String, mapSize: Int = 1 << 20, readOnly: Bool = false) throws -> Engine {
    try Engine(
        directory: directory, options: EngineOptions(readOnly: readOnly, initialMapSize: mapSize, clock: fakeClock()),
        ids: SequentialIDs()
    )
}

/// The directory used by most tests: two services, three agents (one with a DID).
let directoryCommands: [Command] = [
    .putService(PutService(serviceId: "sales", name: "Sales", smsNumber: "+15550000001", smsEnabled: true, inboundChats: true)),
    .putService(PutService(serviceId: "billing", name: "Billing", smsNumber: "+15550000002", smsEnabled: true, inboundChats: false)),
    .putService(PutService(serviceId: "voice", name: "Voice only", smsNumber: nil, smsEnabled: false, inboundChats: false)),
    .putAgent(PutAgent(agentId: "ann", displayName: "Ann", did: "+15550001001", services: ["sales", "billing"])),
    .putAgent(PutAgent(agentId: "bob", displayName: "Bob", services: ["sales"])),
    .putAgent(PutAgent(agentId: "cy", displayName: "Cy", smsAllowed: false, services: ["billing"])),
    .putTemplate(PutTemplate(templateId: "hello", title: "Greeting", text: "Hello, this is {agent}.")),
    .putSettings(PutSettings(smsCounterEnabled: true, maxSegments: 10)),
]

/// A conversation touching every event type.
let scenarioCommands: [Command] = directoryCommands + [
    .login(Login(agentId: "ann", state: .ready)),
    .login(Login(agentId: "bob")),
    .setState(SetState(agentId: "ann", state: .busy, call: CallContext(callId: "call-1", serviceId: "sales", customerNumber: "+15551230001"))),
    .send(SendMessage(agentId: "ann", text: "Your confirmation number is 12345.")),
    .submitMessage(SubmitMessage(messageId: "m-2", connector: "kannel")),
    .reportDelivery(ReportDelivery(messageId: "m-2", carrierReference: "carrier-77", status: .sent)),
    .reportDelivery(ReportDelivery(carrierReference: "carrier-77", status: .delivered)),
    .reportDelivery(ReportDelivery(carrierReference: "carrier-77", status: .sent)),
    .reportDelivery(ReportDelivery(messageId: "m-2", carrierReference: "smsc-77", status: .delivered, part: 1)),
    .receive(ReceiveInbound(from: "+15551230001", to: "+15550000001", text: "Thanks! 👍")),
    .setState(SetState(agentId: "ann", state: .afterCallWork, call: CallContext(callId: "call-1", serviceId: "sales", customerNumber: "+15551230001"))),
    .endChat(EndChat(agentId: "ann", conversationId: "c-1")),
    .receive(ReceiveInbound(from: "+15551230001", to: "+15550000001", text: "One more question")),
    .acceptChat(AcceptChat(agentId: "bob", conversationId: "c-4")),
    .receive(ReceiveInbound(from: "+15551230002", to: "+15550000002", text: "Hello?")),
    .receive(ReceiveInbound(from: "+15551230003", to: "+15559999999", text: "wrong number")),
    .receive(ReceiveInbound(from: "+15551230004", to: "+15550001001", text: "Ann, call me back",
        attachments: [Attachment(name: "photo.jpg", contentType: "image/jpeg", size: 2048, reference: "s3://bucket/photo.jpg")])),
    .logout(Logout(agentId: "ann")),
    .receive(ReceiveInbound(from: "+15551230004", to: "+15550001001", text: "Are you there?")),
    .login(Login(agentId: "ann")),
    .send(SendMessage(agentId: "ann", customerNumber: "+15551230004", fromDid: true, text: "Yes, calling you now")),
    .markRecentRead(MarkRecentRead(agentId: "ann", upTo: 1)),
    .putOptOut(PutOptOut(settings: .builtIn)),
    .receive(ReceiveInbound(from: "+15551230001", to: "+15550000001", text: "HELP")),
    .receive(ReceiveInbound(from: "+15551230002", to: "+15550000002", text: "STOP")),
    .receive(ReceiveInbound(from: "+15551230002", to: "+15550000002", text: "start")),
]

/// Runs commands one per batch, requiring each to be accepted.
@discardableResult
func run(_ engine: Engine, _ commands: [Command], actor: Actor = admin) throws -> [CommandResult] {
    try commands.map { command in
        let outcome = try #require(try engine.execute([CommandRequest(command, actor: actor)]).first)
        guard let result = outcome.result else {
            Issue.record("refused: \(command) → \(String(describing: outcome.rejection))")
            throw outcome.rejection ?? Rejection.emptyMessage
        }
        return result
    }
}

/// Every stored event of the log, in order.
func allEvents(_ engine: Engine) throws -> [StoredEvent] { try engine.log.read(after: 0, limit: .max) }

/// The projections of `directory`'s log rebuilt from scratch in a fresh directory, as a dump.
func rebuiltDump(of engine: Engine, scratch: TemporaryDirectory) throws -> [(table: Table, key: [UInt8], value: [UInt8])] {
    let copy = scratch.child("rebuild-\(UUID().uuidString)")
    try FileManager.default.createDirectory(atPath: copy, withIntermediateDirectories: true)
    try engine.log.environment.copy(to: copy + "/" + Engine.logFile, compact: false)
    let rebuilt = try openEngine(copy)
    return try rebuilt.projections.dump()
}

/// Compares two projection dumps entry by entry.
func expectSameDump(
    _ live: [(table: Table, key: [UInt8], value: [UInt8])], _ rebuilt: [(table: Table, key: [UInt8], value: [UInt8])],
    sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(live.count == rebuilt.count, "entry counts differ", sourceLocation: sourceLocation)
    for (a, b) in zip(live, rebuilt) where a.table != b.table || a.key != b.key || a.value != b.value {
        Issue.record(
            "first difference in \(a.table.name): key \(String(decoding: a.key, as: UTF8.self)) vs \(b.table.name): key \(String(decoding: b.key, as: UTF8.self))",
            sourceLocation: sourceLocation
        )
        return
    }
}

/// The repository root (for tools/ and schemas/).
let repositoryRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
}()

/// The built `parley` executable beside the test bundle.
func parleyExecutable(_ name: String = "parley") throws -> String {
    let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    for candidate in [beside, beside.deletingLastPathComponent()] {
        let path = candidate.appendingPathComponent(name).path
        if FileManager.default.isExecutableFile(atPath: path) { return path }
    }
    let fallback = repositoryRoot + "/.build/debug/" + name
    guard FileManager.default.isExecutableFile(atPath: fallback) else {
        throw POSIXError(.ENOENT)
    }
    return fallback
}

/// Ways to damage a log, for tests that the audit finds them.
enum Tampering: CaseIterable {
    /// Flip one bit in an event's body.
    case flipByte
    /// Delete one event.
    case delete
    /// Swap an event with the next one.
    case swap
    /// Delete every event from the position on.
    case truncateTail
}

/// Damages the log of `dir` at `position` directly through LMDB, as an attacker with the file would.
func tamper(_ dir: TemporaryDirectory, _ tampering: Tampering, at position: UInt64, head: UInt64 = 0) throws {
    let environment = try Environment(path: dir.child(Engine.logFile), options: EnvironmentOptions(maxDatabases: 8))
    let events = try environment.openDatabase("events")
    try environment.write { txn in
        let key = Key.bigEndian(position)
        let value = try #require(try txn.get(events, key).map { Array($0) })
        switch tampering {
        case .flipByte:
            var changed = value
            changed[changed.count - 3] ^= 0x01
            try txn.put(events, key: key, value: changed)
        case .delete:
            try txn.delete(events, key: key)
        case .swap:
            let next = Key.bigEndian(position + 1)
            let other = try #require(try txn.get(events, next).map { Array($0) })
            try txn.put(events, key: key, value: other)
            try txn.put(events, key: next, value: value)
        case .truncateTail:
            for doomed in position...max(position, head) { try txn.delete(events, key: Key.bigEndian(doomed)) }
        }
    }
}
