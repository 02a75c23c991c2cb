import ParleyCore
import Testing

/// One sample per shape of every event type.
enum Samples {
    static let photo = Attachment(name: "pic.jpg", contentType: "image/jpeg", size: 1 << 40, reference: "s3://b/k")
    static let call = CallContext(callId: "call-9", serviceId: "sales", customerNumber: "+15557770001")

    static let events: [Event] = [
        .agentConfigured(AgentConfigured(agentId: "alice", displayName: "Alice Ünïcødé 😀", did: "+15551110001", smsAllowed: true, services: ["a", "b"])),
        .agentConfigured(AgentConfigured(agentId: "bob", displayName: "B", did: nil, smsAllowed: false, services: [])),
        .serviceConfigured(ServiceConfigured(serviceId: "s", name: "S", smsNumber: "+1555", smsEnabled: true, inboundChats: true)),
        .serviceConfigured(ServiceConfigured(serviceId: "v", name: "V", smsNumber: nil, smsEnabled: false, inboundChats: false)),
        .templateConfigured(TemplateConfigured(templateId: "t", title: "T", text: "Hello {name}", services: ["s"])),
        .settingsConfigured(SettingsConfigured(smsCounterEnabled: false, maxSegments: 255)),
        .agentLoggedIn(AgentLoggedIn(agentId: "alice", state: .ready)),
        .agentLoggedOut(AgentLoggedOut(agentId: "alice")),
        .agentStateChanged(AgentStateChanged(agentId: "alice", state: .busy, call: call)),
        .agentStateChanged(AgentStateChanged(agentId: "alice", state: .notReady, call: nil)),
        .conversationOpened(ConversationOpened(conversationId: "c-1", kind: .service, origin: .customer, serviceId: "s", agentId: nil, localNumber: "+1555", customerNumber: "+1666")),
        .conversationOpened(ConversationOpened(conversationId: "c-2", kind: .did, origin: .agent, serviceId: nil, agentId: "alice", localNumber: "+1777", customerNumber: "+1666")),
        .messageSent(MessageSent(conversationId: "c-1", messageId: "m-1", agentId: "alice", from: "+1555", to: "+1666", text: "Привет 😀", attachments: [photo, photo], encoding: .ucs2, characters: 8, units: 9, segments: 1, callId: "call-9")),
        .messageSent(MessageSent(conversationId: "c-1", messageId: "m-2", agentId: "alice", from: "+1555", to: "+1666", text: "", attachments: [], encoding: .gsm7, characters: 0, units: 0, segments: 0, callId: nil)),
        .deliveryReported(DeliveryReported(conversationId: "c-1", messageId: "m-1", status: .undelivered, carrierReference: "ref", detail: "E1")),
        .deliveryReported(DeliveryReported(conversationId: "c-1", messageId: "m-1", status: .failed, carrierReference: nil, detail: nil)),
        .messageSubmitted(MessageSubmitted(conversationId: "c-1", messageId: "m-1", connector: "kannel", attempt: 2)),
        .partReported(PartReported(conversationId: "c-1", messageId: "m-1", part: 255, status: .sent, carrierReference: "kannel-m-1-2-255", detail: "ACK/")),
        .partReported(PartReported(conversationId: "c-1", messageId: "m-1", part: 1, status: .queued, carrierReference: nil, detail: nil)),
        .customerOptedOut(CustomerOptedOut(localNumber: "+15550000001", customerNumber: "+15557770001", keyword: "STOP", messageId: "m-3", conversationId: "c-1")),
        .customerOptedIn(CustomerOptedIn(localNumber: "+15550000001", customerNumber: "+15557770001", keyword: "UNSTOP", messageId: "m-4", conversationId: nil)),
        .optOutConfigured(.builtIn),
        .optOutConfigured(OptOutConfigured(serviceId: "sales", stopKeywords: ["ARRÊT"], startKeywords: ["START"], helpKeywords: ["INFO"], helpText: "Help", confirmations: true, stopConfirmation: "Bye", startConfirmation: "Hi")),
        .systemMessageSent(SystemMessageSent(conversationId: "c-1", messageId: "m-5", reason: .help, from: "+15550000001", to: "+15557770001", text: "Reply STOP to opt out 😀")),
        .inboundReceived(InboundReceived(conversationId: "c-1", messageId: "m-3", from: "+1666", to: "+1555", text: "yes", attachments: [photo], inReplyTo: "m-1", carrierReference: "in-1")),
        .inboundReceived(InboundReceived(conversationId: "c-1", messageId: "m-4", from: "+1666", to: "+1555", text: "", attachments: [], inReplyTo: nil, carrierReference: nil)),
        .inboundIgnored(InboundIgnored(messageId: "m-5", from: "+1666", to: "+1555", text: "x", attachments: [], reason: .conversationEnded, conversationId: "c-1", carrierReference: "r")),
        .inboundIgnored(InboundIgnored(messageId: "m-6", from: "+1666", to: "+1999", text: "x", attachments: [photo], reason: .unknownNumber, conversationId: nil, carrierReference: nil)),
        .inboundIgnored(InboundIgnored(messageId: "m-7", from: "+1666", to: "+1999", text: "x", attachments: [], reason: .smsDisabled, conversationId: nil, carrierReference: nil)),
        .inboundIgnored(InboundIgnored(messageId: "m-8", from: "+1666", to: "+1999", text: "x", attachments: [], reason: .noInboundChats, conversationId: nil, carrierReference: nil)),
        .chatAccepted(ChatAccepted(conversationId: "c-1", agentId: "bob")),
        .chatEnded(ChatEnded(conversationId: "c-1", agentId: "bob")),
        .recentRead(RecentRead(agentId: "alice", upTo: .max)),
    ]

    static let recorded: [RecordedEvent] = events.enumerated().map { index, event in
        RecordedEvent(
            position: UInt64(index + 1) * 1_000_003, stream: event.stream, streamVersion: UInt64(index) * 200,
            timestamp: index.isMultiple(of: 2) ? 1_700_000_000_000 : -5, actor: index.isMultiple(of: 3) ? .system : Actor(uid: .max, role: Role.allCases[index % Role.allCases.count]),
            idempotencyKey: index.isMultiple(of: 2) ? IdempotencyKey(scope: "agent:alice", key: "k-\(index)") : nil, event: event
        )
    }
}

/// Reads one varint from `bytes`, requiring every byte to be consumed.
private func decodeVarint(_ bytes: [UInt8]) -> Result<UInt64, BinaryDecodingError> {
    bytes.withUnsafeBytes { buffer in
        Result { () throws(BinaryDecodingError) -> UInt64 in
            var reader = BinaryReader(buffer)
            let value = try reader.readVarint()
            guard reader.isAtEnd else { throw BinaryDecodingError(reason: "trailing") }
            return value
        }
    }
}

private func decodes(_ bytes: [UInt8]) -> Bool { (try? RecordedEvent(decoding: bytes)) != nil }

@Suite("Binary codec")
struct BinaryCodecTests {
    @Test func samplesCoverEveryEventType() {
        #expect(Set(Samples.events.map(\.type)) == Set(EventType.allCases))
        #expect(Set(Samples.recorded.map(\.actor.role)) == Set(Role.allCases))
    }

    @Test(arguments: Samples.recorded)
    func roundTrips(_ recorded: RecordedEvent) throws {
        let bytes = recorded.binaryEncoded
        let decoded = try RecordedEvent(decoding: bytes)
        #expect(decoded == recorded)
        #expect(decoded.binaryEncoded == bytes)
        // The envelope's first 16 bytes are the position and timestamp, little-endian.
        #expect(Array(bytes.prefix(8)) == (0..<8).map { UInt8(truncatingIfNeeded: recorded.position >> (8 * UInt64($0))) })
    }

    @Test(arguments: Samples.recorded)
    func everyTruncationThrows(_ recorded: RecordedEvent) {
        let bytes = recorded.binaryEncoded
        var accepted: [Int] = []
        for cut in 0..<bytes.count {
            do {
                _ = try RecordedEvent(decoding: Array(bytes.prefix(cut)))
                accepted.append(cut)
            } catch {
                // BinaryDecodingError is the only error the typed throw allows.
                #expect(!error.reason.isEmpty)
            }
        }
        #expect(accepted == [], "truncated encodings decoded at cut points \(accepted)")
    }

    @Test(arguments: Samples.recorded)
    func trailingBytesThrow(_ recorded: RecordedEvent) {
        #expect(throws: BinaryDecodingError.self) { try RecordedEvent(decoding: recorded.binaryEncoded + [0]) }
        #expect(throws: BinaryDecodingError.self) { try RecordedEvent(decoding: recorded.binaryEncoded + recorded.binaryEncoded) }
    }

    /// A small event whose layout offsets are easy to name.
    private static let small = RecordedEvent(
        position: 1, stream: "s", streamVersion: 1, timestamp: 0, actor: Actor(uid: 5, role: .frontend),
        idempotencyKey: nil, event: .agentLoggedOut(AgentLoggedOut(agentId: "ab"))
    )

    @Test func smallLayoutIsAsDocumented() {
        let bytes = Self.small.binaryEncoded
        #expect(bytes == [1, 0, 0, 0, 0, 0, 0, 0] + [0, 0, 0, 0, 0, 0, 0, 0] + [1, 0x73] + [1] + [6, 0] + [1, 0] + [5, 1] + [0] + [2, 0x61, 0x62])
    }

    @Test(arguments: [
        (27 as Int, [0xC3, 0x28] as [UInt8]),  // broken two-byte sequence in the agent id
        (28, [0xFF]),  // never valid in UTF-8
        (27, [0xED, 0xA0]),  // the start of an encoded surrogate half
        (17, [0x80]),  // a lone continuation byte in the stream name
    ])
    func invalidUtf8Throws(offset: Int, replacement: [UInt8]) {
        var bytes = Self.small.binaryEncoded
        bytes.replaceSubrange(offset..<(offset + replacement.count), with: replacement)
        #expect(throws: BinaryDecodingError.self) { try RecordedEvent(decoding: bytes) }
    }

    @Test func invalidEnvelopeBytesThrow() {
        let bytes = Self.small.binaryEncoded
        func corrupt(_ offset: Int, _ value: UInt8) -> [UInt8] {
            var copy = bytes
            copy[offset] = value
            return copy
        }
        #expect(decodes(bytes))
        #expect(!decodes(corrupt(19, 99)))  // unknown event type
        #expect(!decodes(corrupt(19, 0)))  // event type 0 was never used
        #expect(!decodes(corrupt(21, 2)))  // unsupported schema version
        #expect(!decodes(corrupt(24, 9)))  // unknown role
        #expect(!decodes(corrupt(25, 2)))  // not a boolean
        #expect(!decodes(corrupt(26, 0x7F)))  // string length beyond the buffer
        #expect(!decodes(corrupt(26, 0xFF)))  // unterminated varint length
    }

    @Test func invalidEventDataThrows() throws {
        let sent = Samples.recorded.first { $0.type == .messageSent }!
        var bytes = sent.binaryEncoded
        // Flip the encoding byte: find it by encoding the same event with the other encoding.
        guard case .messageSent(var event) = sent.event else { return }
        event.encoding = event.encoding == .gsm7 ? .ucs2 : .gsm7
        var other = sent
        other.event = .messageSent(event)
        let otherBytes = other.binaryEncoded
        let differing = zip(bytes, otherBytes).enumerated().filter { $0.element.0 != $0.element.1 }.map(\.offset)
        #expect(differing.count == 1)
        guard let index = differing.first else { return }
        bytes[index] = 2
        #expect(!decodes(bytes))
        bytes[index] = otherBytes[index]
        #expect(try RecordedEvent(decoding: bytes) == other)
    }

    static let varints: [(UInt64, [UInt8])] = [
        (0, [0x00]),
        (1, [0x01]),
        (127, [0x7F]),
        (128, [0x80, 0x01]),
        (300, [0xAC, 0x02]),
        (16_383, [0xFF, 0x7F]),
        (16_384, [0x80, 0x80, 0x01]),
        (UInt64(UInt32.max), [0xFF, 0xFF, 0xFF, 0xFF, 0x0F]),
        (UInt64.max - 1, [0xFE] + Array(repeating: 0xFF, count: 8) + [0x01]),
        (UInt64.max, Array(repeating: 0xFF, count: 9) + [0x01]),
    ]

    @Test(arguments: varints)
    func varintEdgeValuesRoundTrip(value: UInt64, encoded: [UInt8]) throws {
        var writer = BinaryWriter()
        writer.writeVarint(value)
        #expect(writer.bytes == encoded)
        #expect(try decodeVarint(encoded).get() == value)
        // Every truncation of a multi-byte varint throws.
        for cut in 0..<encoded.count {
            #expect(throws: BinaryDecodingError.self) { try decodeVarint(Array(encoded.prefix(cut))).get() }
        }
    }

    @Test func overlongVarintThrows() {
        #expect(throws: BinaryDecodingError.self) {
            try decodeVarint(Array(repeating: 0xFF, count: 10) + [0x01]).get()
        }
        #expect(throws: BinaryDecodingError.self) {
            try decodeVarint(Array(repeating: 0x80, count: 11) + [0x00]).get()
        }
    }

    @Test func countsBeyondInt32AreRefused() {
        var writer = BinaryWriter()
        writer.writeVarint(UInt64(Int32.max) + 1)
        let bytes = writer.bytes
        let result = bytes.withUnsafeBytes { buffer in
            Result { () throws(BinaryDecodingError) -> [String] in
                var reader = BinaryReader(buffer)
                return try reader.readStrings()
            }
        }
        #expect(throws: BinaryDecodingError.self) { try result.get() }
    }

    @Test(arguments: [UInt64(0), 127, 128, .max])
    func envelopeVarintFieldsRoundTrip(value: UInt64) throws {
        let recorded = RecordedEvent(
            position: value, stream: "agent:a", streamVersion: value, timestamp: .min, actor: Actor(uid: 0, role: .auditor),
            idempotencyKey: IdempotencyKey(scope: "", key: ""), event: .recentRead(RecentRead(agentId: "a", upTo: value))
        )
        #expect(try RecordedEvent(decoding: recorded.binaryEncoded) == recorded)
    }

    @Test func uidBeyondUInt32Throws() {
        var writer = BinaryWriter()
        writer.writeVarint(UInt64(UInt32.max) + 1)
        writer.write(Role.admin)
        #expect(throws: BinaryDecodingError.self) { try Actor(decoding: writer.bytes) }
    }

    @Test func projectionRecordsRoundTrip() throws {
        let agent = AgentRecord(agentId: "a", displayName: "A", did: "+1555", smsAllowed: true, services: ["s"], state: .busy, call: Samples.call, readHorizon: 9, unread: 3)
        #expect(try AgentRecord(decoding: agent.binaryEncoded) == agent)
        let conversation = ConversationRecord(conversationId: "c", kind: .did, origin: .customer, serviceId: nil, agentId: "a", localNumber: "+1", customerNumber: "+2", status: .ended, openedAt: 4, lastOutbound: "m", messageCount: 2)
        #expect(try ConversationRecord(decoding: conversation.binaryEncoded) == conversation)
        let message = MessageRecord(messageId: "m", conversationId: "c", sequence: 0, position: 5, timestamp: -1, direction: .outbound, from: "+1", to: "+2", text: "x", attachments: [Samples.photo], agentId: "a", segments: 1, status: .sent, statusDetail: "d", carrierReferences: ["r1", "r2"], inReplyTo: nil, submission: Submission(connector: "kannel", attempt: 2, position: 7))
        #expect(try MessageRecord(decoding: message.binaryEncoded) == message)
        let bytes = message.binaryEncoded
        for cut in 0..<bytes.count {
            #expect(throws: BinaryDecodingError.self) { try MessageRecord(decoding: Array(bytes.prefix(cut))) }
        }
    }
}
