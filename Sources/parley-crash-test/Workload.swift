import Foundation
import ParleyClient
import ParleyProtocol

/// The commands of the load: each client is one agent sending SMS, and a carrier reporting
/// inbound SMS, every command with its own idempotency key.
enum Workload {
    /// The agent a client sends as.
    static func agent(_ client: Int) -> String { "ck\(client)" }

    /// The directory setup for `clients` agents: sent at every start (replayed after the first).
    static func setup(clients: Int) -> [CommandSpec] {
        (0..<clients).flatMap { client -> [CommandSpec] in
            let agent = agent(client)
            return [
                CommandSpec(
                    key: "setup-agent-\(client)", method: "directory.putAgent",
                    params: [
                        "agentId": .string(agent), "displayName": .string("Crash \(client)"), "services": ["support"],
                        "idempotencyKey": .string("setup-agent-\(client)"),
                    ]
                ),
                CommandSpec(
                    key: "setup-login-\(client)", method: "agent.login",
                    params: [
                        "agentId": .string(agent), "state": "Ready", "idempotencyKey": .string("setup-login-\(client)"),
                    ]
                ),
            ]
        }
    }

    /// Command `sequence` of `client` in cycle `cycle`: sends and inbound SMS in turn.
    static func command(client: Int, cycle: Int, sequence: Int) -> CommandSpec {
        let tag = "\(cycle)-\(client)-\(sequence)"
        let number = String(format: "%02d%02d%05d", cycle % 100, client % 100, sequence % 100_000)
        if sequence % 3 == 2 {
            let key = "in-\(tag)"
            return CommandSpec(
                key: key, method: "carrier.inbound",
                params: [
                    "from": .string("+166\(number)"), "to": "+15550100100", "text": .string("inbound \(tag) ✓"),
                    "carrierReference": .string("ref-\(tag)"), "idempotencyKey": .string(key),
                ]
            )
        }
        let key = "send-\(tag)"
        return CommandSpec(
            key: key, method: "sms.send",
            params: [
                "agentId": .string(agent(client)), "serviceId": "support", "customerNumber": .string("+155\(number)"),
                "text": .string("crash test \(tag) 👋"), "idempotencyKey": .string(key),
            ]
        )
    }
}

/// Load from several connections until the daemon dies: each client sends one command at a
/// time and records every answer in the ledger; an unanswered command stays pending.
final class LoadClients: Sendable {
    private let done = DispatchGroup()

    /// Returns once every client is connected (or has failed to): the load is on before the
    /// round's kill timer starts, however late a loaded machine starts the threads.
    init(socketPath: String, clients: Int, cycle: Int, ledger: Ledger) {
        let connected = DispatchGroup()
        for client in 0..<clients {
            let done = self.done
            done.enter()
            connected.enter()
            Thread {
                defer { done.leave() }
                let connection = try? ParleyConnection.open(socketPath)
                connected.leave()
                guard let connection else { return }
                defer { connection.closeBlocking() }
                var sequence = 0
                while true {
                    let spec = Workload.command(client: client, cycle: cycle, sequence: sequence)
                    sequence += 1
                    ledger.sending(spec)
                    let answer = connection.sendBlocking(spec)
                    if case .lost = answer { return }
                    ledger.answered(spec.key, answer, retry: false)
                }
            }.start()
        }
        connected.wait()
    }

    /// Waits until every client saw its connection end (the daemon died).
    func wait() { done.wait() }
}
