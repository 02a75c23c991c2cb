import Foundation
import ParleyCore
import ParleyProtocol
import Testing

extension SplitMix64 {
    /// A number in `0..<n` (0 when `n` is not positive).
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(1, n))) }
}

/// Mutated and random request lines: truncations, wrong types, huge numbers, deep nesting,
/// invalid UTF-8, control characters, lone surrogates in `\u` escapes, splices, random bytes.
struct LineMutator {
    var random: SplitMix64

    /// Valid requests to start from (commands and queries; no subscriptions, whose notifications
    /// would only add noise).
    static let seeds: [[UInt8]] = [
        #"{"jsonrpc":"2.0","id":1,"method":"log.head"}"#,
        #"{"jsonrpc":"2.0","id":2,"method":"server.info","params":{}}"#,
        #"{"jsonrpc":"2.0","id":3,"method":"sms.count","params":{"text":"Grüße 👋 {x}"}}"#,
        #"{"jsonrpc":"2.0","id":"a-4","method":"agent.view","params":{"agentId":"alice"}}"#,
        #"{"jsonrpc":"2.0","id":5,"method":"log.read","params":{"after":0,"limit":3}}"#,
        #"{"jsonrpc":"2.0","id":6,"method":"directory.list","params":{}}"#,
        #"{"jsonrpc":"2.0","id":7,"method":"recent.get","params":{"agentId":"bob"}}"#,
        #"{"jsonrpc":"2.0","id":8,"method":"conversation.get","params":{"conversationId":"c-1"}}"#,
        #"{"jsonrpc":"2.0","id":9,"method":"carrier.inbound","params":{"from":"+15557000001","to":"+15550100100","text":"hi","carrierReference":"r-1","idempotencyKey":"k-9"}}"#,
        #"{"jsonrpc":"2.0","id":10,"method":"agent.login","params":{"agentId":"alice","state":"Ready"}}"#,
        #"{"jsonrpc":"2.0","id":11,"method":"sms.send","params":{"agentId":"alice","serviceId":"support","customerNumber":"+15557000002","text":"hello","idempotencyKey":"k-11"}}"#,
        #"{"jsonrpc":"2.0","id":12,"method":"agent.setState","params":{"agentId":"alice","state":"Busy","call":{"callId":"k","serviceId":"support","customerNumber":"+15557000003"}}}"#,
        #"{"jsonrpc":"2.0","id":13,"method":"recent.markRead","params":{"agentId":"alice","upTo":3}}"#,
        #"{"jsonrpc":"2.0","id":14,"method":"carrier.status","params":{"messageId":"m-1","status":"delivered"}}"#,
        #"{"jsonrpc":"2.0","id":15,"method":"directory.putAgent","params":{"agentId":"zed","displayName":"Zed","services":["support"],"idempotencyKey":"k-15"}}"#,
        #"{"jsonrpc":"2.0","id":16,"method":"chat.accept","params":{"agentId":"bob","conversationId":"c-2"}}"#,
        #"{"jsonrpc":"2.0","id":17,"method":"carrier.inbound","params":{"from":"+15557000004","to":"+15550100100","attachments":[{"name":"a.png","contentType":"image/png","size":10,"reference":"s3://x"}]}}"#,
    ].map { Array($0.utf8) }

    /// Values that are wrong somewhere: types, sizes, escapes, nesting.
    static let tokens: [[UInt8]] = [
        "1e400", "-1e400", "99999999999999999999999999", "-0", "0.5", "1E+2", "-1", "18446744073709551616",
        "true", "false", "null", "[]", "{}", #""""#, #""\ud800""#, #""x\udc00y""#, #""\udc00\ud800""#, #""\ud83d\ude00""#,
        #""\u0000""#, #""a\u001fb""#, "NaN", "Infinity", #""\x41""#, #""\""#, #""\u12""#,
        "\"" + String(repeating: "x", count: 300) + "\"",
        String(repeating: "[", count: 40) + String(repeating: "]", count: 40),
        String(repeating: #"{"a":"#, count: 33) + "1" + String(repeating: "}", count: 33),
        String(repeating: "[", count: 31) + String(repeating: "]", count: 31),
    ].map { Array($0.utf8) }

    /// Bytes that break UTF-8 or JSON syntax.
    static let bytes: [UInt8] = [0x00, 0x01, 0x08, 0x09, 0x0D, 0x1F, 0x7F, 0x80, 0xBF, 0xC0, 0xC1, 0xE2, 0xED, 0xF0, 0xF5, 0xFF,
                                 0x22, 0x5C, 0x7B, 0x7D, 0x5B, 0x5D, 0x2C, 0x3A, 0x20, 0x30, 0x2D, 0x65]

    mutating func seed() -> [UInt8] { Self.seeds[random.below(Self.seeds.count)] }

    /// One line, never holding `\n` (that would make two lines).
    mutating func line() -> [UInt8] {
        var line = seed()
        let rounds = 1 + random.below(3)
        for _ in 0..<rounds { line = mutate(line) }
        return line.map { $0 == 0x0A ? 0x20 : $0 }
    }

    private mutating func mutate(_ input: [UInt8]) -> [UInt8] {
        var line = input
        let at = random.below(line.count + 1)
        switch random.below(11) {
        case 0:  // truncated
            line = Array(line.prefix(at))
        case 1:  // a byte replaced
            if !line.isEmpty { line[min(at, line.count - 1)] = random.below(2) == 0 ? UInt8(truncatingIfNeeded: random.next()) : Self.bytes[random.below(Self.bytes.count)] }
        case 2:  // a byte inserted
            line.insert(Self.bytes[random.below(Self.bytes.count)], at: at)
        case 3:  // a range deleted
            let end = min(line.count, at + 1 + random.below(12))
            line.removeSubrange(at..<end)
        case 4:  // a range repeated
            let end = min(line.count, at + 1 + random.below(20))
            line.insert(contentsOf: line[at..<end], at: at)
        case 5, 6:  // a value replaced by a wrong one
            let colons = line.indices.filter { line[$0] == UInt8(ascii: ":") }
            guard let colon = colons.isEmpty ? nil : colons[random.below(colons.count)] else { break }
            let end = line[(colon + 1)...].firstIndex { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "}") } ?? line.count
            line.replaceSubrange((colon + 1)..<end, with: Self.tokens[random.below(Self.tokens.count)])
        case 7:  // spliced with another request
            let other = seed()
            line = Array(line.prefix(at)) + Array(other.suffix(from: random.below(other.count)))
        case 8:  // random bytes
            line = (0..<random.below(200)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        case 9:  // a random JSON value
            line = Array(randomJSON(depth: 0).utf8)
        default:  // wrapped in nesting
            let depth = random.below(70)
            line = Array(repeating: UInt8(ascii: "["), count: depth) + line + Array(repeating: UInt8(ascii: "]"), count: depth)
        }
        return line
    }

    private mutating func randomJSON(depth: Int) -> String {
        switch depth > 36 ? random.below(5) : random.below(8) {
        case 0: return String(Int64(bitPattern: random.next()))
        case 1: return ["true", "false", "null", "1e999", "-0.0", "3.14"][random.below(6)]
        case 2: return #""s\#(random.below(1000))""#
        case 3: return ["\"log.head\"", "\"sms.send\"", "\"2.0\"", "\"\\ud800\"", "\"\\u00e9\""][random.below(5)]
        case 4: return String(repeating: "9", count: 1 + random.below(40))
        case 5, 6:
            let keys = ["jsonrpc", "id", "method", "params", "text", "agentId", "x"]
            let members = (0..<random.below(5)).map { _ in "\"\(keys[random.below(keys.count)])\":\(randomJSON(depth: depth + 1))" }
            return "{" + members.joined(separator: ",") + "}"
        default:
            return "[" + (0..<random.below(4)).map { _ in randomJSON(depth: depth + 1) }.joined(separator: ",") + "]"
        }
    }
}

/// At least 100 000 mutated and random lines against a live daemon over its socket.
@Suite("Protocol fuzz")
struct ProtocolFuzzTests {
    /// Lines per run: `PARLEY_FUZZ_LINES` (default 100 000); seed: `PARLEY_FUZZ_SEED` (default from the clock).
    static let lines = ProcessInfo.processInfo.environment["PARLEY_FUZZ_LINES"].flatMap(Int.init) ?? 100_000
    static let seed = ProcessInfo.processInfo.environment["PARLEY_FUZZ_SEED"].flatMap(UInt64.init) ?? UInt64(Date().timeIntervalSince1970 * 1000)

    /// What one connection sent and got back.
    struct Tally {
        var sent = 0
        var answers = 0
        var successes = 0
        var appended: UInt64 = 0
        var errorTypes: [String: Int] = [:]

        mutating func add(_ other: Tally) {
            sent += other.sent
            answers += other.answers
            successes += other.successes
            appended += other.appended
            errorTypes.merge(other.errorTypes, uniquingKeysWith: +)
        }
    }

    @Test("every mutated line gets one answer, an error unless it is a valid request; the head moves only by what the successes appended")
    func mutatedLines() async throws {
        let connections = 3
        print("protocol fuzz: seed \(Self.seed) (repeat with PARLEY_FUZZ_SEED=\(Self.seed)), \(Self.lines) lines over \(connections) connections")
        let server = try await TestServer()
        let start = server.engine.head.position
        // Several connections at once: client and daemon then work in parallel instead of taking turns.
        let total = try await withThrowingTaskGroup(of: Tally.self) { group in
            for index in 0..<connections {
                let client = try await server.connect()
                let lines = Self.lines / connections + (index < Self.lines % connections ? 1 : 0)
                group.addTask { try await Self.send(lines, over: client, seed: Self.seed &+ UInt64(index)) }
            }
            var total = Tally()
            for try await tally in group { total.add(tally) }
            return total
        }
        #expect(total.sent == Self.lines)
        #expect(total.answers == total.sent)
        #expect(server.engine.head.position - start == total.appended, "the head moved by more than the successful commands appended (seed \(Self.seed))")
        let client = try await server.connect()
        #expect(try await client.result("log.head")["position"] as? Int == Int(server.engine.head.position))
        let summary = total.errorTypes.sorted { $0.value > $1.value }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        print("protocol fuzz: \(total.sent) lines, \(total.answers) answers: \(total.successes) successes (\(total.appended) events appended), errors: \(summary)")
        try await server.stop()
    }

    /// Sends `lines` mutated lines in batches over `client`, reading every answer.
    static func send(_ lines: Int, over client: TestClient, seed: UInt64) async throws -> Tally {
        var mutator = LineMutator(random: SplitMix64(seed: seed))
        var tally = Tally()
        while tally.sent < lines {
            var batch: [UInt8] = []
            var count = 0
            while count < 128 && tally.sent + count < lines {
                var line = mutator.line()
                // A final \r is part of the terminator: drop every one, or a line of "\r\r" would be
                // sent as "\r\n", a blank line the daemon rightly skips without an answer.
                while line.last == 0x0D { line.removeLast() }
                if line.isEmpty { continue }  // blank lines are skipped without an answer
                batch += line + [0x0A]
                count += 1
            }
            try await client.sendRaw(batch)
            var received = 0
            while received < count {
                let text = try #require(try await client.readLine(), "the connection closed after \(tally.sent + received) lines (seed \(Self.seed))")
                // Notifications (of a subscription a mutation made) have no "id"; answers all do.
                guard text.contains(#""id":"#) else { continue }
                received += 1
                if text.contains(#""result":"#) {
                    tally.successes += 1
                    let parsed = try? JSONSerialization.jsonObject(with: Data(text.utf8))
                    let result = try #require((parsed as? [String: Any])?["result"] as? [String: Any], "\(text.prefix(300))")
                    if result["replayed"] as? Bool == false, let events = result["events"] as? [Any] { tally.appended += UInt64(events.count) }
                } else {
                    // Error answers are checked field by field without a full parse (the client is the slow side).
                    let type = Self.value(of: "type", in: text)
                    #expect(text.contains(#""error":{"code":-"#), "\(text.prefix(300))")
                    #expect(type != nil && Self.value(of: "message", in: text)?.isEmpty == false, "\(text.prefix(300))")
                    #expect(type != "InternalError", "a bad request must not be an internal error: \(text.prefix(500)) (seed \(Self.seed))")
                    tally.errorTypes[type ?? "?", default: 0] += 1
                }
            }
            tally.sent += count
            tally.answers += received
        }
        return tally
    }

    @Test("a query for an empty id is a malformed id (InvalidArgument), not an internal error (found by the fuzz test)")
    func emptyIds() async throws {
        let server = try await TestServer()
        let client = try await server.connect()
        #expect(try await client.errorType("agent.view", ["agentId": ""]) == "InvalidArgument")
        #expect(try await client.errorType("recent.get", ["agentId": ""]) == "InvalidArgument")
        #expect(try await client.errorType("conversation.get", ["conversationId": ""]) == "InvalidArgument")
        try await server.stop()
    }

    /// The string value of the first `"name":"…"` in `text`.
    static func value(of name: String, in text: String) -> String? {
        guard let range = text.range(of: "\"\(name)\":\"") else { return nil }
        let rest = text[range.upperBound...]
        var end = rest.startIndex
        var escaped = false
        while end < rest.endIndex {
            let c = rest[end]
            if escaped { escaped = false } else if c == "\\" { escaped = true } else if c == "\"" { break }
            end = rest.index(after: end)
        }
        return String(rest[..<end])
    }

    @Test("lines of 1 MiB + 1 bytes, ended by \\n or \\r\\n, get LineTooLong and a closed connection; the daemon serves on", arguments: [0, 1, 2])
    func overLongLines(_ variant: Int) async throws {
        let server = try await TestServer()
        let head = server.engine.head
        let client = try await server.connect()
        let limit = 1 << 20
        var line: [UInt8]
        switch variant {
        case 0:  // a valid request padded with spaces to one byte over the limit
            let start = Array(#"{"jsonrpc":"2.0","id":1,"method":"carrier.inbound","params":{"from":"+15557000001","to":"+15550100100","text":"x"}"#.utf8)
            line = start + Array(repeating: UInt8(ascii: " "), count: limit + 1 - start.count - 1) + [UInt8(ascii: "}")]
        case 1:  // deep nesting, ended by \r\n (the \r is not part of the line: 1 MiB + 1 bytes remain)
            line = Array(repeating: UInt8(ascii: "["), count: limit + 1) + [0x0D]
        default:  // invalid UTF-8 and control bytes
            var random = SplitMix64(seed: Self.seed)
            line = (0..<(limit + 1)).map { _ in UInt8(truncatingIfNeeded: random.next()) | 0x80 }
        }
        #expect(line.count - (variant == 1 ? 1 : 0) == limit + 1)
        try await client.sendRaw(line + [0x0A])
        let answer = try #require(try await client.readLine())
        #expect(answer.contains(#""type":"LineTooLong""#), "\(answer.prefix(300))")
        #expect(await BadInputTests.isClosed(client))
        #expect(server.engine.head == head)
        let fresh = try await server.connect()
        #expect(try await fresh.result("log.head")["position"] as? Int == Int(head.position))
        try await server.stop()
    }
}
