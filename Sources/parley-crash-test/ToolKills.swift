import Foundation
import ParleyCore
import ParleyStore

/// Kills the offline tools mid-way: `parley projections rebuild` (the daemon stopped) and
/// `parley backup` (beside a running daemon under load), and checks what they leave behind.
struct ToolKills {
    let executables: Executables
    let directory: String
    var generator: SplitMix64

    /// Outcome counts, for the summary.
    struct Figures {
        var rebuildKills = 0
        var backupKills = 0
        var backupsAbsent = 0
        var backupsComplete = 0
    }

    /// The projections as stored, entry by entry.
    static func projectionDump(_ directory: String) throws -> [[UInt8]] {
        let projections = try ProjectionDatabase(path: DataDirectory(directory).projections, readOnly: true, mapSize: 64 << 20)
        return try projections.dump().map { [$0.table.rawValue] + [UInt8(0xFF)] + $0.key + [UInt8(0xFF)] + $0.value }
    }

    /// The log's head, read directly.
    static func logHead(_ directory: String) throws -> LogHead {
        try EventLog(path: DataDirectory(directory).log, readOnly: true, mapSize: 64 << 20).head()
    }

    /// Runs `parley` to the end; returns the exit status (a signal counts as 128 + signal).
    func runParley(_ arguments: [String]) throws -> Int32 { try executables.runParley(arguments) }

    /// Runs `parley` and kills it after `delay` seconds (if still running); true when it was killed.
    func killParley(_ arguments: [String], after delay: Double) throws -> Bool {
        let child = try Child(executables.parley, arguments, logPath: nil)
        usleep(UInt32(delay * 1_000_000))
        return child.kill()
    }

    private mutating func delay(upTo seconds: Double) -> Double {
        Double(generator.next() % 1_000_001) / 1_000_000 * seconds
    }

    /// With the daemon stopped: the stored projections must equal a rebuild; a killed rebuild
    /// leaves log and projections as they were; a re-run succeeds.
    mutating func rebuild(kills: Int, figures: inout Figures) throws -> [String] {
        var findings: [String] = []
        let head = try Self.logHead(directory)
        let before = try Self.projectionDump(directory)
        let start = Date()
        let status = try runParley(["projections", "rebuild", "--data", directory])
        let duration = Date().timeIntervalSince(start)
        if status != 0 { findings.append("projections rebuild exited \(status)") }
        let rebuilt = try Self.projectionDump(directory)
        if rebuilt != before {
            findings.append("the live projections (\(before.count) entries) differ from a rebuild (\(rebuilt.count) entries)")
        }
        for kill in 0..<kills {
            let wait = delay(upTo: duration)
            let killed = try killParley(["projections", "rebuild", "--data", directory], after: wait)
            if killed { figures.rebuildKills += 1 }
            if try Self.logHead(directory) != head { findings.append("rebuild kill \(kill): the log changed") }
            if try Self.projectionDump(directory) != rebuilt {
                findings.append("rebuild kill \(kill) after \(String(format: "%.3f", wait)) s: the projections changed")
            }
        }
        if try runParley(["projections", "rebuild", "--data", directory]) != 0 { findings.append("a rebuild after the kills failed") }
        if try Self.projectionDump(directory) != rebuilt { findings.append("a rebuild after the kills gave other projections") }
        if try runParley(["audit", "verify", "--data", directory]) != 0 { findings.append("audit verify failed after the rebuild kills") }
        return findings
    }

    /// With the daemon running under load: a killed backup is absent or complete and verifying,
    /// the live data is untouched, and a re-run into the same place succeeds when the first did not finish.
    mutating func backup(kills: Int, scratch: String, figures: inout Figures) throws -> [String] {
        var findings: [String] = []
        let first = scratch + "/backup-full"
        let start = Date()
        if try runParley(["backup", "--data", directory, "--to", first]) != 0 { findings.append("a backup under load failed") }
        let duration = Date().timeIntervalSince(start)
        if try runParley(["audit", "verify", "--data", first]) != 0 { findings.append("a complete backup does not verify") }
        for kill in 0..<kills {
            let target = scratch + "/backup-\(kill)"
            let wait = delay(upTo: duration)
            let killed = try killParley(["backup", "--data", directory, "--to", target], after: wait)
            if killed { figures.backupKills += 1 }
            let complete = FileManager.default.fileExists(atPath: DataDirectory(target).log)
            if complete {
                figures.backupsComplete += 1
                let status = try runParley(["audit", "verify", "--data", target])
                if status != 0 {
                    findings.append("backup kill \(kill) after \(String(format: "%.3f", wait)) s: \(Engine.logFile) is there but audit verify exits \(status)")
                }
            } else {
                figures.backupsAbsent += 1
                let status = try runParley(["backup", "--data", directory, "--to", target])
                if status != 0 {
                    findings.append("backup kill \(kill) after \(String(format: "%.3f", wait)) s: a re-run into the same place exits \(status)")
                } else if try runParley(["audit", "verify", "--data", target]) != 0 {
                    findings.append("backup kill \(kill): the re-run's copy does not verify")
                }
            }
            try? FileManager.default.removeItem(atPath: target)
        }
        try? FileManager.default.removeItem(atPath: first)
        return findings
    }
}
