import Foundation
import ParleyCore
import ParleyProtocol
import ParleyServer
import Testing

/// The bad-input corpus over a live socket: every bad line gets its documented error, the
/// same connection stays usable, the log never moves, the daemon stays up.
@Suite("Bad input")
struct BadInputTests {
    /// One bad line and the answer it must get.
    struct Case: CustomStringConvertible {
        var name: String
        var bytes: [UInt8]
        var code: Int
        var type: String
        var field: String? = nil
        /// The id the error answer must carry; nil means JSON null.
        var id: Int? = nil

        init(_ name: String, _ text: String, _ code: Int, _ type: String, field: String? = nil, id: Int? = nil) {
            self.init(name, Array(text.utf8), code, type, field: field, id: id)
        }

        init(_ name: String, _ bytes: [UInt8], _ code: Int, _ type: String, field: String? = nil, id: Int? = nil) {
            self.name = name
            self.bytes = bytes
            self.code = code
            self.type = type
            self.field = field
            self.id = id
        }

        var description: String { name }
    }

    static func request(_ id: Int, _ method: String, _ params: String) -> String {
        #"{"jsonrpc":"2.0","id":\#(id),"method":"\#(method)","params":\#(params)}"#
    }

    static func nested(_ depth: Int) -> String {
        String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
    }

    static let corpus: [Case] = {
        let utf8Prefix = Array(#"{"jsonrpc":"2.0","id":9,"method":"sms.count","params":{"text":"a"#.utf8)
        let utf8Suffix = Array(#"b"}}"#.utf8)
        let inbound = #"{"from":"+15557000001","to":"+15550100100","text":"#
        return [
            // Not JSON at all.
            Case("malformed JSON", #"{"jsonrpc":"2.0","id":1,"method":log.head}"#, -32700, "ParseError"),
            Case("truncated JSON", #"{"jsonrpc":"2.0","id":1,"method":"log.head","par"#, -32700, "ParseError"),
            Case("trailing garbage", #"{"jsonrpc":"2.0","id":1,"method":"log.head"} x"#, -32700, "ParseError"),
            Case("single quotes", #"{'jsonrpc':'2.0','id':1,'method':'log.head'}"#, -32700, "ParseError"),
            Case("whitespace-only line", "    \t  ", -32700, "ParseError"),
            Case("invalid UTF-8 in a string", utf8Prefix + [0xFF, 0xFE] + utf8Suffix, -32700, "InvalidUtf8"),
            Case("overlong UTF-8 encoding", utf8Prefix + [0xC0, 0xAF] + utf8Suffix, -32700, "InvalidUtf8"),
            Case("UTF-8 encoded surrogate", utf8Prefix + [0xED, 0xA0, 0x80] + utf8Suffix, -32700, "InvalidUtf8"),
            Case("truncated UTF-8 sequence", utf8Prefix + [0xE2, 0x82] + utf8Suffix, -32700, "InvalidUtf8"),
            Case("raw control character in a string", utf8Prefix + [0x01] + utf8Suffix, -32700, "ParseError"),
            Case("raw tab in a string", utf8Prefix + [0x09] + utf8Suffix, -32700, "ParseError"),
            Case("raw NUL in a string", utf8Prefix + [0x00] + utf8Suffix, -32700, "ParseError"),
            Case("control character before the object", [0x01] + Array(request(1, "log.head", "{}").utf8), -32700, "ParseError"),
            Case("nesting 200 levels deep", request(1, "sms.count", #"{"text":"a","x":\#(nested(200))}"#), -32700, "NestingTooDeep"),
            Case("nesting 33 levels (one over)", request(1, "sms.count", #"{"text":"a","x":\#(nested(31))}"#), -32700, "NestingTooDeep"),
            Case("1e400 as the id", #"{"jsonrpc":"2.0","id":1e400,"method":"log.head"}"#, -32700, "ParseError"),
            // JSON, but not a request.
            Case("a batch", "[" + request(1, "log.head", "{}") + "]", -32600, "BatchNotSupported"),
            Case("an empty batch", "[]", -32600, "BatchNotSupported"),
            Case("a bare number", "42", -32600, "InvalidRequest"),
            Case("a bare string", #""log.head""#, -32600, "InvalidRequest"),
            Case("null", "null", -32600, "InvalidRequest"),
            Case("true", "true", -32600, "InvalidRequest"),
            Case("an empty object", "{}", -32600, "InvalidRequest"),
            Case("missing id", #"{"jsonrpc":"2.0","method":"log.head"}"#, -32600, "InvalidRequest"),
            Case("null id", #"{"jsonrpc":"2.0","id":null,"method":"log.head"}"#, -32600, "InvalidRequest"),
            Case("object id", #"{"jsonrpc":"2.0","id":{"n":1},"method":"log.head"}"#, -32600, "InvalidRequest"),
            Case("float id", #"{"jsonrpc":"2.0","id":1.5,"method":"log.head"}"#, -32600, "InvalidRequest"),
            Case("bool id", #"{"jsonrpc":"2.0","id":true,"method":"log.head"}"#, -32600, "InvalidRequest"),
            Case("array id", #"{"jsonrpc":"2.0","id":[1],"method":"log.head"}"#, -32600, "InvalidRequest"),
            Case("huge integer id", #"{"jsonrpc":"2.0","id":99999999999999999999999,"method":"log.head"}"#, -32600, "InvalidRequest"),
            Case("string id over 256 bytes", #"{"jsonrpc":"2.0","id":""# + String(repeating: "i", count: 257) + #"","method":"log.head"}"#, -32600, "InvalidRequest"),
            Case("missing method", #"{"jsonrpc":"2.0","id":11,"params":{}}"#, -32600, "InvalidRequest", id: 11),
            Case("method not a string", #"{"jsonrpc":"2.0","id":12,"method":5}"#, -32600, "InvalidRequest", id: 12),
            Case("jsonrpc 1.0", #"{"jsonrpc":"1.0","id":13,"method":"log.head"}"#, -32600, "InvalidRequest", id: 13),
            Case("unknown member", #"{"jsonrpc":"2.0","id":14,"method":"log.head","extra":1}"#, -32600, "InvalidRequest", id: 14),
            // A request, but a wrong one.
            Case("unknown method", request(20, "agent.fly", "{}"), -32601, "MethodNotFound", id: 20),
            Case("method name with other case", request(21, "Log.Head", "{}"), -32601, "MethodNotFound", id: 21),
            Case("params as an array", request(22, "agent.view", #"["alice"]"#), -32602, "WrongType", field: "params", id: 22),
            Case("params as a string", request(23, "agent.view", #""alice""#), -32602, "WrongType", field: "params", id: 23),
            Case("unknown param", request(24, "agent.view", #"{"agentId":"alice","mood":"happy"}"#), -32602, "UnknownParam", field: "mood", id: 24),
            Case(
                "unknown nested param",
                request(25, "agent.setState", #"{"agentId":"alice","state":"Busy","call":{"callId":"c","serviceId":"support","customerNumber":"+15557000001","foo":1}}"#),
                -32602, "UnknownParam", field: "call.foo", id: 25
            ),
            Case(
                "unknown param in an attachment",
                request(26, "carrier.inbound", #"{"from":"+15557000001","to":"+15550100100","attachments":[{"name":"a","contentType":"image/png","size":1,"reference":"r","x":1}]}"#),
                -32602, "UnknownParam", field: "attachments[0].x", id: 26
            ),
            Case("missing required param", request(27, "agent.view", "{}"), -32602, "MissingParam", field: "agentId", id: 27),
            Case("null counts as absent", request(28, "agent.view", #"{"agentId":null}"#), -32602, "MissingParam", field: "agentId", id: 28),
            Case("agentId: 5", request(29, "agent.view", #"{"agentId":5}"#), -32602, "WrongType", field: "agentId", id: 29),
            Case("upTo: -1", request(30, "recent.markRead", #"{"agentId":"alice","upTo":-1}"#), -32001, "InvalidArgument", field: "upTo", id: 30),
            Case("upTo: \"x\"", request(31, "recent.markRead", #"{"agentId":"alice","upTo":"x"}"#), -32602, "WrongType", field: "upTo", id: 31),
            Case("upTo: 1.5", request(32, "recent.markRead", #"{"agentId":"alice","upTo":1.5}"#), -32602, "WrongType", field: "upTo", id: 32),
            Case(
                "upTo: 99999999999999999999999", request(33, "recent.markRead", #"{"agentId":"alice","upTo":99999999999999999999999}"#),
                -32602, "WrongType", field: "upTo", id: 33
            ),
            Case("smsAllowed: \"yes\"", request(34, "directory.putAgent", #"{"agentId":"z","displayName":"Z","smsAllowed":"yes"}"#), -32602, "WrongType", field: "smsAllowed", id: 34),
            Case("state not in the enum", request(35, "agent.login", #"{"agentId":"alice","state":"ready"}"#), -32001, "InvalidArgument", field: "state", id: 35),
            Case("services[1] not a string", request(36, "directory.putAgent", #"{"agentId":"z","displayName":"Z","services":["support",2]}"#), -32602, "WrongType", field: "services[1]", id: 36),
            Case("limit out of range", request(37, "log.read", #"{"limit":100000}"#), -32001, "InvalidArgument", field: "limit", id: 37),
            Case("after: 1e400", request(38, "log.read", #"{"after":1e400}"#), -32700, "ParseError"),
            Case("nesting exactly 32 is read", request(39, "sms.count", #"{"text":"a","x":\#(nested(30))}"#), -32602, "UnknownParam", field: "x", id: 39),
            // Lone surrogates in \u escapes: not text; nothing may be recorded.
            Case("lone high surrogate", request(40, "carrier.inbound", inbound + #""a\ud800b"}"#), -32700, "ParseError"),
            Case("lone low surrogate", request(41, "carrier.inbound", inbound + #""a\udc00b"}"#), -32700, "ParseError"),
            Case("reversed surrogate pair", request(42, "carrier.inbound", inbound + #""\udc00\ud800"}"#), -32700, "ParseError"),
            // Domain refusals.
            Case("unknown agent", request(50, "agent.view", #"{"agentId":"nobody"}"#), -32001, "UnknownAgent", id: 50),
            Case("send while logged out", request(51, "sms.send", #"{"agentId":"alice","serviceId":"support","customerNumber":"+15557000001","text":"hi"}"#), -32001, "AgentLoggedOut", id: 51),
            Case("invalid E.164 number", request(52, "carrier.inbound", #"{"from":"0800 FLOWERS","to":"+15550100100","text":"x"}"#), -32001, "InvalidNumber", field: "from", id: 52),
            Case("empty agent id", request(53, "directory.putAgent", #"{"agentId":"","displayName":"Z"}"#), -32001, "InvalidArgument", field: "agentId", id: 53),
        ]
    }()

    @Test("every bad line gets its documented error; the connection stays usable; the log never moves")
    func corpus() async throws {
        let server = try await TestServer()
        let client = try await server.connect()
        let head = server.engine.head
        for item in Self.corpus {
            try await client.sendRaw(item.bytes + [UInt8(ascii: "\n")])
            let line = try #require(try await client.readLine(), "\(item): the connection closed")
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            let answer = try #require(object, "\(item): not a JSON object: \(line)")
            #expect(answer["jsonrpc"] as? String == "2.0", "\(item): \(line)")
            #expect(answer["result"] == nil, "\(item) must fail: \(line)")
            let error = answer["error"] as? [String: Any]
            let data = error?["data"] as? [String: Any]
            #expect(error?["code"] as? Int == item.code, "\(item): \(line)")
            #expect(data?["type"] as? String == item.type, "\(item): \(line)")
            #expect(data?["field"] as? String == item.field, "\(item): field in \(line)")
            #expect(data?["retryable"] as? Bool == false, "\(item): \(line)")
            #expect((error?["message"] as? String)?.isEmpty == false, "\(item): a message for people")
            if let id = item.id {
                #expect(answer["id"] as? Int == id, "\(item): id in \(line)")
            } else {
                #expect(answer["id"] is NSNull, "\(item): id must be null in \(line)")
            }
            // The same connection still answers.
            let after = try await client.result("log.head")
            #expect(after["position"] as? Int == Int(head.position), "\(item): the head moved")
            #expect(server.engine.head == head, "\(item): the log moved")
        }
        #expect(client.notifications.isEmpty, "unexpected extra lines: \(client.notifications)")
        // The daemon is up: a new connection is served.
        let fresh = try await server.connect()
        #expect(try await fresh.result("server.info")["head"] as? Int == Int(head.position))
        try await server.stop()
    }

    @Test("a line over 1 MiB is LineTooLong and closes the connection; a new connection works")
    func lineTooLong() async throws {
        let server = try await TestServer()
        let head = server.engine.head
        let client = try await server.connect()
        let limit = 1 << 20
        // 1 MiB + 1 bytes of garbage, the newline, then more garbage that never ends its line.
        try await client.sendRaw([UInt8](repeating: UInt8(ascii: "x"), count: limit + 1) + [UInt8(ascii: "\n")])
        try? await client.sendRaw(Array(#"{"jsonrpc":"2.0","id":1,"method":"log.head"}"#.utf8) + Array(repeating: UInt8(ascii: "y"), count: 5000))
        let line = try #require(try await client.readLine())
        let answer = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        let error = answer["error"] as? [String: Any]
        #expect(error?["code"] as? Int == -32600)
        #expect((error?["data"] as? [String: Any])?["type"] as? String == "LineTooLong")
        #expect(answer["id"] is NSNull)
        #expect(await Self.isClosed(client), "the connection must be closed after LineTooLong")
        #expect(server.engine.head == head)
        let fresh = try await server.connect()
        #expect(try await fresh.result("log.head")["position"] as? Int == Int(head.position))
        try await server.stop()
    }

    @Test("an unterminated line over the limit is refused without waiting for its newline")
    func unterminatedLineTooLong() async throws {
        let server = try await TestServer()
        let head = server.engine.head
        let client = try await server.connect()
        try await client.sendRaw([UInt8](repeating: UInt8(ascii: "{"), count: (1 << 20) + 2))
        let line = try #require(try await client.readLine())
        #expect(line.contains(#""type":"LineTooLong""#), "\(line)")
        #expect(await Self.isClosed(client))
        #expect(server.engine.head == head)
        let again = try await server.connect()
        #expect(try await again.result("server.info")["head"] as? Int == Int(head.position))
        try await server.stop()
    }

    @Test("a line of exactly 1 MiB is read (with \\n or \\r\\n)")
    func lineAtTheLimit() async throws {
        let server = try await TestServer()
        let client = try await server.connect()
        for (id, terminator) in [(1, "\n"), (2, "\r\n")] {
            let start = #"{"jsonrpc":"2.0","id":\#(id),"method":"log.head""#
            let padding = String(repeating: " ", count: (1 << 20) - start.utf8.count - 1)
            let text = start + padding + "}"
            #expect(text.utf8.count == 1 << 20)
            try await client.sendRaw(Array((text + terminator).utf8))
            let answer = try await client.readObject()
            #expect(answer["id"] as? Int == id, "\(answer)")
            #expect((answer["result"] as? [String: Any])?["position"] as? Int == 7, "\(answer)")
        }
        try await server.stop()
    }

    @Test("\\r\\n terminates a request; blank lines are skipped without an answer")
    func terminatorsAndBlankLines() async throws {
        let server = try await TestServer()
        let client = try await server.connect()
        try await client.sendRaw(Array((Self.request(1, "log.head", "{}") + "\r\n").utf8))
        let first = try await client.readObject()
        #expect(first["id"] as? Int == 1)
        #expect((first["result"] as? [String: Any])?["position"] as? Int == 7)
        // Blank lines (also a lone \r\n) then a request: the only line back is its answer.
        try await client.sendRaw(Array(("\n\n\r\n" + Self.request(2, "server.info", "{}") + "\n").utf8))
        let second = try await client.readObject()
        #expect(second["id"] as? Int == 2, "\(second)")
        #expect(second["result"] != nil)
        try await client.sendLine(Self.request(3, "log.head", "{}"))
        let third = try await client.readObject()
        #expect(third["id"] as? Int == 3, "no answer came for the blank lines: \(third)")
        // A string id is echoed as a string.
        try await client.sendLine(#"{"jsonrpc":"2.0","id":"req-α","method":"log.head"}"#)
        #expect(try await client.readObject()["id"] as? String == "req-α")
        // jsonrpc may be absent.
        try await client.sendLine(#"{"id":4,"method":"log.head"}"#)
        #expect(try await client.readObject()["result"] != nil)
        #expect(server.engine.head.position == 7)
        try await server.stop()
    }

    @Test("bad lines interleaved with commands: answers match ids, only the good commands append")
    func interleaved() async throws {
        let server = try await TestServer()
        let client = try await server.connect()
        try await client.result("agent.login", ["agentId": "alice", "state": "Ready"])
        let head = server.engine.head.position
        var sent = 0
        for (index, item) in Self.corpus.enumerated() where index % 3 == 0 && item.code != -32001 {
            try await client.sendRaw(item.bytes + [UInt8(ascii: "\n")])
            try await client.sendLine(Self.request(1000 + index, "sms.send", #"{"agentId":"alice","serviceId":"support","customerNumber":"+1555700\#(String(format: "%04d", index))","text":"ok"}"#))
            sent += 1
        }
        var answered = Set<Int>()
        var errors = 0
        for _ in 0..<(2 * sent) {
            let answer = try await client.readObject()
            if let id = answer["id"] as? Int, id >= 1000 {
                #expect(answer["result"] != nil, "\(answer)")
                answered.insert(id)
            } else {
                #expect(answer["error"] != nil, "\(answer)")
                errors += 1
            }
        }
        #expect(answered.count == sent)
        #expect(errors == sent)
        // Each send opened a conversation and sent: two events each.
        #expect(server.engine.head.position == head + UInt64(2 * sent))
        try await server.stop()
    }

    /// Whether the server closed the connection: end of stream, or a reset because it closed with input unread.
    static func isClosed(_ client: TestClient) async -> Bool {
        do {
            return try await client.readLine() == nil
        } catch let error as POSIXError {
            return error.code == .ECONNRESET
        } catch {
            return false
        }
    }
}
