import ArgumentParser
import Foundation
import ParleyCore
import ParleyStore

/// `parley-debug`: developer commands for the test suite, the crash test and the tools
/// (`tools/gen-log`, `tools/hostile-clients`, `tools/bench`). Not shipped with `parley`.
@main
struct Debug: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "parley-debug",
        abstract: "Developer commands used by the test suite and the tools in tools/; not for operators.",
        subcommands: [AppendLoop.self, Head.self, RebuildPaused.self, CodecBench.self, Generate.self, HostileClients.self]
    )

    /// Appends batches of sends forever, printing `committed BATCH FIRST LAST` after each durable commit.
    struct AppendLoop: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "append-loop",
            abstract: "Append batches of sends in a loop, reporting each durable commit on stdout."
        )

        @Option(help: "The data directory.") var data: String
        @Option(help: "Commands per batch.") var batchSize = 16
        @Option(help: "Stop after this many batches (default: never).") var batches = Int.max
        @Option(help: "Number of the first batch (its idempotency keys are b<N>-<index>).") var startBatch = 0
        @Option(help: "Initial map size in bytes (small values exercise map growth).") var mapSize = 1 << 20

        func run() throws {
            let engine = try Engine(directory: data, options: EngineOptions(initialMapSize: mapSize))
            let admin = Actor(uid: 0, role: .admin)
            let setup: [Command] = [
                .putService(PutService(serviceId: "sales", name: "Sales", smsNumber: "+15550000001", smsEnabled: true, inboundChats: true)),
                .putAgent(PutAgent(agentId: "a1", displayName: "Ann", did: "+15550001001", services: ["sales"])),
                .putAgent(PutAgent(agentId: "a2", displayName: "Bob", services: ["sales"])),
                .login(Login(agentId: "a1", state: .ready)),
                .login(Login(agentId: "a2", state: .ready)),
            ]
            _ = try engine.execute(setup.enumerated().map { CommandRequest($1, actor: admin, idempotencyKey: "setup-\($0)") })
            let start = engine.head.position
            var batch = startBatch
            while batch - startBatch < batches {
                let requests = (0..<batchSize).map { index -> CommandRequest in
                    let n = batch * batchSize + index
                    let agent = n % 2 == 0 ? "a1" : "a2"
                    let customer = "+1555\(String(format: "%07d", 100 + (n % 50) * 2 + (n % 2)))"
                    let command: Command = n % 5 == 4
                        ? .receive(ReceiveInbound(from: customer, to: n % 10 == 4 ? "+15550001001" : "+15550000001", text: "reply \(n)"))
                        : .send(SendMessage(agentId: agent, serviceId: "sales", customerNumber: customer, text: "message \(n)"))
                    return CommandRequest(command, actor: Actor(uid: 1000, role: .frontend), idempotencyKey: "b\(batch)-\(index)")
                }
                let outcomes = try engine.execute(requests)
                let positions = outcomes.compactMap { $0.result?.position }
                FileHandle.standardOutput.write(Data("committed \(batch) \(positions.min() ?? start) \(engine.head.position)\n".utf8))
                batch += 1
            }
        }
    }

    /// Prints the head of a data directory opened read-only.
    struct Head: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the head position and hash (read-only open).")

        @Option(help: "The data directory.") var data: String

        func run() throws {
            let engine = try Engine(directory: data, options: EngineOptions(readOnly: true))
            let head = engine.head
            print("\(head.position) \(head.hash.hex)")
        }
    }

    /// A projections rebuild that stops itself in the middle, so a test can kill it there.
    struct RebuildPaused: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rebuild-paused",
            abstract: "Rebuild the projections as `parley projections rebuild` does, but print `paused` and stop "
                + "(SIGSTOP) once the first chunk of events is in the scratch file, before the swap: a test then kills "
                + "it at work."
        )

        @Option(help: "The data directory.") var data: String

        func run() throws {
            var stopped = false
            try Rebuilder.rebuild(directory: data) { _, _ in
                guard !stopped else { return }
                stopped = true
                let line = Array("paused\n".utf8)
                _ = line.withUnsafeBytes { write(STDOUT_FILENO, $0.baseAddress, $0.count) }
                raise(SIGSTOP)
            }
        }
    }

    /// Fills a data directory with a realistic log of about N events (for benchmarks and audits).
    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Generate a log of about N events: sends, delivery reports and replies over many agents and customers."
        )

        @Option(help: "The data directory (created).") var data: String
        @Option(help: "Events to generate (approximately).") var events = 1_000_000
        @Option(help: "Agents.") var agents = 200
        @Option(help: "Commands per durable commit.") var batch = 2000

        func run() throws {
            let engine = try Engine(directory: data, options: EngineOptions(initialMapSize: 256 << 20))
            var setup: [Command] = [
                .putService(PutService(serviceId: "sales", name: "Sales", smsNumber: "+15550000001", smsEnabled: true, inboundChats: true)),
            ]
            for a in 0..<agents {
                setup.append(.putAgent(PutAgent(agentId: "a\(a)", displayName: "Agent \(a)", did: "+1555100\(String(format: "%04d", a))", services: ["sales"])))
                setup.append(.login(Login(agentId: "a\(a)", state: .ready)))
            }
            _ = try engine.execute(setup.map { CommandRequest($0, actor: .system) })
            let frontend = Actor(uid: 1000, role: .frontend)
            let carrier = Actor(uid: 1001, role: .carrier)
            var n = 0
            var pendingReports: [String] = []
            let started = ContinuousClock.now
            // A progress line only on a terminal: carriage returns would litter a file or a pipe.
            let showProgress = isatty(2) == 1
            while engine.head.position < UInt64(events) {
                var requests: [CommandRequest] = []
                for _ in 0..<batch {
                    n += 1
                    let agent = n % agents
                    let customer = "+1555\(String(format: "%07d", (n / 7) % 5_000_000))"
                    switch n % 4 {
                    case 0, 1:
                        requests.append(CommandRequest(.send(SendMessage(
                            agentId: "a\(agent)", serviceId: "sales", customerNumber: "+1555\(String(format: "%07d", agent * 1000 + n % 500))",
                            text: "Hello, your order \(n) has shipped and will arrive on Tuesday. Reply here with any questions."
                        )), actor: frontend))
                    case 2:
                        if let message = pendingReports.popLast() {
                            requests.append(CommandRequest(.reportDelivery(ReportDelivery(messageId: message, status: .delivered)), actor: carrier))
                        }
                    default:
                        requests.append(CommandRequest(.receive(ReceiveInbound(
                            from: n % 3 == 0 ? "+1555\(String(format: "%07d", agent * 1000 + n % 500))" : customer,
                            to: n % 11 == 0 ? "+1555100\(String(format: "%04d", agent))" : "+15550000001", text: "Thanks! \(n)"
                        )), actor: carrier))
                    }
                }
                for outcome in try engine.execute(requests) {
                    for event in outcome.result?.events ?? [] {
                        if case .messageSent(let e) = event.event { pendingReports.append(e.messageId) }
                    }
                }
                if pendingReports.count > 10_000 { pendingReports.removeFirst(pendingReports.count - 10_000) }
                if showProgress { FileHandle.standardError.write(Data("\rgenerated \(engine.head.position) events".utf8)) }
            }
            let elapsed = ContinuousClock.now - started
            if showProgress { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
            print("generated \(engine.head.position) events in \(String(format: "%.1f", elapsed.seconds)) s")
        }
    }
}
