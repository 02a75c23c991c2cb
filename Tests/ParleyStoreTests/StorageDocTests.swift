import Foundation
import ParleyCore
import ParleyStore
import Testing

/// What `schemas/storage.md` says about the projections, checked against a real store's bytes.
@Suite("storage.md: projections")
struct StorageDocTests {
    private static let storageDoc = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("schemas/storage.md")

    /// The 8 big-endian bytes after the `00` of a `Key.numbered` key.
    private static func number(after prefix: String, in key: [UInt8]) -> UInt64? {
        let head = Array(prefix.utf8) + [0]
        guard key.count == head.count + 8, Array(key.prefix(head.count)) == head else { return nil }
        return key.suffix(8).reduce(0) { $0 << 8 | UInt64($1) }
    }

    @Test(
        "transcript keys count from 1, messageCount is the last sequence, inbound records carry their segment count, meta holds format"
    )
    func projectionsAsDocumented() throws {
        let dir = try TemporaryDirectory()
        let engine = try openEngine(dir.path)
        let reply = String(repeating: "a", count: 200)  // GSM-7, 2 segments
        let photo = Attachment(name: "p.jpg", contentType: "image/jpeg", size: 1, reference: "r")
        let outcomes = try engine.execute(
            (directoryCommands + [
                .login(Login(agentId: "ann", state: .ready)),
                .send(SendMessage(agentId: "ann", serviceId: "sales", customerNumber: "+15551230001", text: "hi")),
                .receive(ReceiveInbound(from: "+15551230001", to: "+15550000001", text: reply)),
                .receive(ReceiveInbound(from: "+15551230009", to: "+15550001001", text: "", attachments: [photo])),
            ]).map { CommandRequest($0, actor: admin) })
        #expect(outcomes.allSatisfy { $0.result != nil }, "\(outcomes)")
        let entries = try engine.projections.dump()

        let conversations = try entries.filter { $0.table == .conversations }.map {
            try ConversationRecord(decoding: $0.value)
        }
        let service = try #require(conversations.first { $0.kind == .service })
        let did = try #require(conversations.first { $0.kind == .did })

        for conversation in [service, did] {
            let id = conversation.conversationId
            let transcript = entries.filter { $0.table == .transcripts && Self.number(after: id, in: $0.key) != nil }
            let keySequences = transcript.compactMap { Self.number(after: id, in: $0.key) }
            let records = try transcript.map { try MessageRecord(decoding: $0.value) }
            #expect(keySequences == Array(1...UInt64(records.count)), "transcript keys of \(id) start at 1")
            #expect(records.map(\.sequence) == keySequences)
            #expect(conversation.messageCount == UInt64(records.count), "messageCount counts the messages")
            #expect(
                conversation.messageCount == keySequences.last,
                "messageCount is the last sequence, one less than the next")
            for record in records {
                let location = try #require(
                    entries.first { $0.table == .messages && $0.key == Array(record.messageId.utf8) })
                #expect(try MessageLocation(decoding: location.value).sequence == record.sequence)
            }
        }
        let inbound = try entries.filter { $0.table == .transcripts }.map { try MessageRecord(decoding: $0.value) }
            .filter { $0.direction == .inbound }
        #expect(
            inbound.map(\.segments).sorted() == [0, 2], "inbound records carry the text's segment count (0 for no text)"
        )
        #expect(inbound.allSatisfy { $0.segments == SegmentCounter.count($0.text).segments })

        let format = try #require(entries.first { $0.table == .meta && $0.key == Array("format".utf8) })
        #expect(String(decoding: format.value, as: UTF8.self) == ProjectionDatabase.format)
        let doc = try String(contentsOf: Self.storageDoc, encoding: .utf8)
        #expect(
            doc.contains("| `meta` | `format` | `\(ProjectionDatabase.format)`"),
            "storage.md documents the projections' format marker")
        #expect(doc.contains("sequence (8 BE; the first message is 1)"))
        #expect(!doc.contains("0 for inbound"))
    }
}
