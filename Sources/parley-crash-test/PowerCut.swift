import Foundation
import ParleyCore
import ParleyStore

/// The power-cut mode of the crash test (`tools/power-cut`): the daemon runs with the shim
/// loaded, and after each kill several crash states a power cut could have left are built from
/// its journal and checked, each on its own copy of the data directory.
///
/// Each state: `parley audit verify` must pass on the log (it does not trust projections the
/// marker says a system crash may have torn), every acknowledged command must be there exactly
/// once with gapless chained positions, a daemon started on it (believing the machine rebooted)
/// must come up at the log's head and stop cleanly, and `parley audit verify` must then pass
/// with the rebuilt projections compared.
struct PowerCut {
    let shim: String
    let statesPerKill: Int
    let executables: Executables
    let work: String
    let data: String

    /// Totals for the summary.
    struct Figures {
        var states = 0
        var pendingPieces = 0
        var revertedPieces = 0
        var truncatedFiles = 0
        var tornJournalTails = 0
        var rebuiltAtStart = 0
    }
    private(set) var figures = Figures()
    private var kept = 0

    init(shim: String, statesPerKill: Int, executables: Executables, work: String, data: String) {
        self.shim = shim
        self.statesPerKill = statesPerKill
        self.executables = executables
        self.work = work
        self.data = data
    }

    private var journalPath: String { work + "/power-cut.journal" }

    /// The environment of the daemon under test: the shim recording into a fresh journal.
    func recordingEnvironment() -> [String: String] {
        unlink(journalPath)
        mkdir(data, 0o700)  // the shim resolves the directory's real path when the daemon starts
        return ["LD_PRELOAD": shim, "POWERCUT_DIR": data, "POWERCUT_JOURNAL": journalPath]
    }

    /// After a kill: builds and checks `statesPerKill` crash states; returns the findings.
    mutating func checkStates(
        after kill: Int, ledger: Ledger, subscriberLastSeen: UInt64, generator: inout SplitMix64
    ) throws -> [String] {
        let journal = try PowerCutJournal(path: journalPath)
        if journal.tornTail { figures.tornJournalTails += 1 }
        if journal.mappedWritable {
            return ["kill \(kill): a data file was mapped writable; writes through a map are not recorded, so no state is checked"]
        }
        var findings: [String] = []
        for index in 0..<statesPerKill {
            let context = "kill \(kill), state \(index + 1)"
            let state = work + "/state"
            try? FileManager.default.removeItem(atPath: state)
            try copyRegularFiles(from: data, to: state)
            let made = try journal.makeCrashState(in: state, using: &generator)
            figures.states += 1
            figures.pendingPieces += made.pendingPieces
            figures.revertedPieces += made.revertedPieces
            figures.truncatedFiles += made.truncatedFiles
            let found = try check(state, ledger: ledger, subscriberLastSeen: subscriberLastSeen, generator: &generator)
            findings += found.map { "\(context) (\(made.revertedPieces) of \(made.pendingPieces) pieces undone): \($0)" }
            if !found.isEmpty, kept < 5 {
                kept += 1
                let keep = work + "/finding-\(kill)-\(index + 1)"
                try? FileManager.default.moveItem(atPath: state, toPath: keep)
                findings.append("\(context): the state is kept in \(keep)")
            }
        }
        return findings
    }

    private mutating func check(
        _ state: String, ledger: Ledger, subscriberLastSeen: UInt64, generator: inout SplitMix64
    ) throws -> [String] {
        let output = work + "/state-tools.log"
        // Every process opening the state believes the machine rebooted, as after a real power cut.
        let rebooted = ["LD_PRELOAD": shim, "POWERCUT_BOOT_ID": String(format: "%016llx", generator.next())]
        let audit = try executables.runParley(["audit", "verify", "--data", state], output: output, environment: rebooted)
        if audit != 0 { return ["parley audit verify exited \(audit) before the daemon opened the state; see \(output)"] }
        var findings = try LogChecker(directory: state).check(ledger, subscriberLastSeen: subscriberLastSeen)
        let head = try ToolKills.logHead(state)
        let marker = UnsyncedMarker.state(of: DataDirectory(state))
        let daemon = Daemon(
            executables: executables, directory: state, logPath: work + "/state-parleyd.log",
            environment: rebooted
        )
        do {
            let greeted = try daemon.start()
            if greeted != head.position { findings.append("the daemon greeted with head \(greeted), the log's is \(head.position)") }
        } catch {
            return findings + ["the daemon did not start on the state: \(error)"]
        }
        if marker != .clean { figures.rebuiltAtStart += 1 }
        let stopped = daemon.stop()
        if stopped != 0 { findings.append("parleyd exited \(stopped) on SIGTERM") }
        if UnsyncedMarker.state(of: DataDirectory(state)) != .clean {
            findings.append("the unsynced-projections marker is still there after a clean stop")
        }
        let after = try executables.runParley(["audit", "verify", "--data", state], output: output, environment: rebooted)
        if after != 0 { findings.append("parley audit verify exited \(after) after the daemon rebuilt the projections; see \(output)") }
        return findings
    }

    /// Copies the regular files of `source` (not the socket) into the new directory `target`.
    private func copyRegularFiles(from source: String, to target: String) throws {
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        for name in try FileManager.default.contentsOfDirectory(atPath: source) {
            var status = stat()
            guard lstat(source + "/" + name, &status) == 0, status.st_mode & S_IFMT == S_IFREG else { continue }
            try FileManager.default.copyItem(atPath: source + "/" + name, toPath: target + "/" + name)
        }
    }
}
