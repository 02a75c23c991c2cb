import Glibc

/// `sms.send` load: each connection keeps `pipeline` requests in flight and sends the next one as
/// soon as one of its answers arrives (with `pipeline` 1 a closed loop, like `redis-benchmark`
/// without `-P`). Reports acknowledged sends/s, appended events/s, ack latency (request written →
/// its answer read, matched by id, same monotonic clock) and the CPU the daemon and the load
/// generator itself used over the measured window.
struct LoadGenerator {
    var socket: String
    var workload: Workload
    var connections: Int
    /// Requests kept in flight on each connection.
    var pipeline: Int
    /// Seconds of load before measuring starts.
    var warmup: Double
    /// Seconds measured.
    var duration: Double
    /// The daemon's pid, for its CPU time over the measured window (0: not measured).
    var daemonPID: Int32

    /// What the clocks read at one end of the measured window.
    private struct Reading {
        /// Monotonic nanoseconds.
        var time: UInt64
        /// The daemon's CPU seconds so far (0 when not measured).
        var daemonCPU: Double
        /// The load generator's own CPU seconds so far.
        var clientCPU: Double

        init(daemonPID: Int32) throws(BenchError) {
            daemonCPU = try daemonPID > 0 ? CPUTime.process(pid: daemonPID) : 0
            clientCPU = CPUTime.selfSeconds()
            time = monotonicNanos()
        }
    }

    func run() throws(BenchError) {
        let poller = try Poller()
        var conns: [Connection] = []
        for i in 0..<connections { conns.append(try poller.connect(path: socket, tag: i)) }

        let start = monotonicNanos()
        let measureFrom = start + UInt64(warmup * 1e9)
        let stopAt = measureFrom + UInt64(duration * 1e9)
        // When each request was written, indexed by its id (1, 2, 3 … in send order; 0 unused).
        var sentAt: [UInt64] = [0]
        sentAt.reserveCapacity(Int((warmup + duration) * 20_000))
        var latencies: [Int64] = []
        latencies.reserveCapacity(Int(duration * 20_000))
        // Answers read between the window's two readings; only they count.
        var measuring = false
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
            sentAt.append(now)
            c.inFlight += 1
            outstanding += 1
            poller.send(c, workload.send(id: seq, seq: seq, agent: agent))
        }

        for c in conns {
            c.onLine = { line in
                guard case .answer(let id, let ok) = Line.parse(line) else { return }
                let now = monotonicNanos()
                c.inFlight -= 1
                outstanding -= 1
                if !ok {
                    errors += 1
                    if firstError.isEmpty { firstError = String(decoding: line, as: UTF8.self) }
                } else if measuring, id > 0, id < sentAt.count {
                    latencies.append(Int64(now - sentAt[id]))
                    acks += 1
                    events += Self.occurrences(of: streamMarker, in: line)
                }
                sendNext(c)
            }
            for _ in 0..<pipeline { sendNext(c) }
        }

        // The window opens and closes between two polls, so the CPU readings and the answers
        // counted cover exactly the same stretch of time.
        var begin: Reading?
        var end: Reading?
        let deadline = stopAt + 30_000_000_000
        while end == nil || outstanding > 0 {
            let now = monotonicNanos()
            if now > deadline { throw .timeout("load answers") }
            if begin == nil, now >= measureFrom {
                begin = try Reading(daemonPID: daemonPID)
                measuring = true
            } else if begin != nil, end == nil, now >= stopAt {
                measuring = false
                end = try Reading(daemonPID: daemonPID)
            }
            try poller.poll(timeoutMs: 1)
        }
        guard errors == 0 else { throw .unexpected("load: \(errors) sends refused, first: \(firstError)") }
        guard poller.closedCount == 0 else {
            throw .unexpected("load: the daemon closed \(poller.closedCount) connections")
        }
        guard let begin, let end, acks > 0 else { throw .unexpected("load: no answer inside the measured window") }

        let window = seconds(from: begin.time, to: end.time)
        let clientCPU = end.clientCPU - begin.clientCPU
        var members: [(String, JSONNumber)] = [
            ("connections", .int(connections)), ("pipeline", .int(pipeline)), ("seconds", .double(window)),
            ("sendsPerSec", .double(Double(acks) / window)), ("eventsPerSec", .double(Double(events) / window)),
        ]
        members += LatencySummary(nanoseconds: latencies).jsonMembers(prefix: "ack")
        if daemonPID > 0 {
            let daemonCPU = end.daemonCPU - begin.daemonCPU
            members += [
                ("daemonCpuUsPerCommand", .double(daemonCPU / Double(acks) * 1e6)),
                ("daemonCores", .double(daemonCPU / window)),
            ]
        }
        members += [
            ("clientCpuUsPerCommand", .double(clientCPU / Double(acks) * 1e6)),
            ("clientCores", .double(clientCPU / window)),
        ]
        printResult(kind: "load", members)
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
