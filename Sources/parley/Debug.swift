import ArgumentParser
import Foundation
import ParleyCore
import ParleyStore

/// Developer commands used by the test suite (crash and multi-process tests). Hidden from help.
struct Debug: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Developer commands used by the test suite.",
        shouldDisplay: false,
        subcommands: [AppendLoop.self, Head.self, CodecBench.self]
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
}
