import ArgumentParser
import Foundation
import ParleyCore

import ParleyStore

/// `parley log …`
struct LogCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log", abstract: "Read the event log directly from a data directory.", subcommands: [Dump.self]
    )

    /// `parley log dump`
    struct Dump: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the log as JSON lines, one event per line with its chain hash.",
            discussion: """
                Each line is a recorded event as schemas/envelope.schema.json describes it, with
                "hash" and "prevHash". Opens the log read-only, so it runs beside the daemon.
                Exit status: 0, 1 when the data directory is damaged (the message says where), 2 when it cannot be read.
                Example: parley log dump --data ./data --after 100 --until 200
                """
        )
        @Option(name: .long, help: ArgumentHelp("The data directory.", valueName: "dir")) var data = "./data"
        @Option(help: "Print events after this position (exclusive).") var after: UInt64 = 0
        @Option(help: "Print events up to this position (inclusive).") var until: UInt64 = .max

        func run() throws {
            try runTool {
                let log = try EventLog(path: DataDirectory(data).log, readOnly: true, mapSize: 64 << 20)
                let json = EventJSON()
                let output = FileHandle.standardOutput
                var buffer: [UInt8] = []
                // Each line written straight from the stored bytes, as log.read writes them.
                try log.scan(after: after, until: until) { position, value in
                    try json.append(storedValue: value, at: position, chain: true, to: &buffer)
                    buffer.append(UInt8(ascii: "\n"))
                    if buffer.count > 1 << 16 {
                        output.write(Data(buffer))
                        buffer.removeAll(keepingCapacity: true)
                    }
                }
                output.write(Data(buffer))
            }
        }
    }
}

/// `parley audit …`
struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit", abstract: "Verify and replay the log without trusting the daemon.", subcommands: [Verify.self, Replay.self]
    )

    /// `parley audit verify`
    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check the hash chain, positions, idempotency index, events and projections against a rebuild.",
            discussion: """
                Recomputes the SHA-256 chain from the first event; checks gapless positions and
                stream versions, every event's values (the constraints of schemas/events/), the
                domain's invariants over the whole history (no message in an ended conversation, no
                status going backwards, no Recent horizon going backwards …), the idempotency
                index, and rebuilds every projection into a scratch store to compare
                with the stored one at its checkpoint. Runs beside the daemon (read-only).

                The chain and the values are checked over the whole log, past any damage, and each
                damaged position is one finding. The replay (invariants, projections) builds on every
                event before, so it stops at the first damaged event; the output says where, and
                whether the projections could be compared. The idempotency index is checked only when
                nothing is damaged.

                Prints the events read, the head, the range of each check, what was not checked and
                why, and each finding with its position.

                --head N:HASH also checks that an earlier recorded head is still in the log (a
                truncated tail is otherwise indistinguishable from a shorter log).

                Exit status: 0 verified, 1 something was found (or the files are too damaged to read), 2 usage or I/O error.
                """
        )
        @OptionGroup var options: DataOptions
        @Option(help: ArgumentHelp("A head recorded earlier, as POSITION:HASH.", valueName: "position:hash"))
        var head: String?

        func run() throws {
            var report: Auditor.Report?
            let started = ContinuousClock.now
            try runTool {
                var expected: LogHead?
                if let head {
                    let parts = head.split(separator: ":")
                    guard parts.count == 2, let position = UInt64(parts[0]), let hash = ChainHash(hex: String(parts[1])) else {
                        throw ToolFailure("--head must be POSITION:HASH with a 64-digit hex hash")
                    }
                    expected = LogHead(position: position, hash: hash)
                }
                let log = try EventLog(path: DataDirectory(options.data).log, readOnly: true, mapSize: 64 << 20)
                let projectionsPath = DataDirectory(options.data).projections
                var projections: ProjectionDatabase?
                // Set by the parent when reading the projections crashed the first child (see Containment).
                let crashed = ProcessInfo.processInfo.environment[Containment.withoutProjectionsVariable] != nil
                let distrust = crashed
                    ? "reading them crashed the process that read them: projections.mdb is damaged"
                    : UnsyncedMarker.distrust(of: DataDirectory(options.data))
                do {
                    projections = distrust == nil && FileManager.default.fileExists(atPath: projectionsPath)
                        ? try ProjectionDatabase(path: projectionsPath, readOnly: true, mapSize: 64 << 20) : nil
                } catch StoreError.incompatibleFormat(let found) {
                    // Written by another version: the daemon rebuilds them at its next start.
                    FileHandle.standardError.write(Data(
                        "parley: \(projectionsPath) is in format \(found), not \(ProjectionDatabase.format): checking the log without it\n".utf8
                    ))
                }
                let progress = ProgressLine("verify", total: try log.lastStoredPosition())
                report = try Auditor(log: log, projections: projections, projectionsLeftOut: distrust).verify(expectedHead: expected, progress: progress.update)
                progress.finish()
            }
            guard let report else { throw ExitCode(2) }
            let elapsed = ContinuousClock.now - started
            if options.json {
                try printJSON(report)
            } else {
                func range(_ from: UInt64, _ through: UInt64) -> String { through < from ? "none" : "positions \(from)…\(through)" }
                print("events:      \(report.events)")
                print("head:        \(report.headPosition) \(report.headHash)")
                print("chain:       \(range(report.chainCheckedFrom, report.chainCheckedThrough)) (hashes, prevHash links, gapless positions, stream versions)")
                print("values:      \(report.valuesChecked) events (every event that decodes)")
                print("replay:      \(range(1, report.replayedThrough)) (domain invariants, projections)\(report.replayStoppedAt.map { "; stopped at \($0)" } ?? "")")
                print("projections: \(report.projectionsCheckedAt.map { "compared at \($0)" } ?? "not compared")")
                print("indexes:     \(report.indexesChecked ? "checked" : "not checked")")
                print("time:        \(String(format: "%.2f", elapsed.seconds)) s (\(elapsed.rate(report.events)) events/s)")
                for note in report.notes { print("NOTE     \(note)") }
                for finding in report.findings { print("FINDING  \(finding)") }
                if report.findingsLeftOff > 0 { print("… and \(report.findingsLeftOff) more finding(s) not listed") }
                print(report.ok ? "verified" : "\(report.findings.count + report.findingsLeftOff) finding(s)")
            }
            if !report.ok { throw ExitCode(1) }
        }
    }

    /// `parley audit replay`
    struct Replay: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show the projections as they were at a position: what an agent saw then.",
            discussion: """
                Replays the log up to --until into memory and prints, as JSON, the agent's view and
                Recent list (--agent), a conversation with its transcript (--conversation), or the
                directory (neither). Read-only; runs beside the daemon.
                Example: parley audit replay --data ./data --until 120 --agent alice
                """
        )
        @OptionGroup var options: DataOptions
        @Option(help: "Replay up to this position (inclusive).") var until: UInt64
        @Option(help: "Show this agent's view and Recent list.") var agent: String?
        @Option(help: "Show this conversation and its transcript.") var conversation: String?

        func validate() throws {
            if agent != nil && conversation != nil { throw ValidationError("give --agent or --conversation, not both") }
        }

        func run() throws {
            try runTool {
                let log = try EventLog(path: DataDirectory(options.data).log, readOnly: true, mapSize: 64 << 20)
                let memory = MemoryProjections()
                let projector = Projector(store: memory)
                try log.scan(until: until) { _, value in try projector.apply(try StoredEvent(decoding: value).recorded) }
                if let agent {
                    guard let view = try memory.agentView(agent) else { throw ToolFailure("there was no agent \"\(agent)\" at position \(until)") }
                    try printJSON(ReplayAgent(asOf: until, view: view, recent: try memory.recent(agent).map { RecentEntry(position: $0.position, message: $0.message) }))
                } else if let conversation {
                    guard let record = try memory.conversation(conversation) else {
                        throw ToolFailure("there was no conversation \"\(conversation)\" at position \(until)")
                    }
                    try printJSON(ReplayConversation(asOf: until, conversation: record, messages: try memory.transcript(conversation)))
                } else {
                    try printJSON(ReplayDirectory(asOf: until, agents: try memory.agents(), services: try memory.services(), templates: try memory.templates()))
                }
            }
        }

        struct RecentEntry: Encodable { var position: UInt64; var message: MessageRecord }
        struct ReplayAgent: Encodable { var asOf: UInt64; var view: AgentView; var recent: [RecentEntry] }
        struct ReplayConversation: Encodable { var asOf: UInt64; var conversation: ConversationRecord; var messages: [MessageRecord] }
        struct ReplayDirectory: Encodable {
            var asOf: UInt64
            var agents: [AgentRecord]
            var services: [ServiceConfigured]
            var templates: [TemplateConfigured]
        }
    }
}

/// `parley projections …`
struct ProjectionsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "projections", abstract: "Maintain the projections derived from the log.", subcommands: [Rebuild.self]
    )

    /// `parley projections rebuild`
    struct Rebuild: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Build fresh projections from the log and swap them in atomically.",
            discussion: """
                Refuses while a daemon holds the data directory. Builds into projections.mdb.rebuild
                and renames it over projections.mdb only when complete, so an interrupted rebuild
                leaves the old projections in place. The log is opened read-only.
                Exit status: 0 rebuilt, 1 the log is damaged (run audit verify), 2 refused or failed.
                """
        )
        @OptionGroup var options: DataOptions

        func run() throws {
            try runTool {
                guard !DirectoryLock.isHeld(directory: options.data) else {
                    throw ToolFailure("a parleyd holds \(options.data); stop it first (the daemon catches its projections up by itself)")
                }
                let started = ContinuousClock.now
                var progress: ProgressLine?
                let applied = try Rebuilder.rebuild(directory: options.data) { done, total in
                    if progress == nil { progress = ProgressLine("rebuild", total: total) }
                    progress?.update(done)
                }
                progress?.finish()
                let elapsed = ContinuousClock.now - started
                if options.json {
                    try printJSON(["events": applied, "eventsPerSecond": elapsed.rate(applied)])
                } else {
                    print("rebuilt projections from \(applied) events in \(String(format: "%.2f", elapsed.seconds)) s (\(elapsed.rate(applied)) events/s)")
                }
            }
        }
    }
}

/// `parley backup`
struct BackupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Copy a data directory consistently (compacted), even while the daemon runs.",
        discussion: """
            Writes PATH/log.mdb and PATH/projections.mdb with mdb_env_copy2 (compacting): each a
            consistent snapshot, the projections taken first so the copy's log is never behind
            them. PATH can be opened as a data directory. Refuses to overwrite an existing copy.
            Exit status: 0, 1 when the data directory is damaged, 2 on other failures.
            """
    )
    @OptionGroup var options: DataOptions
    @Option(help: ArgumentHelp("The directory to write the copy into.", valueName: "path")) var to: String

    func run() throws {
        try runTool {
            let head = try Backup.copy(directory: options.data, to: to)
            if options.json {
                try printJSON(["position": "\(head.position)", "hash": head.hash.hex, "path": to])
            } else {
                print("backed up \(options.data) to \(to) at position \(head.position) (\(head.hash.hex))")
            }
        }
    }
}

/// `parley stats`
struct StatsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Events by type, streams, sizes, map use and readers of a data directory (read-only)."
    )
    @OptionGroup var options: DataOptions

    func run() throws {
        try runTool {
            let stats = try LogStatistics.of(directory: options.data)
            if options.json {
                try printJSON(stats)
                return
            }
            print("events:       \(stats.events) (head \(stats.headPosition), projections at \(stats.projectionsCheckpoint.map(String.init) ?? "none"))")
            print("streams:      \(stats.streams)")
            for (type, count) in stats.eventsByType.sorted(by: { $0.key < $1.key }) { print("  \(type): \(count)") }
            print("log file:     \(stats.logFileBytes) bytes; map \(stats.logMapUsedBytes) of \(stats.logMapSizeBytes) bytes used")
            print("projections:  \(stats.projectionsFileBytes) bytes")
            print("readers:      \(stats.logReaders) in use, at most \(stats.logReaderSlotsUsed) at once so far")
        }
    }
}
