/// The directory the bench seeds and the commands it sends: one SMS service and many agents,
/// each writing to its own handful of customers (so conversations never collide between agents).
struct Workload {
    /// The bench's service.
    static let serviceId = "bench"
    /// The service's SMS number.
    static let serviceNumber = "+15559000000"

    /// Number of agents (`b0` … `b{agents-1}`).
    var agents: Int
    /// Customers (hence conversations) per agent.
    var conversationsPerAgent: Int
    /// Characters of text per message (GSM-7, so the default 120 is one segment).
    var textLength: Int

    /// The agent id for index `i`.
    func agentId(_ i: Int) -> String { "b\(i)" }

    /// The customer number of conversation `k` of agent `a` (`+1556AAAAKK`).
    func customerNumber(agent a: Int, conversation k: Int) -> String {
        "+1556" + pad(a % 10_000, 4) + pad(k % 100, 2)
    }

    /// The lines that configure the service and agents, log every agent in and open each agent's
    /// conversations, in four phases
    /// (each phase must be answered before the next starts). Idempotency keys make a re-seed harmless.
    func seedPhases(firstID: Int) -> [[String]] {
        var id = firstID
        func next() -> Int { id += 1; return id }
        let service = [request(next(), "directory.putService",
            "{\"serviceId\":\"\(Self.serviceId)\",\"name\":\"Bench\",\"smsNumber\":\"\(Self.serviceNumber)\",\"smsEnabled\":true,\"inboundChats\":false,\"idempotencyKey\":\"bench-service\"}")]
        let agentsPut = (0..<agents).map { i in
            request(next(), "directory.putAgent",
                "{\"agentId\":\"\(agentId(i))\",\"displayName\":\"Bench \(i)\",\"services\":[\"\(Self.serviceId)\"],\"idempotencyKey\":\"bench-agent-\(i)\"}")
        }
        let logins = (0..<agents).map { i in
            request(next(), "agent.login", "{\"agentId\":\"\(agentId(i))\",\"state\":\"Ready\"}")
        }
        // One message per (agent, conversation) opens every conversation, so measured sends
        // append one MessageSent each into an existing conversation.
        let opens = (0..<(agents * conversationsPerAgent)).map { seq in
            send(id: next(), seq: seq, agent: seq % agents)
        }
        return [service, agentsPut, logins, opens]
    }

    /// An `sms.send` request for sequence number `seq` by agent `agent`; the text starts `k<seq> `
    /// so a subscriber can tell which send an event came from.
    func send(id: Int, seq: Int, agent: Int) -> String {
        let conversation = (seq / max(1, agents)) % max(1, conversationsPerAgent)
        let head = "k\(seq) "
        let text = head + String(repeating: "x", count: max(0, textLength - head.utf8.count))
        return request(id, "sms.send",
            "{\"agentId\":\"\(agentId(agent))\",\"serviceId\":\"\(Self.serviceId)\",\"customerNumber\":\"\(customerNumber(agent: agent, conversation: conversation))\",\"text\":\"\(text)\"}")
    }

    /// One JSON-RPC request line (no newline).
    func request(_ id: Int, _ method: String, _ params: String) -> String {
        "{\"jsonrpc\":\"2.0\",\"id\":\(id),\"method\":\"\(method)\",\"params\":\(params)}"
    }

    private func pad(_ n: Int, _ width: Int) -> String {
        let s = String(n)
        return String(repeating: "0", count: max(0, width - s.count)) + s
    }
}
