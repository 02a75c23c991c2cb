/// Seeds the bench directory through the protocol (admin methods, as the daemon's own uid).
struct Seeder {
    var socket: String
    var workload: Workload
    /// Requests kept in flight: well under the protocol's 64, which the daemon counts until its
    /// answer is written, a moment after the client may already have read it.
    static let window = 32

    /// Sends every phase pipelined (``window`` in flight), waiting for each phase's answers.
    ///
    /// - Throws: ``BenchError`` when the daemon refuses a command or does not answer in time.
    func run() throws(BenchError) {
        let poller = try Poller()
        let connection = try poller.connect(path: socket)
        var errors = 0
        var firstError = ""
        connection.onLine = { line in
            if case .answer(_, let ok) = Line.parse(line) {
                connection.inFlight -= 1
                if !ok {
                    errors += 1
                    if firstError.isEmpty { firstError = String(decoding: line, as: UTF8.self) }
                }
            }
        }
        let deadline = monotonicNanos() + 300_000_000_000
        for phase in workload.seedPhases(firstID: 1_000_000_000) {
            var next = 0
            while next < phase.count || connection.inFlight > 0 {
                while next < phase.count, connection.inFlight < Self.window {
                    poller.send(connection, phase[next])
                    connection.inFlight += 1
                    next += 1
                }
                if monotonicNanos() > deadline { throw .timeout("seeding") }
                try poller.poll(timeoutMs: 10)
            }
        }
        guard errors == 0 else { throw .unexpected("seeding: \(errors) refused, first: \(firstError)") }
        printResult(kind: "seed", [("agents", .int(workload.agents))])
    }
}
