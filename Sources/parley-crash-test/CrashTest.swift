import ArgumentParser
import Foundation
import ParleyClient
import ParleyCore
import ParleyStore

#if canImport(Glibc)
    import Glibc
#endif

/// `parley-crash-test`: the kill loop (the default), its power-cut mode, and the damaged-files test.
@main
struct CrashTestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "parley-crash-test",
        abstract:
            "Crash tests of Parley's storage: kills and power cuts (the default subcommand), damaged files, a soak.",
        subcommands: [CrashTest.self, DamageTest.self, SoakTest.self],
        defaultSubcommand: CrashTest.self
    )
}

/// `parley-crash-test kills`: SIGKILLs a loaded `parleyd` at random moments and checks that nothing
/// acknowledged is lost or duplicated; then kills `parley projections rebuild` and `parley backup`.
struct CrashTest: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kills",
        abstract:
            "Kill parleyd (and the offline tools) at random moments under load; check that nothing acknowledged is lost or duplicated.",
        discussion: """
            Each round: start parleyd, retry every unanswered command with its idempotency key, \
            repeat a few answered ones (they must replay), run `parley audit verify`, resume the \
            subscriber from its last position, put load on it from several connections, SIGKILL it \
            after a random delay, then check the log directly: gapless chained positions, every \
            acknowledged command's events present exactly once, nothing refused recorded, nothing a \
            subscriber saw missing. Afterwards it kills `parley backup` (under load) and \
            `parley projections rebuild` mid-way and checks what they leave. Exit status 0 only when \
            every check passes; the last line is a summary of the figures.
            """
    )

    @Option(help: "SIGKILLs of the daemon.") var kills = 50
    @Option(help: "Load connections (one agent each).") var clients = 4
    @Option(help: "Kills of `parley backup` and of `parley projections rebuild`, each.") var toolKills = 5
    @Option(help: "Run `parley audit verify` after every Nth restart (and at the end).") var auditEvery = 1
    @Option(help: "Least milliseconds of load before a kill.") var minLoadMs = 20
    @Option(help: "Most milliseconds of load before a kill.") var maxLoadMs = 250
    @Option(help: "Random seed (printed; default from the clock).") var seed: UInt64?
    @OptionGroup var common: RunOptions
    @Option(
        help: ArgumentHelp(
            "Power-cut mode: the recorder library (libPowerCutShim.so) to load into parleyd; after each kill, crash states are checked.",
            valueName: "shim"))
    var powerCut: String?
    @Option(help: "Power-cut mode: crash states built and checked after each kill.") var statesPerKill = 4

    func run() throws {
        let started = Date()
        let seed = self.seed ?? UInt64(Date().timeIntervalSince1970 * 1000)
        var generator = SplitMix64(seed: seed)
        let work = try common.workDirectory()
        let data = work + "/data"
        let executables = common.executables
        print("crash-test: seed \(seed), \(kills) kills, \(clients) clients, work directory \(work)")

        let ledger = Ledger()
        let subscriber = ResumingSubscriber()
        let checker = LogChecker(directory: data)
        let daemon = Daemon(executables: executables, directory: data, logPath: work + "/parleyd.log")
        var findings: [String] = []
        var powerCut = self.powerCut.map {
            PowerCut(shim: $0, statesPerKill: statesPerKill, executables: executables, work: work, data: data)
        }
        var audits = 0
        var daemonKills = 0

        func audit(_ context: String) throws {
            audits += 1
            let status = try ToolKills(executables: executables, directory: data, generator: generator)
                .runParley(["audit", "verify", "--data", data])
            if status != 0 { findings.append("\(context): parley audit verify exited \(status)") }
        }

        /// Start, retry what is pending, repeat a few acknowledged commands.
        func restart(round: Int) throws {
            if let powerCut { daemon.environment = powerCut.recordingEnvironment() }
            let head = try daemon.start()
            if round > 0, head != checker.head.position {
                findings.append("round \(round): the daemon's head \(head) is not the log's \(checker.head.position)")
            }
            let connection = try ParleyConnection.open(daemon.socketPath)
            defer { connection.closeBlocking() }
            /// The daemon is not killed during a restart: a lost answer here is a failure.
            func send(_ spec: CommandSpec) throws -> CommandAnswer {
                let answer = connection.sendBlocking(spec)
                if case .lost(let reason) = answer {
                    throw CrashTestFailure("round \(round): \(spec.key) unanswered: \(reason)")
                }
                return answer
            }
            for spec in Workload.setup(clients: clients) {
                ledger.sending(spec)
                ledger.answered(spec.key, try send(spec), retry: false)
            }
            for spec in ledger.pendingSpecs() {
                ledger.answered(spec.key, try send(spec), retry: true)
            }
            for spec in ledger.ackedSample(3, using: &generator) {
                let answer = try send(spec)
                if answer.result?["replayed"]?.bool != true {
                    findings.append("round \(round): repeating acknowledged \(spec.key) did not replay: \(answer)")
                }
                ledger.state.withLock { $0.repeatChecks += 1 }
                ledger.answered(spec.key, answer, retry: true)
            }
        }

        /// The daemon is down: check the log.
        func check(_ context: String) throws {
            let lastSeen = subscriber.state.withLock { $0.lastSeen }
            findings += try checker.check(ledger, subscriberLastSeen: lastSeen).map { "\(context): \($0)" }
        }

        for round in 0..<kills {
            try restart(round: round)
            if round % max(1, auditEvery) == 0 { try audit("round \(round)") }
            subscriber.resume(socketPath: daemon.socketPath)
            let load = LoadClients(socketPath: daemon.socketPath, clients: clients, cycle: round, ledger: ledger)
            let wait = minLoadMs + Int(generator.next() % UInt64(max(1, maxLoadMs - minLoadMs + 1)))
            usleep(UInt32(wait * 1000))
            if daemon.kill() {
                daemonKills += 1
            } else {
                findings.append("round \(round): parleyd had exited before the kill")
            }
            load.wait()
            subscriber.wait()
            try check("after kill \(round + 1)")
            if powerCut != nil {
                let lastSeen = subscriber.state.withLock { $0.lastSeen }
                findings +=
                    try powerCut?.checkStates(
                        after: round + 1, ledger: ledger, subscriberLastSeen: lastSeen, generator: &generator) ?? []
            }
            if findings.count > 20 { break }
        }

        // Backups killed mid-way beside the daemon under load, then one more daemon kill.
        var tools = ToolKills(executables: executables, directory: data, generator: generator)
        var figures = ToolKills.Figures()
        try restart(round: kills)
        let load = LoadClients(socketPath: daemon.socketPath, clients: 1, cycle: kills, ledger: ledger)
        findings += try tools.backup(kills: toolKills, scratch: work, figures: &figures)
        if daemon.kill() { daemonKills += 1 }
        load.wait()
        try check("after the backup kills")

        // The end: retry the last pending commands, let the subscriber catch up, stop gracefully.
        try restart(round: kills + 1)
        subscriber.resume(socketPath: daemon.socketPath, untilCaughtUp: true)
        subscriber.wait()
        let stopStatus = daemon.stop()
        if stopStatus != 0 { findings.append("parleyd exited \(stopStatus) on SIGTERM") }
        try check("at the end")
        try audit("at the end")
        let sub = subscriber.state.withLock { $0 }
        findings += sub.findings
        if sub.lastSeen != checker.head.position {
            findings.append("the subscriber ended at \(sub.lastSeen), the log at \(checker.head.position)")
        }
        if sub.delivered != Int(checker.head.position) {
            findings.append("the subscriber got \(sub.delivered) events for \(checker.head.position) positions")
        }
        let ledgerState = ledger.state.withLock { $0 }
        findings += ledgerState.findings
        if !ledgerState.pending.isEmpty {
            findings.append("\(ledgerState.pending.count) commands still unanswered at the end")
        }

        // Rebuilds killed mid-way, the daemon stopped.
        findings += try tools.rebuild(kills: toolKills, figures: &figures)

        let totals = checker.totals(ledger)
        let seconds = Date().timeIntervalSince(started)
        for finding in findings.prefix(50) { print("FINDING  \(finding)") }
        print(
            "crash-test: \(findings.isEmpty ? "PASS" : "FAIL"): kills \(daemonKills), acknowledged commands \(totals.commands) "
                + "(events \(totals.events)), log \(checker.head.position) events, retries \(ledgerState.retries) "
                + "(replayed \(ledgerState.replayedRetries), repeats of acknowledged \(ledgerState.repeatChecks)), "
                + "subscriber \(sub.delivered) events over \(sub.resumes) resumes, audit verify \(audits) runs, "
                + "backup kills \(figures.backupKills) (absent \(figures.backupsAbsent), complete \(figures.backupsComplete)), "
                + "rebuild kills \(figures.rebuildKills), refused \(ledgerState.refused.count), "
                + "lost \(checker.lost.count), duplicated \(checker.duplicated.count), findings \(findings.count), "
                + String(format: "%.1f s, seed %llu", seconds, seed)
        )
        if let cut = powerCut?.figures {
            print(
                "power-cut: \(findings.isEmpty ? "PASS" : "FAIL"): crash states \(cut.states) after \(daemonKills) kills, "
                    + "pieces not yet durable \(cut.pendingPieces) (undone \(cut.revertedPieces)), files cut short \(cut.truncatedFiles), "
                    + "projections rebuilt at start \(cut.rebuiltAtStart), journals ending mid-record \(cut.tornJournalTails), "
                    + "lost \(checker.lost.count), findings \(findings.count)"
            )
        }
        try common.finish("crash-test", passed: findings.isEmpty, work: work, holding: "parleyd.log, data/")
    }

    /// A new directory with a short path (the socket path must fit in 108 bytes), mode 0700.
    static func temporaryDirectory() throws -> String {
        var template = Array("/tmp/pct-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { buffer -> String? in
            guard let base = buffer.baseAddress, mkdtemp(base) != nil else { return nil }
            return String(cString: base)
        }
        guard let made else { throw CrashTestFailure("cannot create a directory under /tmp: \(SystemError.reason())") }
        return made
    }
}
