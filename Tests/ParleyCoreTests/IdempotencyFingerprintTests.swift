import ParleyCore
import Testing

/// A command and a copy with one field changed.
struct FingerprintVariant: Sendable, CustomTestStringConvertible {
    let label: String
    let base: Command
    let changed: Command
    var testDescription: String { label }
}

private let photo = Attachment(name: "a.jpg", contentType: "image/jpeg", size: 10, reference: "r1")
private let call = CallContext(callId: "k1", serviceId: "s", customerNumber: "+15550001")

private func send(
    agent: String = "a", conversation: String? = nil, service: String? = "s", customer: String? = "+15550001",
    did: Bool = false, text: String = "hi", attachments: [Attachment] = []
) -> Command {
    .send(SendMessage(
        agentId: agent, conversationId: conversation, serviceId: service, customerNumber: customer, fromDid: did,
        text: text, attachments: attachments
    ))
}

private func agent(id: String = "a", name: String = "A", did: String? = nil, sms: Bool = true, services: [String] = ["s"]) -> Command {
    .putAgent(PutAgent(agentId: id, displayName: name, did: did, smsAllowed: sms, services: services))
}

private func service(id: String = "s", name: String = "S", number: String? = "+1555", sms: Bool = true, chats: Bool = false) -> Command {
    .putService(PutService(serviceId: id, name: name, smsNumber: number, smsEnabled: sms, inboundChats: chats))
}

private func report(id: String? = "m-1", ref: String? = nil, status: DeliveryStatus = .sent, detail: String? = nil) -> Command {
    .reportDelivery(ReportDelivery(messageId: id, carrierReference: ref, status: status, detail: detail))
}

private func receive(from: String = "+1555", to: String = "+1666", text: String = "t", attachments: [Attachment] = [], ref: String? = nil) -> Command {
    .receive(ReceiveInbound(from: from, to: to, text: text, attachments: attachments, carrierReference: ref))
}

@Suite("Command fingerprint")
struct IdempotencyFingerprintTests {
    static let variants: [FingerprintVariant] = [
        .init(label: "send agent", base: send(), changed: send(agent: "b")),
        .init(label: "send conversation nil→id", base: send(), changed: send(conversation: "c-1")),
        .init(label: "send conversation id", base: send(conversation: "c-1"), changed: send(conversation: "c-2")),
        .init(label: "send service", base: send(), changed: send(service: "t")),
        .init(label: "send service nil", base: send(), changed: send(service: nil)),
        .init(label: "send service empty vs nil", base: send(service: ""), changed: send(service: nil)),
        .init(label: "send customer", base: send(), changed: send(customer: "+15550002")),
        .init(label: "send fromDid", base: send(), changed: send(did: true)),
        .init(label: "send text", base: send(), changed: send(text: "hi!")),
        .init(label: "send text empty", base: send(), changed: send(text: "")),
        .init(label: "send fields do not run together", base: send(service: "ab", customer: "c"), changed: send(service: "a", customer: "bc")),
        .init(label: "send attachment added", base: send(), changed: send(attachments: [photo])),
        .init(label: "send attachment name", base: send(attachments: [photo]), changed: send(attachments: [Attachment(name: "b.jpg", contentType: "image/jpeg", size: 10, reference: "r1")])),
        .init(label: "send attachment type", base: send(attachments: [photo]), changed: send(attachments: [Attachment(name: "a.jpg", contentType: "image/png", size: 10, reference: "r1")])),
        .init(label: "send attachment size", base: send(attachments: [photo]), changed: send(attachments: [Attachment(name: "a.jpg", contentType: "image/jpeg", size: 11, reference: "r1")])),
        .init(label: "send attachment reference", base: send(attachments: [photo]), changed: send(attachments: [Attachment(name: "a.jpg", contentType: "image/jpeg", size: 10, reference: "r2")])),
        .init(label: "send attachment twice", base: send(attachments: [photo]), changed: send(attachments: [photo, photo])),
        .init(label: "putAgent id", base: agent(), changed: agent(id: "b")),
        .init(label: "putAgent name", base: agent(), changed: agent(name: "B")),
        .init(label: "putAgent did", base: agent(), changed: agent(did: "+1777")),
        .init(label: "putAgent smsAllowed", base: agent(), changed: agent(sms: false)),
        .init(label: "putAgent services", base: agent(), changed: agent(services: ["s", "t"])),
        .init(label: "putAgent services order", base: agent(services: ["s", "t"]), changed: agent(services: ["t", "s"])),
        .init(label: "putAgent services split", base: agent(services: ["st"]), changed: agent(services: ["s", "t"])),
        .init(label: "putAgent services empty", base: agent(services: []), changed: agent(services: [""])),
        .init(label: "putService id", base: service(), changed: service(id: "t")),
        .init(label: "putService name", base: service(), changed: service(name: "T")),
        .init(label: "putService number", base: service(), changed: service(number: nil)),
        .init(label: "putService smsEnabled", base: service(), changed: service(sms: false)),
        .init(label: "putService inboundChats", base: service(), changed: service(chats: true)),
        .init(label: "putTemplate text", base: .putTemplate(PutTemplate(templateId: "t", title: "T", text: "x")), changed: .putTemplate(PutTemplate(templateId: "t", title: "T", text: "y"))),
        .init(label: "putTemplate title", base: .putTemplate(PutTemplate(templateId: "t", title: "T", text: "x")), changed: .putTemplate(PutTemplate(templateId: "t", title: "U", text: "x"))),
        .init(label: "putTemplate services", base: .putTemplate(PutTemplate(templateId: "t", title: "T", text: "x")), changed: .putTemplate(PutTemplate(templateId: "t", title: "T", text: "x", services: ["s"]))),
        .init(label: "putSettings counter", base: .putSettings(PutSettings(smsCounterEnabled: true, maxSegments: 10)), changed: .putSettings(PutSettings(smsCounterEnabled: false, maxSegments: 10))),
        .init(label: "putSettings max", base: .putSettings(PutSettings(smsCounterEnabled: true, maxSegments: 10)), changed: .putSettings(PutSettings(smsCounterEnabled: true, maxSegments: 11))),
        .init(label: "login state", base: .login(Login(agentId: "a")), changed: .login(Login(agentId: "a", state: .ready))),
        .init(label: "login agent", base: .login(Login(agentId: "a")), changed: .login(Login(agentId: "b"))),
        .init(label: "login vs logout", base: .login(Login(agentId: "a")), changed: .logout(Logout(agentId: "a"))),
        .init(label: "setState state", base: .setState(SetState(agentId: "a", state: .busy, call: call)), changed: .setState(SetState(agentId: "a", state: .afterCallWork, call: call))),
        .init(label: "setState callId", base: .setState(SetState(agentId: "a", state: .busy, call: call)), changed: .setState(SetState(agentId: "a", state: .busy, call: CallContext(callId: "k2", serviceId: "s", customerNumber: "+15550001")))),
        .init(label: "setState call service", base: .setState(SetState(agentId: "a", state: .busy, call: call)), changed: .setState(SetState(agentId: "a", state: .busy, call: CallContext(callId: "k1", serviceId: "t", customerNumber: "+15550001")))),
        .init(label: "setState call customer", base: .setState(SetState(agentId: "a", state: .busy, call: call)), changed: .setState(SetState(agentId: "a", state: .busy, call: CallContext(callId: "k1", serviceId: "s", customerNumber: "+15550002")))),
        .init(label: "setState call nil", base: .setState(SetState(agentId: "a", state: .busy, call: call)), changed: .setState(SetState(agentId: "a", state: .busy))),
        .init(label: "report id", base: report(), changed: report(id: "m-2")),
        .init(label: "report id vs ref", base: report(id: "x", ref: nil), changed: report(id: nil, ref: "x")),
        .init(label: "report ref", base: report(ref: "r"), changed: report(ref: "s")),
        .init(label: "report status", base: report(), changed: report(status: .delivered)),
        .init(label: "report detail", base: report(), changed: report(detail: "d")),
        .init(label: "receive from", base: receive(), changed: receive(from: "+1556")),
        .init(label: "receive to", base: receive(), changed: receive(to: "+1667")),
        .init(label: "receive text", base: receive(), changed: receive(text: "u")),
        .init(label: "receive attachments", base: receive(), changed: receive(attachments: [photo])),
        .init(label: "receive reference", base: receive(), changed: receive(ref: "r")),
        .init(label: "accept conversation", base: .acceptChat(AcceptChat(agentId: "a", conversationId: "c-1")), changed: .acceptChat(AcceptChat(agentId: "a", conversationId: "c-2"))),
        .init(label: "accept vs end", base: .acceptChat(AcceptChat(agentId: "a", conversationId: "c-1")), changed: .endChat(EndChat(agentId: "a", conversationId: "c-1"))),
        .init(label: "end agent", base: .endChat(EndChat(agentId: "a", conversationId: "c-1")), changed: .endChat(EndChat(agentId: "b", conversationId: "c-1"))),
        .init(label: "markRecentRead upTo", base: .markRecentRead(MarkRecentRead(agentId: "a", upTo: 1)), changed: .markRecentRead(MarkRecentRead(agentId: "a", upTo: 256))),
        .init(label: "markRecentRead agent", base: .markRecentRead(MarkRecentRead(agentId: "a", upTo: 1)), changed: .markRecentRead(MarkRecentRead(agentId: "b", upTo: 1))),
    ]

    @Test(arguments: variants)
    func differsWhenAFieldDiffers(_ v: FingerprintVariant) {
        #expect(v.base != v.changed)
        #expect(v.base.fingerprint != v.changed.fingerprint)
    }

    @Test func equalCommandsHaveEqualFingerprintsAndDistinctOnesDistinct() {
        // The table builds many equal commands separately (every `send()` base, say).
        let all = Self.variants.flatMap { [$0.base, $0.changed] }
        var byCommand: [Command: UInt64] = [:]
        for command in all {
            if let seen = byCommand[command] {
                #expect(seen == command.fingerprint, "equal commands, different fingerprints: \(command)")
            } else {
                byCommand[command] = command.fingerprint
            }
        }
        #expect(byCommand.count < all.count)  // some commands were built twice
        #expect(Set(byCommand.values).count == byCommand.count, "two distinct commands share a fingerprint")
    }

    @Test func equalCommandsBuiltSeparately() {
        let a = Command.send(SendMessage(agentId: "a", serviceId: "s", customerNumber: "+15550001", text: "hé 😀", attachments: [photo]))
        let b = Command.send(SendMessage(
            agentId: String("a"), serviceId: "s", customerNumber: "+1555" + "0001", text: "h" + "é 😀",
            attachments: [Attachment(name: "a.jpg", contentType: "image/jpeg", size: 10, reference: "r1")]
        ))
        #expect(a == b)
        #expect(a.fingerprint == b.fingerprint)
        // FNV-1a of nothing is the offset basis; any command moves away from it.
        #expect(a.fingerprint != 0xcbf2_9ce4_8422_2325)
    }

    @Test func fingerprintIsStableAcrossRuns() {
        // Pinned so that a change to the hashing (which would break idempotency across
        // a daemon upgrade) is noticed.
        let command = Command.logout(Logout(agentId: "a"))
        var value: UInt64 = 0xcbf2_9ce4_8422_2325
        func byte(_ b: UInt8) {
            value ^= UInt64(b)
            value &*= 0x0000_0100_0000_01b3
        }
        for field in ["logout", "a"] {
            byte(1)
            for b in field.utf8 { byte(b) }
            byte(0xFF)
        }
        #expect(command.fingerprint == value)
    }

    /// FNV-1a 64 over `bytes`, written out here as `schemas/storage.md` section 6b states it.
    private static func fnv1a(_ bytes: [UInt8]) -> UInt64 {
        var value: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes {
            value ^= UInt64(b)
            value &*= 0x0000_0100_0000_01b3
        }
        return value
    }

    /// Hex bytes as written in storage.md (`01 70 75 …`).
    private static func hex(_ text: String) -> [UInt8] {
        text.split(separator: " ").map { UInt8($0, radix: 16)! }
    }

    @Test("storage.md 6b, worked example 1: putAgent (absent field, bool, string array)")
    func storageWorkedExamplePutAgent() {
        let bytes = Self.hex(
            "01 70 75 74 41 67 65 6e 74 ff 01 61 31 ff 01 41 6c ff 00 01 01 ff 01 00 00 00 00 00 00 00 01 73 ff"
        )
        #expect(bytes.count == 33)
        #expect(Self.fnv1a(bytes) == 0x906a_5ac7_d184_8811)
        // As the daemon decodes {"agentId":"a1","displayName":"Al","services":["s"]}.
        let command = Command.putAgent(PutAgent(agentId: "a1", displayName: "Al", did: nil, smsAllowed: true, services: ["s"]))
        #expect(command.fingerprint == 0x906a_5ac7_d184_8811)
    }

    @Test("storage.md 6b, worked example 2: send (absent field, false, text, one attachment with an integer)")
    func storageWorkedExampleSend() {
        let bytes = Self.hex(
            "01 73 65 6e 64 ff 01 61 31 ff 00 01 73 ff 01 2b 31 35 35 35 30 30 30 31 ff 01 00 ff 01 68 69 ff "
                + "01 61 2e 6a 70 67 ff 01 69 6d 61 67 65 2f 6a 70 65 67 ff 01 00 00 00 00 00 00 00 0a ff 01 72 31 ff"
        )
        #expect(bytes.count == 65)
        #expect(Self.fnv1a(bytes) == 0x848e_9d4b_917b_2bb0)
        let command = Command.send(SendMessage(
            agentId: "a1", conversationId: nil, serviceId: "s", customerNumber: "+15550001", fromDid: false, text: "hi",
            attachments: [photo]
        ))
        #expect(command.fingerprint == 0x848e_9d4b_917b_2bb0)
    }

    @Test("storage.md 6b: each command's tag and field order, rebuilt from the table")
    func storageTableRows() {
        // Field builders exactly as section 6b words them.
        func present(_ bytes: [UInt8]) -> [UInt8] { [1] + bytes + [0xFF] }
        func text(_ s: String?) -> [UInt8] { s.map { present(Array($0.utf8)) } ?? [0] }
        func flag(_ b: Bool) -> [UInt8] { present([b ? 1 : 0]) }
        func integer(_ n: UInt64) -> [UInt8] { present((0..<8).reversed().map { UInt8(truncatingIfNeeded: n >> (8 * UInt64($0))) }) }
        func strings(_ list: [String]) -> [UInt8] {
            present(list.flatMap { s in (0..<8).reversed().map { UInt8(truncatingIfNeeded: UInt64(s.utf8.count) >> (8 * UInt64($0))) } + Array(s.utf8) })
        }
        func attachment(_ a: Attachment) -> [UInt8] { text(a.name) + text(a.contentType) + integer(a.size) + text(a.reference) }
        let rows: [(Command, [UInt8])] = [
            (agent(did: "+1777", sms: false, services: ["s", "t"]), text("putAgent") + text("a") + text("A") + text("+1777") + flag(false) + strings(["s", "t"])),
            (service(number: nil, chats: true), text("putService") + text("s") + text("S") + text(nil) + flag(true) + flag(true)),
            (.putTemplate(PutTemplate(templateId: "t", title: "T", text: "x", services: [])), text("putTemplate") + text("t") + text("T") + text("x") + strings([])),
            (.putSettings(PutSettings(smsCounterEnabled: true, maxSegments: 10)), text("putSettings") + flag(true) + integer(10)),
            (.login(Login(agentId: "a")), text("login") + text("a") + text("NotReady")),
            (.logout(Logout(agentId: "a")), text("logout") + text("a")),
            (.setState(SetState(agentId: "a", state: .busy, call: call)), text("setState") + text("a") + text("Busy") + text("k1") + text("s") + text("+15550001")),
            (.setState(SetState(agentId: "a", state: .ready)), text("setState") + text("a") + text("Ready") + text(nil) + text(nil) + text(nil)),
            (send(conversation: "c-1", service: nil, customer: nil, did: true, text: "", attachments: [photo, photo]),
             text("send") + text("a") + text("c-1") + text(nil) + text(nil) + flag(true) + text("") + attachment(photo) + attachment(photo)),
            (report(id: nil, ref: "r", status: .delivered, detail: "d"), text("reportDelivery") + text(nil) + text("r") + text("delivered") + text("d")),
            (receive(attachments: [photo], ref: "in-1"), text("receive") + text("+1555") + text("+1666") + text("t") + text("in-1") + attachment(photo)),
            (.acceptChat(AcceptChat(agentId: "a", conversationId: "c-1")), text("acceptChat") + text("a") + text("c-1")),
            (.endChat(EndChat(agentId: "a", conversationId: "c-1")), text("endChat") + text("a") + text("c-1")),
            (.markRecentRead(MarkRecentRead(agentId: "a", upTo: 300)), text("markRecentRead") + text("a") + integer(300)),
        ]
        for (command, bytes) in rows {
            #expect(command.fingerprint == Self.fnv1a(bytes), "\(command)")
        }
    }

    @Test func idempotencyScopes() {
        #expect(Command.putAgent(PutAgent(agentId: "a", displayName: "A", services: [])).idempotencyScope == "admin")
        #expect(Command.putSettings(PutSettings(smsCounterEnabled: true, maxSegments: 1)).idempotencyScope == "admin")
        #expect(report().idempotencyScope == "carrier")
        #expect(receive().idempotencyScope == "carrier")
        #expect(send(agent: "bob").idempotencyScope == "agent:bob")
        #expect(Command.markRecentRead(MarkRecentRead(agentId: "x", upTo: 0)).idempotencyScope == "agent:x")
    }

    @Test func stringListsWithEmbeddedZeroBytesDoNotCollide() {
        // Each element is length-prefixed, so a NUL inside an element cannot fake a boundary.
        #expect(agent(services: ["a\0b"]).fingerprint != agent(services: ["a", "b"]).fingerprint)
        #expect(agent(services: ["a", ""]).fingerprint != agent(services: ["a\0"]).fingerprint)
    }
}
