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
}
