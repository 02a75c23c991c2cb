/// Catch-up: one connection subscribes to everything from position 0 and reads until
/// `events.caughtUp`; reports events/s from the subscribe request written to `caughtUp` read.
struct CatchUp {
    var socket: String

    func run() throws(BenchError) {
        let poller = try Poller()
        let c = try poller.connect(path: socket)
        var events = 0
        var bytes = 0
        var caughtUp = false
        var refused = false
        c.onLine = { line in
            bytes += line.count + 1
            if Line.isEvent(line) {
                events += 1
                return
            }
            switch Line.parse(line) {
            case .notification(let method) where method == "events.caughtUp": caughtUp = true
            case .answer(_, let ok) where !ok: refused = true
            default: break
            }
        }
        let start = monotonicNanos()
        poller.send(c, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"events.subscribe\",\"params\":{\"after\":0}}")
        try poller.run(until: { caughtUp || refused || poller.closedCount > 0 },
                       deadline: start + 600_000_000_000, what: "catch-up")
        let end = monotonicNanos()
        guard caughtUp else { throw .unexpected("catch-up: subscription refused or connection closed after \(events) events") }
        let elapsed = seconds(from: start, to: end)
        printResult(kind: "catchup", [
            ("events", .int(events)), ("seconds", .double(elapsed)),
            ("eventsPerSec", .double(Double(events) / elapsed)), ("megabytesPerSec", .double(Double(bytes) / elapsed / 1e6)),
        ])
    }
}
