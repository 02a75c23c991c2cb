import ArgumentParser

/// `parley-bench`: the measuring half of `tools/bench`. Each subcommand measures one thing once
/// and prints one JSON object on stdout (progress on stderr); `tools/bench` repeats, takes
/// medians and prints the table.
@main
struct ParleyBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "parley-bench",
        abstract: "Measurements behind tools/bench (one JSON line per run on stdout).",
        subcommands: [Lmdb.self, Seed.self, Load.self, Fanout.self, Catchup.self, Coldstart.self]
    )
}

/// Options describing the seeded directory and the messages sent.
struct WorkloadOptions: ParsableArguments {
    @Option(help: "Agents seeded and sent for (b0 …).") var agents = 1000
    @Option(help: "Conversations (customers) per agent.") var conversations = 4
    @Option(help: "Characters of text per message.") var textLength = 120

    var workload: Workload {
        Workload(agents: max(1, agents), conversationsPerAgent: max(1, conversations), textLength: textLength)
    }
}

extension ParleyBench {
    struct Lmdb: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Raw LMDB appends (MDB_APPEND, durable commits, each timed) and a cursor scan.")
        @Option(help: "The data file to create (removed afterwards).") var path: String
        @Option(help: "Values to append.") var events = 1_000_000
        @Option(help: "Values per durable commit (1: the latency of one event's commit).") var batch = 256
        @Option(help: "Bytes per value.") var valueSize = 250
        @Flag(help: "Also time a cursor scan of every value.") var scan = false

        func run() throws {
            try RawLMDB(path: path, events: events, batch: max(1, batch), valueSize: valueSize, scan: scan).run()
        }
    }

    struct Seed: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Configure the bench service and agents and log them in.")
        @Option(help: "The daemon's socket.") var socket: String
        @OptionGroup var workload: WorkloadOptions

        func run() throws {
            try Seeder(socket: socket, workload: workload.workload).run()
        }
    }

    struct Load: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "sms.send from N connections, P in flight each: sends/s, ack latency, CPU per command.")
        @Option(help: "The daemon's socket.") var socket: String
        @Option(help: "Concurrent connections.") var connections = 16
        @Option(help: "Requests kept in flight on each connection (1: closed loop; at most \(Seeder.window)).")
        var pipeline = 1
        @Option(help: "Seconds before measuring.") var warmup = 1.0
        @Option(help: "Seconds measured.") var duration = 5.0
        @Option(help: "The daemon's pid, to read its CPU time from /proc over the measured window (0: not read).")
        var daemonPid: Int32 = 0
        @OptionGroup var workload: WorkloadOptions

        func validate() throws {
            // The daemon refuses more than 64 in flight and counts a request until its answer is
            // written, a moment after the client may have read it: stay at the seeder's margin.
            guard (1...Seeder.window).contains(pipeline) else {
                throw ValidationError("--pipeline must be 1 … \(Seeder.window)")
            }
            guard duration > 0, warmup >= 0 else {
                throw ValidationError("--duration must be positive, --warmup not negative")
            }
        }

        func run() throws {
            try LoadGenerator(
                socket: socket, workload: workload.workload, connections: max(1, connections),
                pipeline: pipeline, warmup: warmup, duration: duration, daemonPID: daemonPid
            ).run()
        }
    }

    struct Fanout: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Agent subscriptions while writers send at a fixed rate: delivery latency.")
        @Option(help: "The daemon's socket.") var socket: String
        @Option(help: "Subscriber connections (one agent subscription each).") var subscribers = 1000
        @Option(help: "Writer connections.") var writers = 16
        @Option(help: "Total sends per second.") var rate = 5000.0
        @Option(help: "Seconds before measuring.") var warmup = 1.0
        @Option(help: "Seconds measured.") var duration = 5.0
        @Option(help: "The daemon's pid, to read its RssAnon with every connection open.") var daemonPid: Int32 = 0
        @OptionGroup var workload: WorkloadOptions

        func run() throws {
            try FanOut(
                socket: socket, workload: workload.workload, subscribers: max(1, subscribers), writers: max(1, writers),
                rate: max(1, rate), warmup: warmup, duration: max(0.1, duration), daemonPID: daemonPid
            ).run()
        }
    }

    struct Catchup: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "One subscriber reading the whole log from position 0.")
        @Option(help: "The daemon's socket.") var socket: String

        func run() throws {
            try CatchUp(socket: socket).run()
        }
    }

    struct Coldstart: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Start parleyd, time start → first answer, read RssAnon, stop it.")
        @Option(help: "The parleyd executable.") var parleyd: String
        @Option(help: "The data directory.") var data: String
        @Option(help: "The socket path to use.") var socket: String

        func run() throws {
            try ColdStart(parleyd: parleyd, data: data, socket: socket).run()
        }
    }
}
