import Glibc

/// Fan-out: `subscribers` connections each hold one `events.subscribe {filter: {agentId}}` for its
/// own agent while `writers` connections send `sms.send` open-loop at a fixed total `rate`, spread
/// over all those agents. For every send it records, on one monotonic clock:
/// t0 the request written, t1 its acknowledgement read, t2 its `events.event` read by the
/// agent's subscriber. It reports t2 − t1 (ack → delivery: the part of delivery after the
/// commit is acknowledged; negative when the event overtakes the ack) and t2 − t0
/// (send → delivery: an upper bound on commit → delivery). A send is never delayed behind a full
/// connection: when every writer has `Seeder.window` requests in flight it waits, and `late` counts the ticks
/// on which that happened (the rate achieved is reported too). Sends still unanswered or
/// undelivered 30 s after the load are counted (`unanswered`, `undelivered`), not waited for.
struct FanOut {
    var socket: String
    var workload: Workload
    var subscribers: Int
    var writers: Int
    var rate: Double
    var warmup: Double
    var duration: Double
    /// The daemon's pid, for its RssAnon while every connection is open (0: not measured).
    var daemonPID: Int32

    func run() throws(BenchError) {
        let poller = try Poller()
        var subscribed = 0
        var subErrors = 0
        var delivered = 0
        var linesToSubscribers = 0
        let total = Int(rate * (warmup + duration)) + 1
        var t0 = [UInt64](repeating: 0, count: total + 1)
        var t1 = [UInt64](repeating: 0, count: total + 1)
        var t2 = [UInt64](repeating: 0, count: total + 1)
        let textMarker = Array("\"text\":\"k".utf8)

        progress("fanout: connecting \(subscribers) subscribers")
        var subs: [Connection] = []
        for i in 0..<subscribers {
            let c = try poller.connect(path: socket, tag: i)
            c.onLine = { line in
                linesToSubscribers += 1
                if Line.isEvent(line) {
                    if let seq = Line.number(after: textMarker, in: line), seq > 0, seq <= total, t2[seq] == 0 {
                        t2[seq] = monotonicNanos()
                        delivered += 1
                    }
                    return
                }
                if case .answer(_, let ok) = Line.parse(line) {
                    if ok { subscribed += 1 } else { subErrors += 1 }
                }
            }
            subs.append(c)
            poller.send(c, workload.request(1, "events.subscribe", "{\"filter\":{\"agentId\":\"\(workload.agentId(i % workload.agents))\"}}"))
            if i % 64 == 63 { try poller.poll(timeoutMs: 0) }
        }
        try poller.run(until: { subscribed + subErrors == subscribers }, deadline: monotonicNanos() + 60_000_000_000,
                       what: "subscription answers")
        guard subErrors == 0 else { throw .unexpected("fanout: \(subErrors) subscriptions refused") }

        var ws: [Connection] = []
        var errors = 0
        var firstError = ""
        var outstanding = 0
        var late = 0
        for i in 0..<writers {
            let c = try poller.connect(path: socket, tag: i)
            c.onLine = { line in
                guard case .answer(let id, let ok) = Line.parse(line) else { return }
                c.inFlight -= 1
                outstanding -= 1
                if !ok {
                    errors += 1
                    if firstError.isEmpty { firstError = String(decoding: line, as: UTF8.self) }
                } else if id > 0, id <= total {
                    t1[id] = monotonicNanos()
                }
            }
            ws.append(c)
        }

        progress("fanout: \(writers) writers at \(Int(rate)) sends/s for \(warmup + duration) s")
        let start = monotonicNanos()
        let stopAt = start + UInt64((warmup + duration) * 1e9)
        var seq = 0
        var rss = 0
        while true {
            let now = monotonicNanos()
            if now >= stopAt { break }
            let due = min(total, Int(seconds(from: start, to: now) * rate))
            while seq < due {
                // The next writer with room (well under the protocol's 64 requests in flight); when none
                // has room the send waits for the next tick (counted in `late`).
                var pick: Connection?
                for k in 0..<writers where ws[(seq + 1 + k) % writers].inFlight < Seeder.window {
                    pick = ws[(seq + 1 + k) % writers]
                    break
                }
                guard let c = pick else {
                    late += 1
                    break
                }
                seq += 1
                t0[seq] = monotonicNanos()
                c.inFlight += 1
                outstanding += 1
                poller.send(c, workload.send(id: seq, seq: seq, agent: seq % min(subscribers, workload.agents)))
            }
            try poller.poll(timeoutMs: 1)
        }
        if daemonPID > 0 { rss = residentAnonymousKB(pid: daemonPID) ?? 0 }
        let sent = seq
        // A daemon that cannot keep up leaves a backlog: after 30 s it is reported, not waited for.
        let settled = try poller.wait(
            until: { outstanding == 0 && delivered >= sent - errors }, deadline: monotonicNanos() + 30_000_000_000)
        let undelivered = max(0, sent - errors - delivered)
        if !settled { progress("fanout: \(undelivered) sends not delivered and \(outstanding) not answered 30 s after the load") }
        guard errors == 0 else { throw .unexpected("fanout: \(errors) sends refused, first: \(firstError)") }
        guard poller.closedCount == 0 else { throw .unexpected("fanout: the daemon closed \(poller.closedCount) connections") }

        // Samples: the sends acknowledged after the warm-up (when the daemon cannot keep up, the
        // windows fill during the warm-up and these are the sends it worked through under load).
        let measureFrom = start + UInt64(warmup * 1e9)
        var ackToDelivery: [Int64] = []
        var sendToDelivery: [Int64] = []
        var sendToAck: [Int64] = []
        var written = 0
        var acked = 0
        for s in stride(from: 1, through: sent, by: 1) {
            if t0[s] >= measureFrom { written += 1 }
            if t1[s] >= measureFrom, t1[s] <= stopAt { acked += 1 }
            guard t1[s] >= measureFrom, t2[s] > 0 else { continue }
            ackToDelivery.append(Int64(bitPattern: t2[s] &- t1[s]))
            sendToDelivery.append(Int64(t2[s] - t0[s]))
            sendToAck.append(Int64(t1[s] - t0[s]))
        }
        printResult(kind: "fanout", [
            ("subscribers", .int(subscribers)), ("writers", .int(writers)), ("targetRate", .double(rate)),
            ("sentPerSec", .double(Double(written) / duration)), ("ackedPerSec", .double(Double(acked) / duration)),
            ("late", .int(late)), ("subscriberLines", .int(linesToSubscribers)),
            ("undelivered", .int(undelivered)), ("unanswered", .int(outstanding)),
            ("rssAnonKB", .int(rss)),
        ] + LatencySummary(nanoseconds: ackToDelivery).jsonMembers(prefix: "ackToDelivery")
          + LatencySummary(nanoseconds: sendToDelivery).jsonMembers(prefix: "sendToDelivery")
          + LatencySummary(nanoseconds: sendToAck).jsonMembers(prefix: "ack"))
        for c in subs { poller.disconnect(c) }
        for c in ws { poller.disconnect(c) }
    }
}

/// `RssAnon` of a process in KiB from `/proc/PID/status` (its private, anonymous resident memory).
func residentAnonymousKB(pid: Int32) -> Int? {
    guard let file = fopen("/proc/\(pid)/status", "r") else { return nil }
    defer { fclose(file) }
    var line = [CChar](repeating: 0, count: 256)
    while fgets(&line, Int32(line.count), file) != nil {
        let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        if text.hasPrefix("RssAnon:") {
            return Int(text.dropFirst(8).filter { $0.isNumber })
        }
    }
    return nil
}
