import ArgumentParser
import Foundation
import ParleyClient
import ParleyCore
import ParleyProtocol
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// `parley-crash-test soak` (`tools/soak`): a long mixed load, sampling what would show a leak.
///
/// Agents send, a carrier submits, reports and injects inbound SMS, subscriptions come and go
/// (readers, clients that stop reading and vanish, clients that leave half a line), and a backup
/// and an audit run now and then. Every `--sample` seconds it records the daemon's RssAnon, open
/// descriptors, threads and LMDB reader slots, and the ack latency p99 of the window. At the end
/// it stops the daemon gracefully and checks that every acknowledged command is in the log
/// exactly once.
struct SoakTest: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "soak",
        abstract:
            "Run parleyd under mixed load for MINUTES, sampling RssAnon, descriptors, threads and readers; report slopes.",
        discussion: """
            Passes (exit 0) when none of RssAnon, open descriptors, threads and LMDB readers in use \
            grows by more than 10 % (and by more than one) between the means of the first and the \
            last window once warm (windows of 5 minutes, shorter in a short run), no backup or audit \
            failed, and nothing acknowledged is lost. The ack latency p99 is reported, not judged.
            """
    )

    @Option(help: "Minutes of load.") var minutes = 30.0
    @Option(help: "Seconds between samples.") var sample = 10.0
    @Option(help: "Minutes of warm-up left out of the comparison.") var warmup = 2.0
    @Option(help: "Sending connections (one agent each).") var agents = 4
    @Option(help: "Minutes between a backup and an audit beside the load.") var maintenance = 5.0
    @OptionGroup var common: RunOptions

    func run() throws {
        let work = try common.workDirectory()
        let data = work + "/data"
        let executables = common.executables
        try FileManager.default.createDirectory(
            atPath: data, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let daemon = Daemon(executables: executables, directory: data, logPath: work + "/parleyd.log")
        _ = try daemon.start()
        guard let pid = daemon.pid else { throw CrashTestFailure("parleyd is not running") }
        print("soak: \(minutes) min, sample every \(sample) s, parleyd pid \(pid), work directory \(work)")
        let ledger = Ledger()
        let setup = try ParleyConnection.open(daemon.socketPath)
        for spec in Workload.setup(clients: agents) {
            ledger.sending(spec)
            let answer = setup.sendBlocking(spec)
            if case .lost(let reason) = answer { throw CrashTestFailure("setup \(spec.key) unanswered: \(reason)") }
            ledger.answered(spec.key, answer, retry: false)
        }
        setup.closeBlocking()

        let load = SoakLoad(socketPath: daemon.socketPath, agents: agents, ledger: ledger)
        load.start()
        var samples: [Sample] = []
        var findings: [String] = []
        let started = Date()
        var nextMaintenance = maintenance * 60
        var round = 0
        while Date().timeIntervalSince(started) < minutes * 60 {
            usleep(UInt32(sample * 1_000_000))
            let elapsed = Date().timeIntervalSince(started)
            if elapsed >= nextMaintenance {
                nextMaintenance += maintenance * 60
                round += 1
                let copy = work + "/backup-\(round)"
                let backup = try executables.runParley(
                    ["backup", "--data", data, "--to", copy], output: work + "/tools.log")
                if backup != 0 { findings.append("at \(Int(elapsed)) s: parley backup exited \(backup)") }
                try? FileManager.default.removeItem(atPath: copy)
                let audit = try executables.runParley(["audit", "verify", "--data", data], output: work + "/tools.log")
                if audit != 0 { findings.append("at \(Int(elapsed)) s: parley audit verify exited \(audit)") }
            }
            let taken = try Sample.take(
                pid: pid, elapsed: elapsed, latencies: load.takeLatencies(), executables: executables, data: data)
            samples.append(taken)
            print(taken.line)
            fflush(nil)  // each sample line as it is taken, also into a file
        }
        load.stop()
        let stopped = daemon.stop()
        if stopped != 0 { findings.append("parleyd exited \(stopped) on SIGTERM") }
        let checker = LogChecker(directory: data)
        findings += try checker.check(ledger, subscriberLastSeen: 0)
        findings += load.findings()

        let report = SoakReport(samples: samples, warmup: warmup * 60, minutes: minutes)
        for line in report.lines { print(line) }
        findings += report.findings
        let totals = checker.totals(ledger)
        for finding in findings.prefix(50) { print("FINDING  \(finding)") }
        print(
            "soak: \(findings.isEmpty ? "PASS" : "FAIL"): \(String(format: "%.1f", minutes)) min, acknowledged commands \(totals.commands) "
                + "(events \(totals.events)), subscriptions \(load.subscriptions()), lost \(checker.lost.count), "
                + "duplicated \(checker.duplicated.count), findings \(findings.count)"
        )
        try common.finish("soak", passed: findings.isEmpty, work: work)
    }
}

/// One sample of the daemon.
struct Sample {
    var elapsed: Double
    var rssAnonKiB: Double
    var descriptors: Double
    var threads: Double
    var readers: Double
    var acks: Int
    var p99Milliseconds: Double

    static func take(pid: Int32, elapsed: Double, latencies: [Double], executables: Executables, data: String) throws
        -> Sample
    {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        func field(_ name: String) -> Double {
            let line = status.split(separator: "\n").first { $0.hasPrefix(name + ":") } ?? ""
            return Double(line.split(whereSeparator: \.isWhitespace).dropFirst().first ?? "") ?? 0
        }
        let descriptors = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? 0
        let output = NSTemporaryDirectory() + "soak-stats-\(getpid()).json"
        unlink(output)
        _ = try executables.runParley(["stats", "--data", data, "--json"], output: output)
        let stats = (try? Data(contentsOf: URL(fileURLWithPath: output))).flatMap {
            try? JSONSerialization.jsonObject(with: $0) as? [String: Any]
        }
        let sorted = latencies.sorted()
        let p99 = sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count) * 0.99))]
        return Sample(
            elapsed: elapsed, rssAnonKiB: field("RssAnon"), descriptors: Double(descriptors), threads: field("Threads"),
            readers: (stats?["logReaders"] as? NSNumber)?.doubleValue ?? -1, acks: latencies.count, p99Milliseconds: p99
        )
    }

    var line: String {
        String(
            format:
                "soak: t=%5.0f s  RssAnon %7.0f KiB  fds %4.0f  threads %3.0f  readers %3.0f  acks %6d  ack p99 %6.2f ms",
            elapsed, rssAnonKiB, descriptors, threads, readers, acks, p99Milliseconds)
    }
}

/// The comparison of the first and last windows once warm, and each figure's slope.
struct SoakReport {
    var lines: [String] = []
    var findings: [String] = []

    init(samples: [Sample], warmup: Double, minutes: Double) {
        let warm = samples.filter { $0.elapsed > warmup }
        guard warm.count >= 4 else {
            findings.append("too few samples after the warm-up (\(warm.count)) to compare")
            return
        }
        let span = (warm.last?.elapsed ?? 0) - (warm.first?.elapsed ?? 0)
        let window = min(300, span / 3)
        let start = warm.first?.elapsed ?? 0
        let end = warm.last?.elapsed ?? 0
        let figures: [(String, KeyPath<Sample, Double>, Bool)] = [
            ("RssAnon KiB", \.rssAnonKiB, true), ("open descriptors", \.descriptors, true),
            ("threads", \.threads, true),
            ("LMDB readers", \.readers, true), ("ack p99 ms", \.p99Milliseconds, false),
        ]
        lines.append(
            String(
                format: "soak: windows of %.0f s after %.0f s of warm-up; slope by least squares over %d samples",
                window, warmup, warm.count))
        for (name, path, judged) in figures {
            let first = Self.mean(warm.filter { $0.elapsed <= start + window }.map { $0[keyPath: path] })
            let last = Self.mean(warm.filter { $0.elapsed >= end - window }.map { $0[keyPath: path] })
            let growth = first > 0 ? (last / first - 1) * 100 : (last > 0 ? 100 : 0)
            let slope = Self.slopePerMinute(warm.map { ($0.elapsed, $0[keyPath: path]) })
            lines.append(
                String(
                    format: "soak: %@: first window %.2f, last window %.2f (%+.1f %%), slope %+.3f per minute%@",
                    name, first, last, growth, slope, judged ? "" : " (reported, not judged: the machine is shared)"))
            // A count of a few (descriptors, threads, readers) moves by one as work comes and goes.
            if judged, growth > 10, last - first > 1 {
                findings.append(String(format: "%@ grew %.1f %% between the first and the last window", name, growth))
            }
        }
    }

    static func mean(_ values: [Double]) -> Double { values.isEmpty ? 0 : values.reduce(0, +) / Double(values.count) }

    static func slopePerMinute(_ points: [(Double, Double)]) -> Double {
        let n = Double(points.count)
        let mx = points.map(\.0).reduce(0, +) / n
        let my = points.map(\.1).reduce(0, +) / n
        let covariance = points.map { ($0.0 - mx) * ($0.1 - my) }.reduce(0, +)
        let variance = points.map { ($0.0 - mx) * ($0.0 - mx) }.reduce(0, +)
        return variance > 0 ? covariance / variance * 60 : 0
    }
}

/// The soak's load: agents sending (each send then submitted and reported by a carrier),
/// inbound SMS, and subscriptions coming and going, until stopped.
final class SoakLoad: Sendable {
    private let socketPath: String
    private let agents: Int
    private let ledger: Ledger
    private let running = Atomic<Bool>(true)
    private let done = DispatchGroup()
    private let latencies = Mutex<[Double]>([])
    private let problems = Mutex<[String]>([])
    private let subscribed = Atomic<Int>(0)

    init(socketPath: String, agents: Int, ledger: Ledger) {
        self.socketPath = socketPath
        self.agents = agents
        self.ledger = ledger
    }

    func start() {
        for agent in 0..<agents { thread { self.send(as: agent) } }
        for churner in 0..<2 { thread { self.churnSubscriptions(seed: UInt64(churner + 1)) } }
    }

    func stop() {
        running.store(false, ordering: .relaxed)
        done.wait()
    }

    func takeLatencies() -> [Double] {
        latencies.withLock { taken in
            defer { taken = [] }
            return taken
        }
    }
    func findings() -> [String] { problems.withLock { $0 } }
    func subscriptions() -> Int { subscribed.load(ordering: .relaxed) }

    private var isRunning: Bool { running.load(ordering: .relaxed) }

    private func thread(_ body: @escaping @Sendable () -> Void) {
        done.enter()
        Thread {
            defer { self.done.leave() }
            body()
        }.start()
    }

    /// One command, timed and recorded in the ledger; the answer, or nil when the connection failed.
    private func call(_ connection: ParleyConnection, _ spec: CommandSpec) -> CommandAnswer? {
        ledger.sending(spec)
        let started = DispatchTime.now().uptimeNanoseconds
        let answer = connection.sendBlocking(spec)
        if case .lost(let reason) = answer {
            problems.withLock { $0.append("a connection failed during \(spec.key): \(reason)") }
            return nil
        }
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e6
        latencies.withLock { $0.append(elapsed) }
        ledger.answered(spec.key, answer, retry: false)
        return answer
    }

    private func send(as agent: Int) {
        guard let connection = try? ParleyConnection.open(socketPath) else {
            problems.withLock { $0.append("agent \(agent) could not connect") }
            return
        }
        defer { connection.closeBlocking() }
        var sequence = 0
        while isRunning {
            let spec = Workload.command(client: agent, cycle: 0, sequence: sequence)
            sequence += 1
            guard let answer = call(connection, spec) else { return }
            // Every other send is submitted and reported sent, then delivered, as a carrier does.
            guard spec.method == "sms.send", sequence % 2 == 0,
                let messageId = answer.result?["messageId"]?.string
            else { continue }
            let reference = "soak-\(spec.key)"
            let carrier: [CommandSpec] = [
                CommandSpec(
                    key: "submit-" + spec.key, method: "carrier.submit",
                    params: [
                        "messageId": .string(messageId), "connector": "soak",
                        "idempotencyKey": .string("submit-" + spec.key),
                    ]),
                CommandSpec(
                    key: "sent-" + spec.key, method: "carrier.status",
                    params: [
                        "messageId": .string(messageId), "carrierReference": .string(reference), "status": "sent",
                        "idempotencyKey": .string("sent-" + spec.key),
                    ]),
                CommandSpec(
                    key: "dlr-" + spec.key, method: "carrier.status",
                    params: [
                        "carrierReference": .string(reference), "status": "delivered",
                        "idempotencyKey": .string("dlr-" + spec.key),
                    ]),
            ]
            for command in carrier {
                guard call(connection, command) != nil else { return }
            }
        }
    }

    /// Subscriptions that read a while, that stop reading and vanish, and clients that leave half a line.
    private func churnSubscriptions(seed: UInt64) {
        var generator = SplitMix64(seed: seed)
        while isRunning {
            switch generator.next() % 4 {
            case 0, 1:
                // Catches up on the last few hundred events, then reads live ones for a while.
                guard let connection = try? ParleyConnection.open(socketPath) else { continue }
                let head = connection.greeting["head"]?.uint64 ?? 0
                let count = Int(100 + generator.next() % 400)
                _ = try? Blocking.run { [self] in
                    // Reads until it has read `count` messages or the load stops, whichever is first
                    // (a quiet log must not keep the churner waiting once the soak ends).
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask {
                            var read = 0
                            for try await _ in try await connection.subscribe(after: head > 300 ? head - 300 : 0) {
                                if read == 0 { self.subscribed.add(1, ordering: .relaxed) }
                                read += 1
                                if read >= count { return }
                            }
                        }
                        group.addTask {
                            while self.isRunning { try await Task.sleep(for: .milliseconds(100)) }
                        }
                        try await group.next()
                        group.cancelAll()
                    }
                }
                connection.closeBlocking()
            case 2:
                // Subscribes, never reads, and vanishes.
                guard let raw = RawConnection(path: socketPath) else { continue }
                if raw.write(#"{"jsonrpc":"2.0","id":1,"method":"events.subscribe","params":{"after":0}}"# + "\n") {
                    subscribed.add(1, ordering: .relaxed)
                }
                usleep(UInt32(200_000 + generator.next() % 1_000_000))
                raw.close()
            default:
                // Half a request line, then gone.
                guard let raw = RawConnection(path: socketPath) else { continue }
                raw.write(#"{"jsonrpc":"2.0","id":7,"method":"log.he"#)
                usleep(UInt32(100_000 + generator.next() % 300_000))
                raw.close()
            }
        }
    }
}
