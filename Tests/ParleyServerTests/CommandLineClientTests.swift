import Foundation
import ParleyProtocol
import Testing

/// One run of the `parley` executable: its exit status and what it wrote to each stream.
struct ToolRun {
    let status: Int32
    let stdout: String
    let stderr: String

    /// Stdout's lines.
    var lines: [String] { stdout.split(separator: "\n").map(String.init) }
}

/// A `parley` process that runs while the test goes on (`parley tail`).
final class RunningTool: Sendable {
    let process: ChildProcess
    let stdout: OutputCollector
    let stderr: OutputCollector

    init(_ arguments: [String]) throws {
        let (process, stdout, stderr) = try ChildProcess.spawnCapturing(try parleyTool(), arguments)
        self.process = process
        self.stdout = OutputCollector(stdout)
        self.stderr = OutputCollector(stderr)
    }

    /// Waits for the exit and returns everything it wrote.
    func finished() async throws -> ToolRun {
        let process = self.process
        try await waitUntil("parley to exit") { !process.isRunning }
        return ToolRun(status: process.terminationStatus, stdout: stdout.wholeText(), stderr: stderr.wholeText())
    }
}

/// Runs `parley ARGUMENTS` to completion.
func runParley(_ arguments: [String]) async throws -> ToolRun {
    try await RunningTool(arguments).finished()
}

/// `parley`'s client subcommands against a real `parleyd`: the text they print, `--json`, and
/// the exit codes scripts rely on (0 done, 1 refused, 2 not reached).
@Suite("parley, the command-line client", .serialized)
struct CommandLineClientTests {
    @Test(
        "login, send, transcript, recent and view print their documented lines; --json prints the result; --key replays"
    )
    func commands() async throws {
        let dir = try TemporaryDirectory()
        let daemon = try await DaemonProcess(directory: dir.path)
        let socket = ["--socket", daemon.socket]

        let login = try await runParley(["login", "alice", "--ready"] + socket)
        #expect(login.status == 0, "\(login.stderr)")
        #expect(login.stdout.wholeMatch(of: /alice logged in: Ready \(position \d+\)\n/) != nil, "\(login.stdout)")

        let sendArguments = [
            "send", "--agent", "alice", "--service", "support", "--to", "+15557654321", "--key", "k-1",
        ]
        let sent = try await runParley(sendArguments + socket + ["Hello there"])
        #expect(sent.status == 0, "\(sent.stderr)")
        let match = try #require(
            sent.stdout.wholeMatch(
                of: /sent (m-\w+) in conversation (c-\w+) \(queued, GSM-7, 1 segment\) at position (\d+)\n/),
            "\(sent.stdout)")
        let conversation = String(match.output.2)
        let again = try await runParley(sendArguments + socket + ["Hello there"])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stdout.hasSuffix(" (replayed: an earlier command with this key)\n"), "\(again.stdout)")
        #expect(again.stdout.contains(String(match.output.1)))

        let transcript = try await runParley(["transcript", conversation] + socket)
        #expect(transcript.status == 0, "\(transcript.stderr)")
        #expect(transcript.lines.count == 3, "\(transcript.stdout)")
        #expect(
            transcript.lines.first
                == "conversation \(conversation): open, owner alice (service support, started by agent)")
        #expect(
            transcript.lines.last?.wholeMatch(
                of: /\d\d:\d\d:\d\d → \+15550100100 to \+15557654321 \[queued\] Hello there/) != nil)

        let json = try await runParley(["transcript", conversation, "--json"] + socket)
        let result = try JSONParser.parse(Array(json.stdout.utf8))
        #expect(result["conversation"]?["conversationId"]?.string == conversation)
        #expect(result["messages"]?.array?.first?["text"]?.string == "Hello there")
        #expect(json.lines.count == 1)

        let view = try await runParley(["view", "alice"] + socket)
        #expect(view.lines.first == "alice (Alice Example): Ready", "\(view.stdout)")
        #expect(view.lines.contains("open chats (1):"))

        let inbound = try await runParley(
            ["inbound", "--from", "+15557654321", "--to", "+15550100201", "Hi on the DID"] + socket)
        #expect(inbound.stdout.contains("in a new DID conversation"), "\(inbound.stdout)")
        let recent = try await runParley(["recent", "alice", "--mark-read"] + socket)
        #expect(recent.lines.first?.hasPrefix("alice: 1 unread") == true, "\(recent.stdout)")
        #expect(recent.lines.contains { $0.hasPrefix("* ") && $0.contains("Hi on the DID") })
        #expect(recent.lines.last?.hasPrefix("marked read up to position ") == true)
        let read = try await runParley(["recent", "alice"] + socket)
        #expect(read.lines.first?.hasPrefix("alice: 0 unread") == true, "\(read.stdout)")
        _ = await daemon.stop()
    }

    @Test("a refusal exits 1 (call prints the error object on stderr); no daemon exits 2; bad params are a usage error")
    func exitCodes() async throws {
        let dir = try TemporaryDirectory()
        let daemon = try await DaemonProcess(directory: dir.path)
        let socket = ["--socket", daemon.socket]

        let refused = try await runParley(["call", "agent.view", #"{"agentId":"nobody"}"#] + socket)
        #expect(refused.status == 1)
        #expect(refused.stdout.isEmpty)
        let error = try JSONParser.parse(Array(refused.stderr.utf8))
        #expect(error["data"]?["type"]?.string == "UnknownAgent", "\(refused.stderr)")
        #expect(error["code"]?.int64 == -32001)

        let send = try await runParley(
            ["send", "--agent", "alice", "--service", "support", "--to", "+15557654321", "x"] + socket)
        #expect(send.status == 1)
        #expect(
            send.stderr == "error: AgentLoggedOut: Agent \"alice\" is logged out; log in first.\n", "\(send.stderr)")

        let info = try await runParley(["call", "server.info"] + socket)
        #expect(info.status == 0)
        #expect(try JSONParser.parse(Array(info.stdout.utf8))["server"]?.string?.hasPrefix("parleyd") == true)

        let usage = try await runParley(["call", "server.info", "[1]"] + socket)
        #expect(usage.status == 2)
        #expect(usage.stderr.contains("PARAMS_JSON must be a JSON object"))
        _ = await daemon.stop()

        let gone = try await runParley(["info"] + socket)
        #expect(gone.status == 2)
        #expect(gone.stderr.contains("cannot connect to \(daemon.socket): no such socket"), "\(gone.stderr)")
    }

    @Test("tail prints each notification as one JSON line and exits 0 with a resume hint when the daemon stops")
    func tail() async throws {
        let dir = try TemporaryDirectory()
        let daemon = try await DaemonProcess(directory: dir.path)
        let socket = ["--socket", daemon.socket]
        let tail = try RunningTool(["tail", "--after", "0", "--type", "AgentLoggedIn"] + socket)
        try await waitUntil("tail to catch up") { tail.stdout.text.contains("events.caughtUp") }
        try await waitUntil("tail to report its subscription") { tail.stderr.text.contains("\n") }
        #expect(tail.stderr.text.hasPrefix("subscribed s1 after 0, head "))
        _ = try await runParley(["login", "bob"] + socket)
        try await waitUntil("tail to print bob's login") { tail.stdout.text.contains("AgentLoggedIn") }
        #expect(await daemon.stop() == 0)

        let run = try await tail.finished()
        #expect(run.status == 0, "\(run.stderr)")
        let messages = try run.lines.map { try JSONParser.parse(Array($0.utf8)) }
        let methods = messages.map { $0["method"]?.string ?? "?" }.filter { $0 != "events.checkpoint" }
        #expect(methods == ["events.caughtUp", "events.event", "events.end"], "\(run.stdout)")
        #expect(messages.allSatisfy { $0["jsonrpc"]?.string == "2.0" && $0["params"]?["subscription"]?.string == "s1" })
        let login = try #require(messages.first { $0["method"]?.string == "events.event" }?["params"])
        #expect(login["event"]?["data"]?["agentId"]?.string == "bob")
        let resume = try #require(messages.last?["params"]?["resumeAfter"]?.uint64)
        #expect(
            run.stderr.hasSuffix("subscription ended (shutdown); resume with: parley tail --after \(resume)\n"),
            "\(run.stderr)")
    }
}
