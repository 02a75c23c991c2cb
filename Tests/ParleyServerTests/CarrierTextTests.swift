import Foundation
import ParleyCore
import ParleyProtocol
import ParleyStore
import Testing

/// Text from carriers (`carrier.inbound`) is stored and returned byte for byte when it is valid
/// text, and refused with an error naming the problem when it is not. Comparisons are of UTF-8
/// bytes: Swift's `==` on strings would call NFC and NFD equal.
@Suite("Carrier text")
struct CarrierTextTests {
    static let valid: [(name: String, text: String)] = [
        ("emoji", "Thanks 👋😀"),
        ("ZWJ sequences, skin tones, flags", "👨‍👩‍👧‍👦 👩🏽‍💻 👍🏿 🇫🇷🏳️‍🌈"),
        ("NFD: e + combining acute", "Cafe\u{0301}"),
        ("NFC: precomposed é", "Caf\u{00E9}"),
        ("stacked combining marks", "a\u{0316}\u{0301}\u{0302}\u{0303}"),
        ("Hangul jamo (NFD) and syllable (NFC)", "\u{1100}\u{1161}\u{11A8} \u{AC01}"),
        ("right to left with marks", "\u{200F}مرحبا، שלום\u{200E} 123"),
        ("CR, LF and CR LF", "line 1\r\nline 2\nline 3\rend"),
        ("tabs and form feed", "a\tb\t\tc\u{000C}d"),
        ("GSM-7 escape characters", "^{}\\[~]|€ and ordinary @£$¥"),
        ("invisible characters", "zero\u{200B}width\u{FEFF}bom\u{00AD}soft"),
        ("noncharacters and the last code point", "\u{FFFE}\u{FFFF}\u{10FFFF}"),
        ("control characters", "bell\u{0007} escape\u{001B} delete\u{007F}"),
        ("quotes and backslashes", #"she said "hi" \n is not a newline \\"#),
        ("a thousand astral characters", String(repeating: "𝄞", count: 1000)),
    ]

    /// The line sending `text` (escaped by JSONText.quote: control characters as \u escapes,
    /// everything else as raw UTF-8).
    static func inbound(_ id: Int, _ textJSON: [UInt8], from: String) -> [UInt8] {
        Array(#"{"jsonrpc":"2.0","id":\#(id),"method":"carrier.inbound","params":{"from":"\#(from)","to":"+15550100100","text":"#.utf8)
            + textJSON + Array("}}\n".utf8)
    }

    @Test("valid text is stored and returned byte for byte", arguments: Array(valid.indices))
    func byteExact(_ index: Int) async throws {
        let (name, text) = Self.valid[index]
        let server = try await TestServer()
        let client = try await server.connect()
        try await client.sendRaw(Self.inbound(1, Array(JSONText.quote(text).utf8), from: "+15557000001"))
        let answer = try await client.readObject()
        let result = try #require(answer["result"] as? [String: Any], "\(name): \(answer)")
        let conversationId = try #require(result["conversationId"] as? String)
        let messageId = try #require(result["messageId"] as? String)
        // Stored: the event in the log.
        let position = try #require((result["position"] as? NSNumber)?.uint64Value)
        let stored = try #require(try server.engine.log.event(at: position))
        guard case .inboundReceived(let event) = stored.recorded.event else {
            Issue.record("\(name): position \(position) is not InboundReceived")
            return
        }
        #expect(Array(event.text.utf8) == Array(text.utf8), "\(name): stored differently")
        // Returned: the transcript and the log over the socket.
        let messages = try await client.result("conversation.get", ["conversationId": conversationId])["messages"] as? [[String: Any]]
        let message = try #require(messages?.first { $0["messageId"] as? String == messageId })
        #expect((message["text"] as? String).map { Array($0.utf8) } == Array(text.utf8), "\(name): conversation.get differs")
        let read = try await client.result("log.read", ["after": position - 1, "limit": 1])
        let logged = ((read["events"] as? [[String: Any]])?.first?["data"] as? [String: Any])?["text"] as? String
        #expect(logged.map { Array($0.utf8) } == Array(text.utf8), "\(name): log.read differs: \(read)")
        try await server.stop()
    }

    @Test("NFC and NFD stay two different texts; an escaped surrogate pair is the same text as raw UTF-8")
    func normalizationKept() async throws {
        let server = try await TestServer()
        let client = try await server.connect()
        var stored: [[UInt8]] = []
        for (id, textJSON) in [(1, Array(#""Cafe\u0301""#.utf8)), (2, Array(#""Caf\u00e9""#.utf8)), (3, Array(#""\ud83d\ude00""#.utf8)), (4, Array("\"😀\"".utf8))] {
            try await client.sendRaw(Self.inbound(id, textJSON, from: "+1555700000\(id)"))
            let answer = try await client.readObject()
            let position = try #require(((answer["result"] as? [String: Any])?["position"] as? NSNumber)?.uint64Value, "\(answer)")
            guard case .inboundReceived(let event) = try #require(try server.engine.log.event(at: position)).recorded.event else {
                Issue.record("not InboundReceived")
                return
            }
            stored.append(Array(event.text.utf8))
        }
        #expect(stored[0] == Array("Cafe\u{0301}".utf8))
        #expect(stored[1] == Array("Caf\u{00E9}".utf8))
        #expect(stored[0] != stored[1], "NFD and NFC must not be merged")
        #expect(stored[2] == Array("😀".utf8) && stored[3] == stored[2])
        try await server.stop()
    }

    /// Text that is not Unicode text, as escapes or as bytes.
    static let invalid: [(name: String, textJSON: [UInt8], type: String)] = [
        ("lone high surrogate", Array(#""a\ud800b""#.utf8), "ParseError"),
        ("lone low surrogate", Array(#""a\udc00b""#.utf8), "ParseError"),
        ("high surrogate then a letter escape", Array(#""\ud83d\u0041""#.utf8), "ParseError"),
        ("high surrogate at the end", Array(#""hi \ud83d""#.utf8), "ParseError"),
        ("low then high", Array(#""\ude00\ud83d""#.utf8), "ParseError"),
        ("raw byte 0xFF", [0x22, 0x61, 0xFF, 0x22], "InvalidUtf8"),
        ("overlong slash", [0x22, 0xC0, 0xAF, 0x22], "InvalidUtf8"),
        ("encoded surrogate half", [0x22, 0xED, 0xB0, 0x80, 0x22], "InvalidUtf8"),
        ("beyond U+10FFFF", [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22], "InvalidUtf8"),
        ("truncated sequence", [0x22, 0xF0, 0x9F, 0x98, 0x22], "InvalidUtf8"),
        ("Latin-1 é", [0x22, 0x43, 0x61, 0x66, 0xE9, 0x22], "InvalidUtf8"),
        ("raw control character", [0x22, 0x61, 0x01, 0x62, 0x22], "ParseError"),
    ]

    @Test("text that is not Unicode text is refused with a clear error and records nothing")
    func refused() async throws {
        let server = try await TestServer()
        let client = try await server.connect()
        let head = server.engine.head
        for (index, item) in Self.invalid.enumerated() {
            try await client.sendRaw(Self.inbound(100 + index, item.textJSON, from: "+15557000001"))
            let answer = try await client.readObject()
            let error = try #require(answer["error"] as? [String: Any], "\(item.name): \(answer)")
            #expect(error["code"] as? Int == -32700, "\(item.name)")
            #expect((error["data"] as? [String: Any])?["type"] as? String == item.type, "\(item.name): \(error)")
            let message = error["message"] as? String ?? ""
            #expect(message.contains(item.type == "InvalidUtf8" ? "UTF-8" : "JSON"), "\(item.name): \(message)")
            #expect(server.engine.head == head, "\(item.name): something was recorded")
        }
        // The connection and the daemon are fine.
        #expect(try await client.result("log.head")["position"] as? Int == Int(head.position))
        try await server.stop()
    }
}
