import Foundation
import ParleyCore
import ParleyServer
import Testing

/// Golden request/response transcripts: `Golden/*.jsonl` hold `> request` lines, each followed
/// by the exact server lines it must produce (`< line`), run through an in-process session on a
/// deterministic daemon (ids c-N/m-N, a stepping clock). `<` lines before the first request are
/// the greeting. `# roles: frontend, carrier` chooses the session's roles (default admin);
/// other `#` lines are comments.
///
/// `PARLEY_UPDATE_GOLDEN=1 swift test --filter GoldenTranscriptTests` rewrites the `<` lines from
/// the actual output; read every rewritten line before committing it.
@Suite("Golden transcripts")
struct GoldenTranscriptTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")
    static let files = ["chat-request.jsonl", "demo-conversation.jsonl", "did-recent.jsonl", "refusals.jsonl"]
    static var updating: Bool { ProcessInfo.processInfo.environment["PARLEY_UPDATE_GOLDEN"] == "1" }

    /// One request (nil for the greeting) and the lines it must produce.
    struct Step {
        var request: String?
        var expected: [String]
        var line: Int
    }

    struct Transcript {
        var roles: [Role] = [.admin]
        var steps: [Step] = []
        /// Comment lines, kept in place when the file is rewritten: (index of the step they precede, text).
        var comments: [(Int, String)] = []
    }

    static func parse(_ text: String) throws -> Transcript {
        var transcript = Transcript()
        var steps: [Step] = [Step(request: nil, expected: [], line: 0)]
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = String(raw)
            if line.isEmpty { continue }
            if line.hasPrefix("#") {
                if line.hasPrefix("# roles:") {
                    let names = line.dropFirst("# roles:".count).split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
                    transcript.roles = try names.map { name in try #require(Role(rawValue: name), "unknown role \(name)") }
                }
                transcript.comments.append((steps.count, line))
            } else if line.hasPrefix("> ") {
                steps.append(Step(request: String(line.dropFirst(2)), expected: [], line: index + 1))
            } else if line.hasPrefix("< ") {
                steps[steps.count - 1].expected.append(String(line.dropFirst(2)))
            } else {
                Issue.record("line \(index + 1) is neither a request, an answer nor a comment: \(line)")
            }
        }
        transcript.steps = steps
        return transcript
    }

    /// The file text with the `<` lines replaced by `actual`. Comments before the first request
    /// go to the top; the others stay after the step they followed.
    static func render(_ transcript: Transcript, actual: [[String]]) -> String {
        var out = transcript.comments.filter { $0.0 <= 1 }.map(\.1)
        for (index, step) in transcript.steps.enumerated() {
            if let request = step.request { out.append("> " + request) }
            out += actual[index].map { "< " + $0 }
            if index > 0 { out += transcript.comments.filter { $0.0 == index + 1 }.map(\.1) }
        }
        return out.joined(separator: "\n") + "\n"
    }

    /// The next server line, or nil when none came within ``Patience/timeout`` (a stuck session:
    /// the step then has too few lines). Every step ends with its answer, so this never waits
    /// for a line that is not coming.
    static func nextLine(_ client: InProcessClient) async -> String? {
        await withTimeout { await client.nextLine() }
    }

    /// Runs the steps: the greeting is one line; each request's lines end with the first line carrying an `id` (its answer).
    static func run(_ transcript: Transcript) async throws -> [[String]] {
        let server = try await TestServer(deterministic: true)
        let client = server.session(roles: transcript.roles, uid: 4242)
        var actual: [[String]] = []
        for step in transcript.steps {
            var lines: [String] = []
            if let request = step.request {
                client.connection.send(request)
                while let line = await nextLine(client) {
                    lines.append(line)
                    let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
                    if object?.keys.contains("id") == true { break }
                }
            } else if let greeting = await nextLine(client) {
                lines.append(greeting)
            }
            actual.append(lines)
        }
        try await server.stop()
        return actual
    }

    @Test("golden transcript", arguments: files)
    func transcript(_ file: String) async throws {
        let url = Self.directory.appendingPathComponent(file)
        let text = try String(contentsOf: url, encoding: .utf8)
        let transcript = try Self.parse(text)
        #expect(transcript.steps.count > 1, "\(file) has no requests")
        let actual = try await Self.run(transcript)
        if Self.updating {
            try Self.render(transcript, actual: actual).write(to: url, atomically: true, encoding: .utf8)
            return
        }
        for (step, lines) in zip(transcript.steps, actual) {
            let what = step.request.map { "\(file):\(step.line) \($0)" } ?? "\(file): the greeting"
            #expect(lines.count == step.expected.count, "\(what): expected \(step.expected.count) lines, got \(lines.count): \(lines)")
            for (expected, got) in zip(step.expected, lines) where expected != got {
                Issue.record("\(what)\n  expected: \(expected)\n  actual:   \(got)")
            }
        }
    }

    @Test("every file in Golden/ is run")
    func everyFileIsRun() throws {
        let present = try FileManager.default.contentsOfDirectory(atPath: Self.directory.path).filter { $0.hasSuffix(".jsonl") }
        #expect(Set(present) == Set(Self.files))
    }

    @Test("the runner notices a changed expected line")
    func runnerDetectsDifferences() async throws {
        let transcript = try Self.parse("""
            # roles: auditor
            > {"jsonrpc":"2.0","id":1,"method":"log.head"}
            > {"jsonrpc":"2.0","id":2,"method":"agent.login","params":{"agentId":"alice"}}
            """)
        #expect(transcript.roles == [.auditor])
        let actual = try await Self.run(transcript)
        #expect(actual.count == 3)
        #expect(actual[0].first?.contains(#""method":"server.hello""#) == true)
        #expect(actual[0].first?.contains(#""roles":["auditor"]"#) == true)
        #expect(actual[1].count == 1)
        #expect(actual[1].first?.hasPrefix(#"{"jsonrpc":"2.0","id":1,"result":{"asOf":7,"hash":""#) == true, "\(actual[1])")
        #expect(actual[2].first?.contains(#""type":"PermissionDenied""#) == true, "\(actual[2])")
        // Deterministic: a second run gives the same lines.
        #expect(try await Self.run(transcript) == actual)
    }
}
