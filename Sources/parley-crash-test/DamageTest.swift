import ArgumentParser
import Foundation
import ParleyClient
import ParleyCore
import ParleyStore

#if canImport(Glibc)
    import Glibc
#endif

/// `parley-crash-test damage` (`tools/damage`): damaged files never crash anything.
///
/// Builds a data directory under load, then mutates copies of `log.mdb` or `projections.mdb`
/// (bits flipped, bytes or whole pages zeroed or overwritten, a page copied over another, the
/// file cut short, the meta pages hit) and runs every offline tool on each copy: each must work
/// or exit 1 naming the damage, never die of a signal, never hang. `audit verify` is given the
/// head recorded before the damage, so "verified" means every event up to it is there, chained.
/// `parleyd` is started on each copy too and how it ends is counted: it makes bounded checks
/// at open, so deeper damage may stop it (the documented limit); that is reported, not failed.
struct DamageTest: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "damage",
        abstract:
            "Mutate copies of log.mdb and projections.mdb; the offline tools must work or exit 1, never crash or hang.",
        discussion: """
            Exit status 0 only when no offline tool died of a signal, hung, or exited with another \
            status on any mutated file; the last lines count how each tool and parleyd ended.
            """
    )

    @Option(help: "Mutated files to try.") var files = 100
    @Option(help: "Commands in the data directory the files are mutated from.") var commands = 600
    @Option(help: "Random seed (printed; default from the clock).") var seed: UInt64?
    @OptionGroup var common: RunOptions
    @Option(
        help: "Seconds a tool may run on one file before it counts as hung: a hang detector, far beyond any real run.")
    var patience = 300.0

    func run() throws {
        let started = Date()
        let seed = self.seed ?? UInt64(Date().timeIntervalSince1970 * 1000)
        var generator = SplitMix64(seed: seed)
        let work = try common.workDirectory()
        let executables = common.executables
        print("damage: seed \(seed), \(files) files, work directory \(work)")
        let source = work + "/source"
        let head = try Self.seed(source, commands: commands, executables: executables, work: work)
        let sourceHead = try ToolKills.logHead(source)
        guard sourceHead.position == head else {
            throw CrashTestFailure("the source log's head \(sourceHead.position) is not the daemon's \(head)")
        }

        var tally = Tally()
        var findings: [String] = []
        var kept = (findings: 0, daemonCrashes: 0)
        for index in 0..<files {
            let target = generator.next() % 5 < 3 ? Engine.logFile : Engine.projectionsFile
            let mutation = Mutation.allCases[Int(generator.next() % UInt64(Mutation.allCases.count))]
            let copy = work + "/file"
            try? FileManager.default.removeItem(atPath: copy)
            try Self.copyData(from: source, to: copy)
            let what = try mutation.apply(to: copy + "/" + target, using: &generator)
            let context = "file \(index + 1) (\(target): \(what))"
            tally.files[target, default: 0] += 1
            let before = findings.count
            for tool in Tool.allCases {
                let outcome = try tool.run(
                    on: copy, head: sourceHead, executables: executables, work: work, patience: patience)
                tally.count(tool.name, outcome)
                if !outcome.isAcceptable { findings.append("\(context): \(tool.name) \(outcome)") }
            }
            // The daemon on its own copy: the directory stays as the tools saw it.
            let daemonCopy = work + "/daemon"
            try? FileManager.default.removeItem(atPath: daemonCopy)
            try Self.copyData(from: copy, to: daemonCopy)
            let daemon = try Self.startDaemon(on: daemonCopy, executables: executables, work: work, patience: patience)
            tally.count("parleyd", daemon)
            if case .signal = daemon, kept.daemonCrashes < 5 {
                kept.daemonCrashes += 1
                let keep = work + "/parleyd-crash-\(index + 1)"
                try Self.copyData(from: copy, to: keep)
                try? FileManager.default.moveItem(atPath: work + "/parleyd.log", toPath: keep + "/parleyd.log")
            }
            if findings.count > before, kept.findings < 5 {
                kept.findings += 1
                try? FileManager.default.moveItem(atPath: copy, toPath: work + "/finding-\(index + 1)")
                findings.append("\(context): the file is kept in \(work)/finding-\(index + 1)")
            }
            if findings.count > 40 { break }
            if (index + 1) % 100 == 0 {
                print(
                    "damage: \(index + 1) files, findings \(findings.count), \(String(format: "%.0f s", Date().timeIntervalSince(started)))"
                )
                tally.print()
                fflush(nil)
            }
        }

        for finding in findings.prefix(50) { print("FINDING  \(finding)") }
        tally.print()
        let byFile = tally.files.sorted(by: { $0.key < $1.key }).map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        print(
            "damage: \(findings.isEmpty ? "PASS" : "FAIL"): mutated files \(tally.files.values.reduce(0, +)) (\(byFile)), "
                + "tool runs \(tally.outcomes.filter { $0.key != "parleyd" }.values.flatMap(\.values).reduce(0, +)), "
                + "findings \(findings.count), "
                + String(format: "%.1f s, seed %llu", Date().timeIntervalSince(started), seed)
        )
        try common.finish("damage", passed: findings.isEmpty, work: work)
    }

    /// How each tool ended, by tool.
    struct Tally {
        var outcomes: [String: [String: Int]] = [:]
        var files: [String: Int] = [:]
        mutating func count(_ tool: String, _ outcome: Outcome) {
            outcomes[tool, default: [:]][outcome.label, default: 0] += 1
        }

        /// One line per tool: how its runs ended.
        func print() {
            for (tool, ends) in outcomes.sorted(by: { $0.key < $1.key }) {
                let counts = ends.sorted(by: { $0.key < $1.key }).map { "\($0.key) \($0.value)" }.joined(
                    separator: ", ")
                Swift.print("damage: \(tool): \(counts)")
            }
        }
    }

    /// How one run ended.
    enum Outcome: CustomStringConvertible {
        case worked
        case damageReported
        case exited(Int32, String)
        case signal(Int32)
        case hung
        case refused
        case served(stopStatus: Int32)

        var label: String {
            switch self {
            case .worked: "worked"
            case .damageReported: "exit 1 (damage named)"
            case .exited(let status, _): "exit \(status)"
            case .signal(let signal): "signal \(signal)"
            case .hung: "hung"
            case .refused: "refused at open"
            case .served(let status): status == 0 ? "served, stopped cleanly" : "served, stop exit \(status)"
            }
        }

        var description: String {
            switch self {
            case .exited(let status, let output): "exited \(status): \(output.suffix(300))"
            default: label
            }
        }

        /// An offline tool's acceptable ends: it worked, or it said what is damaged.
        var isAcceptable: Bool {
            switch self {
            case .worked, .damageReported: true
            default: false
            }
        }
    }

    /// The offline tools, each run on the mutated directory (the writing ones on a copy).
    enum Tool: CaseIterable {
        case verify, stats, dump, replay, backup, rebuild

        var name: String {
            switch self {
            case .verify: "audit verify"
            case .stats: "stats"
            case .dump: "log dump"
            case .replay: "audit replay"
            case .backup: "backup"
            case .rebuild: "projections rebuild"
            }
        }

        func run(on directory: String, head: LogHead, executables: Executables, work: String, patience: Double) throws
            -> Outcome
        {
            var data = directory
            var arguments: [String]
            switch self {
            case .verify: arguments = ["audit", "verify", "--head", "\(head.position):\(head.hash.hex)"]
            case .stats: arguments = ["stats"]
            case .dump: arguments = ["log", "dump"]
            case .replay: arguments = ["audit", "replay", "--until", "\(head.position)"]
            case .backup:
                try? FileManager.default.removeItem(atPath: work + "/backup")
                arguments = ["backup", "--to", work + "/backup"]
            case .rebuild:
                data = work + "/rebuild"
                try? FileManager.default.removeItem(atPath: data)
                try DamageTest.copyData(from: directory, to: data)
                arguments = ["projections", "rebuild"]
            }
            let output = work + "/tool.out"
            unlink(output)
            let child = try Child(executables.parley, arguments + ["--data", data], logPath: output)
            guard let status = child.wait(atMost: patience) else {
                child.kill()
                return .hung
            }
            let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
            switch status {
            case 0: return .worked
            // Exit 1 must say what: audit verify lists findings, the others say "damaged".
            case 1 where text.contains("FINDING") || text.contains("damaged"): return .damageReported
            case 128...: return .signal(status - 128)
            default: return .exited(status, text)
            }
        }
    }

    /// Ways to damage a file.
    enum Mutation: CaseIterable {
        case flipBits, zeroBytes, zeroPage, randomPage, copyPage, truncate, metaBits

        /// Damages the file at `path`; returns what was done.
        func apply(to path: String, using generator: inout SplitMix64) throws -> String {
            guard var bytes = FileManager.default.contents(atPath: path).map({ [UInt8]($0) }), !bytes.isEmpty else {
                throw CrashTestFailure("cannot read \(path)")
            }
            func random(_ bound: Int) -> Int { Int(generator.next() % UInt64(max(1, bound))) }
            let page = 4096
            let pages = max(1, bytes.count / page)
            let what: String
            switch self {
            case .flipBits:
                let count = 1 + random(8)
                for _ in 0..<count { bytes[random(bytes.count)] ^= UInt8(1 << random(8)) }
                what = "\(count) bits flipped"
            case .zeroBytes:
                let start = random(bytes.count)
                let end = min(bytes.count, start + 1 + random(256))
                for i in start..<end { bytes[i] = 0 }
                what = "bytes \(start)..<\(end) zeroed"
            case .zeroPage:
                let number = random(pages)
                for i in number * page..<min(bytes.count, (number + 1) * page) { bytes[i] = 0 }
                what = "page \(number) zeroed"
            case .randomPage:
                let number = random(pages)
                for i in number * page..<min(bytes.count, (number + 1) * page) {
                    bytes[i] = UInt8(truncatingIfNeeded: generator.next())
                }
                what = "page \(number) random"
            case .copyPage:
                let from = random(pages)
                let to = random(pages)
                guard (to + 1) * page <= bytes.count, (from + 1) * page <= bytes.count else {
                    return "nothing (one page)"
                }
                bytes.replaceSubrange(to * page..<(to + 1) * page, with: bytes[from * page..<(from + 1) * page])
                what = "page \(from) copied over page \(to)"
            case .truncate:
                let length = generator.next() % 2 == 0 ? random(pages) * page : random(bytes.count)
                bytes.removeSubrange(length...)
                what = "cut to \(length) bytes"
            case .metaBits:
                let count = 1 + random(4)
                // The meta pages' fields: page size, root pages, last page, transaction id.
                for _ in 0..<count {
                    bytes[min(bytes.count - 1, random(2) * page + 16 + random(144))] ^= UInt8(1 << random(8))
                }
                what = "\(count) bits of the meta pages flipped"
            }
            guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else {
                throw CrashTestFailure("cannot write \(path)")
            }
            return what
        }
    }

    /// Starts `parleyd` on the directory; how it ended: served (then stopped), refused, crashed, hung.
    static func startDaemon(on directory: String, executables: Executables, work: String, patience: Double) throws
        -> Outcome
    {
        let socket = directory + "/d.sock"
        let log = work + "/parleyd.log"
        unlink(log)
        let child = try Child(
            executables.parleyd, ["--data", directory, "--socket", socket, "--log-level", "warning"], logPath: log)
        let deadline = Date().addingTimeInterval(patience)
        while Date() < deadline {
            if !child.process.isRunning {
                let status = child.wait()
                return child.process.terminationReason == .uncaughtSignal ? .signal(status) : .refused
            }
            if let client = try? ParleyConnection.open(socket) {
                client.closeBlocking()
                return .served(stopStatus: child.terminate())
            }
            usleep(5_000)
        }
        child.kill()
        return .hung
    }

    /// The data directory the files are mutated from: the demo directory and `commands` commands.
    static func seed(_ directory: String, commands: Int, executables: Executables, work: String) throws -> UInt64 {
        let daemon = Daemon(executables: executables, directory: directory, logPath: work + "/source-parleyd.log")
        try FileManager.default.createDirectory(
            atPath: directory, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        _ = try daemon.start()
        let connection = try ParleyConnection.open(daemon.socketPath)
        defer { connection.closeBlocking() }
        let specs =
            Workload.setup(clients: 2)
            + (0..<commands).map { Workload.command(client: $0 % 2, cycle: 0, sequence: $0) }
        for spec in specs {
            if case .lost(let reason) = connection.sendBlocking(spec) {
                throw CrashTestFailure("the source daemon did not answer \(spec.key): \(reason)")
            }
        }
        let head = try Blocking.run { try await connection.call("log.head", timeout: Patience.duration) }["position"]?
            .uint64
        let stopped = daemon.stop()
        guard stopped == 0 else { throw CrashTestFailure("the source daemon exited \(stopped) on SIGTERM") }
        return head ?? 0
    }

    /// Copies the data files (no lock files, marker or socket) into the new directory `target`.
    static func copyData(from source: String, to target: String) throws {
        try FileManager.default.createDirectory(
            atPath: target, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        for name in [Engine.logFile, Engine.projectionsFile]
        where FileManager.default.fileExists(atPath: source + "/" + name) {
            try FileManager.default.copyItem(atPath: source + "/" + name, toPath: target + "/" + name)
        }
    }
}
