import Glibc

/// Closed-loop `sms.send` load: each connection keeps exactly one request in flight and sends
/// the next one as soon as the durable acknowledgement arrives (like `redis-benchmark` without
/// pipelining). Reports acknowledged sends/s, appended events/s and ack latency
/// (request written → answer read, same monotonic clock).
struct LoadGenerator {
    var socket: String
    var workload: Workload
    var connections: Int
    /// Seconds of load before measuring starts.
    var warmup: Double
    /// Seconds measured.
    var duration: Double

    func run() throws(BenchError) {
        let poller = try Poller()
        var conns: [Connection] = []
        for i in 0..<connections { conns.append(try poller.connect(path: socket, tag: i)) }

        let start = monotonicNanos()
        let measureFrom = start + UInt64(warmup * 1e9)
        let stopAt = measureFrom + UInt64(duration * 1e9)
        var sentAt = [UInt64](repeating: 0, count: connections)
        var latencies: [Int64] = []
        latencies.reserveCapacity(Int(duration * 100_000))
        var acks = 0
        var events = 0
        var errors = 0
        var firstError = ""
        var seq = 0
        var outstanding = 0
        let streamMarker = Array("\"stream\":".utf8)

        func sendNext(_ c: Connection) {
            let now = monotonicNanos()
            guard now < stopAt else { return }
            seq += 1
            // Agents spread round-robin over all connections, so every connection touches many agents.
            let agent = seq % workload.agents
            sentAt[c.tag] = now
            c.inFlight = 1
            outstanding += 1
            poller.send(c, workload.send(id: seq, seq: seq, agent: agent))
        }

        for c in conns {
            c.onLine = { line in
                guard case .answer(_, let ok) = Line.parse(line) else { return }
                let now = monotonicNanos()
                c.inFlight = 0
                outstanding -= 1
                if !ok {
                    errors += 1
                    if firstError.isEmpty { firstError = String(decoding: line, as: UTF8.self) }
                } else if sentAt[c.tag] >= measureFrom, now <= stopAt {
                    latencies.append(Int64(now - sentAt[c.tag]))
                    acks += 1
                    events += Self.occurrences(of: streamMarker, in: line)
                }
                sendNext(c)
            }
            sendNext(c)
        }
        try poller.run(until: { monotonicNanos() >= stopAt && outstanding == 0 },
                       deadline: stopAt + 30_000_000_000, what: "load answers")
        guard errors == 0 else { throw .unexpected("load: \(errors) sends refused, first: \(firstError)") }
        guard poller.closedCount == 0 else { throw .unexpected("load: the daemon closed \(poller.closedCount) connections") }
        // Samples are the requests both sent and answered inside the window.
        let window = duration
        let summary = LatencySummary(nanoseconds: latencies)
        printResult(kind: "load", [
            ("connections", .int(connections)), ("seconds", .double(window)),
            ("sendsPerSec", .double(Double(acks) / window)), ("eventsPerSec", .double(Double(events) / window)),
        ] + summary.jsonMembers(prefix: "ack"))
    }

    /// How many times `marker` occurs in `line` (one `"stream":` per appended event in a command result).
    static func occurrences(of marker: [UInt8], in line: UnsafeRawBufferPointer) -> Int {
        var count = 0
        var offset = 0
        while let at = Line.find(marker, in: line, from: offset) {
            count += 1
            offset = at + marker.count
        }
        return count
    }
}
