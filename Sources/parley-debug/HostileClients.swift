import ArgumentParser
import Foundation
import ParleyClient
import ParleyStore
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Runs misbehaving clients against a live daemon and prints what they cost it: the daemon's
/// private memory (RssAnon) and a well-behaved client's latency alone and during the abuse.
struct HostileClients: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hostile-clients",
        abstract:
            "Idle connections, slow-loris partial lines, a never-reading subscriber and a connection flood against a running parleyd (see tools/hostile-clients)."
    )

    @Option(help: "The daemon's socket.") var socket: String
    @Option(help: "The daemon's process id (its memory is read from /proc).") var pid: Int32
    @Option(help: "Idle connections to hold open.") var idle = 1000
    @Option(help: "Connections that send a partial line of --partial-bytes and stop.") var stalled = 10
    @Option(help: "Bytes of each stalled partial line (at most the 1 MiB line limit).") var partialBytes = (1 << 20) - 1
    @Option(help: "Connections that trickle a request one byte every 200 ms.") var tricklers = 10
    @Option(help: "Connections opened past the limit (--max-connections) in the flood.") var flood = 50
    @Option(help: "Requests of each kind per latency run.") var samples = 400
    @Option(
        help: "The daemon's --line-timeout, in seconds (how long to wait for the slow-loris connections to be closed).")
    var lineTimeout = 30.0
    @Option(help: "An agent of the directory that may log in (the demo's alice).") var agent = "alice"

    func run() async throws {
        raiseDescriptorLimit()
        // The well-behaved client is the client library every front end uses; the abusers below
        // are raw sockets, because misbehaving byte by byte is their point.
        let good = try await ParleyConnection.connect(path: socket)
        try await good.call("agent.login", ["agentId": .string(agent), "state": "Ready"], timeout: .seconds(30))
        let maxConnections = good.greeting["limits"]?["maxConnections"]?.int64 ?? 1024
        var state = "NotReady"

        let before = privateKiB()
        let alone = try await latencies(good, state: &state)
        report("parleyd pid \(pid), private memory (RssAnon):")
        report(row("before", before, nil))

        var idleConnections: [ParleyConnection] = []
        for _ in 0..<idle { idleConnections.append(try await ParleyConnection.connect(path: socket)) }
        let withIdle = privateKiB()
        report(row("with \(idle) idle connections", withIdle, before) + per(withIdle - before, idle))

        // The abusers: partial lines left hanging, tricklers, a subscriber that never reads.
        var stalledSockets: [Int32] = []
        let prefix = Array(#"{"jsonrpc":"2.0","id":1,"method":"sms.count","params":{"text":""#.utf8)
        let partial = prefix + [UInt8](repeating: UInt8(ascii: "x"), count: max(0, partialBytes - prefix.count))
        for _ in 0..<stalled {
            let fd = try rawConnect()
            try sendAll(fd, partial)
            stalledSockets.append(fd)
        }
        let trickleSockets = try (0..<tricklers).map { _ in try rawConnect() }
        let stop = StopFlag()
        let request = Array(#"{"jsonrpc":"2.0","id":1,"method":"sms.count","params":{"text":"slow"}}"#.utf8)
        let trickler = Thread {
            var offset = 0
            while !stop.isSet {
                for fd in trickleSockets {
                    _ = Glibc.send(fd, [request[offset % request.count]], 1, Int32(MSG_NOSIGNAL))
                }
                offset += 1
                usleep(200_000)
            }
        }
        trickler.start()
        let subscriber = try rawConnect()
        try sendAll(
            subscriber,
            Array(#"{"jsonrpc":"2.0","id":1,"method":"events.subscribe","params":{"after":0}}"#.utf8) + [0x0A])
        try await Task.sleep(for: .milliseconds(500))
        let withAbuse = privateKiB()
        let during = try await latencies(good, state: &state)
        let peak = max(withAbuse, privateKiB())
        report(
            row(
                "+ \(stalled) partial lines of \(partialBytes) B, \(tricklers) tricklers, 1 subscriber never reading",
                peak, withIdle)
                + per(peak - withIdle, stalled, "partial line"))

        // The flood: connections past the limit are refused with a clear line; the good client goes on.
        let open = 1 + idle + stalled + tricklers + 1
        var refused = 0
        var admitted = 0
        var floodSockets: [Int32] = []
        for _ in 0..<flood {
            let fd = try rawConnect()
            floodSockets.append(fd)
            let first = readLine(fd, timeout: 5) ?? ""
            if first.contains("\"TooManyConnections\"") {
                refused += 1
            } else if first.contains("server.hello") {
                admitted += 1
            }
        }
        let floodAnswer = (try? await good.call("log.head", timeout: .seconds(30))) != nil
        for fd in floodSockets { _ = Glibc.close(fd) }

        report("")
        report("well-behaved client, \(samples) requests of each kind, one at a time:")
        report("  alone:        \(alone.description)")
        report("  during abuse: \(during.description)")
        report(
            String(
                format: "  factor (during / alone): query p50 %.2f, p99 %.2f; command p50 %.2f, p99 %.2f",
                during.query.p50 / alone.query.p50, during.query.p99 / alone.query.p99,
                during.command.p50 / alone.command.p50, during.command.p99 / alone.command.p99
            ))
        report("")
        report(
            "flood: \(flood) connections with \(open) open (limit \(maxConnections)): \(refused) refused with TooManyConnections, "
                + "\(admitted) admitted; the well-behaved client \(floodAnswer ? "was answered" : "was NOT answered") during the flood"
        )

        // Partial lines are closed after the line timeout with LineTimeout.
        stop.set()
        let waitUntil = Date().addingTimeInterval(lineTimeout + 10)
        var timedOut = (stalled: 0, tricklers: 0)
        for (index, fd) in (stalledSockets + trickleSockets).enumerated() {
            var sawTimeout = false
            while let line = readLine(fd, timeout: max(1, waitUntil.timeIntervalSinceNow)) {
                if line.contains("\"LineTimeout\"") { sawTimeout = true }
            }
            if sawTimeout, index < stalledSockets.count {
                timedOut.stalled += 1
            } else if sawTimeout {
                timedOut.tricklers += 1
            }
            _ = Glibc.close(fd)
        }
        report(
            "slow loris: LineTimeout and closed: \(timedOut.stalled) of \(stalled) hanging partial lines, "
                + "\(timedOut.tricklers) of \(tricklers) tricklers (--line-timeout \(lineTimeout == lineTimeout.rounded() ? String(Int(lineTimeout)) : String(lineTimeout)) s)"
        )
        let afterLoris = privateKiB()
        _ = Glibc.close(subscriber)
        for connection in idleConnections { await connection.close() }
        idleConnections.removeAll()
        try await Task.sleep(for: .seconds(1))
        report(
            row("after every abuser disconnected", privateKiB(), nil)
                + " (after the partial lines were dropped: \(afterLoris) KiB)")
        await good.close()
    }

    // MARK: Latency

    struct Percentiles {
        var p50: Double
        var p99: Double
    }

    struct Latencies: CustomStringConvertible {
        var query: Percentiles
        var command: Percentiles
        var description: String {
            String(
                format:
                    "query (agent.view) p50 %.3f ms, p99 %.3f ms; command (agent.setState, one durable commit) p50 %.3f ms, p99 %.3f ms",
                query.p50, query.p99, command.p50, command.p99
            )
        }
    }

    private func latencies(_ client: ParleyConnection, state: inout String) async throws -> Latencies {
        var queries: [Double] = []
        var commands: [Double] = []
        for _ in 0..<samples {
            var start = ContinuousClock.now
            try await client.call("agent.view", ["agentId": .string(agent)], timeout: .seconds(30))
            queries.append((ContinuousClock.now - start).milliseconds)
            state = state == "Ready" ? "NotReady" : "Ready"
            start = ContinuousClock.now
            try await client.call(
                "agent.setState", ["agentId": .string(agent), "state": .string(state)], timeout: .seconds(30))
            commands.append((ContinuousClock.now - start).milliseconds)
        }
        return Latencies(query: percentiles(queries), command: percentiles(commands))
    }

    private func percentiles(_ values: [Double]) -> Percentiles {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return Percentiles(p50: 0, p99: 0) }
        return Percentiles(p50: sorted[sorted.count / 2], p99: sorted[Int(Double(sorted.count - 1) * 0.99)])
    }

    // MARK: Memory

    /// The daemon's private resident memory in KiB (`RssAnon`: its heap, not LMDB's file-backed map).
    private func privateKiB() -> Int {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("RssAnon:") } ?? ""
        return Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
    }

    private func row(_ label: String, _ kib: Int, _ base: Int?) -> String {
        let delta = base.map { String(format: " (%+.1f MiB)", Double(kib - $0) / 1024) } ?? ""
        return "  " + label.padding(toLength: max(label.count, 44), withPad: " ", startingAt: 0)
            + String(format: " %8.1f MiB", Double(kib) / 1024) + delta
    }

    private func per(_ kib: Int, _ count: Int, _ noun: String = "connection") -> String {
        count > 0 ? String(format: ", %.1f KiB per \(noun)", Double(kib) / Double(count)) : ""
    }

    private func report(_ line: String) {
        print(line)
        fflush(nil)
    }

    // MARK: Raw sockets

    private func rawConnect() throws -> Int32 {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(socket.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            throw ValidationError("socket path too long")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let fd = Glibc.socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ValidationError("socket(): \(SystemError.reason())") }
        let rc = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard rc == 0 else {
            _ = Glibc.close(fd)
            throw ValidationError("connect \(socket): \(SystemError.reason())")
        }
        return fd
    }

    private func sendAll(_ fd: Int32, _ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw ValidationError("send: \(SystemError.reason())") }
            offset += n
        }
    }

    /// One line from a raw socket (byte by byte: these are short), nil at EOF or after `timeout` seconds.
    private func readLine(_ fd: Int32, timeout: Double) -> String? {
        var tv = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - timeout.rounded(.down)) * 1_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var line: [UInt8] = []
        var byte: UInt8 = 0
        while Glibc.read(fd, &byte, 1) == 1 {
            if byte == 0x0A { return String(decoding: line, as: UTF8.self) }
            line.append(byte)
        }
        return line.isEmpty ? nil : String(decoding: line, as: UTF8.self)
    }

    private func raiseDescriptorLimit() {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return }
        limit.rlim_cur = limit.rlim_max
        _ = setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
    }
}

extension Duration {
    /// The duration in milliseconds.
    fileprivate var milliseconds: Double {
        Double(components.seconds) * 1000 + Double(components.attoseconds) / 1e15
    }
}

/// A flag one thread sets and another polls.
private final class StopFlag: Sendable {
    private let flag = Mutex(false)
    var isSet: Bool { flag.withLock { $0 } }
    func set() { flag.withLock { $0 = true } }
}
