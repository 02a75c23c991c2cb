import Foundation
import ParleyClient

#if canImport(Glibc)
    import Glibc
#endif

/// Runs the tools under test as child processes.
struct Executables {
    /// The daemon.
    var parleyd: String
    /// The client and offline tool.
    var parley: String

    /// The executables beside this one (the same build folder), unless given.
    static func locate(parleyd: String?, parley: String?) -> Executables {
        let own = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
            .path
        return Executables(parleyd: parleyd ?? own + "/parleyd", parley: parley ?? own + "/parley")
    }
}

extension Executables {
    /// Runs `parley` to the end, its output appended to `output` (or dropped); returns the exit
    /// status, a signal counting as 128 + signal.
    func runParley(_ arguments: [String], output: String? = nil, environment: [String: String] = [:]) throws -> Int32 {
        let child = try Child(parley, arguments, logPath: output, environment: environment)
        let status = child.wait()
        return child.process.terminationReason == .uncaughtSignal ? 128 + status : status
    }
}

/// One child process, killed or stopped by the test.
final class Child {
    let process = Process()

    /// Starts `executable` with `arguments` and this process's environment plus `environment`;
    /// stdout and stderr go to `logPath` (appended).
    init(_ executable: String, _ arguments: [String], logPath: String?, environment: [String: String] = [:]) throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        if let logPath {
            if !FileManager.default.fileExists(atPath: logPath) {
                _ = FileManager.default.createFile(atPath: logPath, contents: nil)
            }
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
            handle.seekToEndOfFile()
            process.standardOutput = handle
            process.standardError = handle
        } else {
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
        }
        try process.run()
    }

    var pid: Int32 { process.processIdentifier }

    /// SIGKILL to the process and its children (an offline tool works in a child process), then
    /// waits until they are dead; true when the process died of the signal (not an earlier exit).
    @discardableResult
    func kill() -> Bool {
        let children = Self.children(of: pid)
        for child in children { Glibc.kill(child, SIGKILL) }
        Glibc.kill(pid, SIGKILL)
        process.waitUntilExit()
        // A killed child finishes at most the system call it is in; wait until it is gone.
        for child in children { while Self.isAlive(child) { usleep(1_000) } }
        return process.terminationReason == .uncaughtSignal
    }

    /// Waits for the end, at most `seconds`; nil when the process is still running then.
    func wait(atMost seconds: Double) -> Int32? {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning {
            if Date() > deadline { return nil }
            usleep(2_000)
        }
        return process.terminationReason == .uncaughtSignal
            ? 128 + process.terminationStatus : process.terminationStatus
    }

    /// The direct children of `pid`, from /proc.
    static func children(of pid: Int32) -> [Int32] {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8) else {
            return []
        }
        return text.split(separator: " ").compactMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    /// Whether `pid` exists and is not a zombie (a zombie runs no more code).
    static func isAlive(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return false }
        return !stat[close...].hasPrefix(") Z") && !stat[close...].hasPrefix(") X")
    }

    /// SIGTERM (a graceful stop), then waits; returns the exit status.
    func terminate() -> Int32 {
        Glibc.kill(pid, SIGTERM)
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// Waits for the end; returns the exit status (or the signal).
    func wait() -> Int32 {
        process.waitUntilExit()
        return process.terminationStatus
    }
}

/// `parleyd` on the test's data directory.
final class Daemon {
    let executables: Executables
    let directory: String
    let socketPath: String
    private var child: Child?

    let logPath: String
    /// Added to the daemon's environment at each start (the power-cut shim's settings).
    var environment: [String: String] = [:]

    init(executables: Executables, directory: String, logPath: String, environment: [String: String] = [:]) {
        self.executables = executables
        self.directory = directory
        self.logPath = logPath
        self.environment = environment
        socketPath = directory + "/d.sock"
    }

    /// Starts the daemon and waits until it answers; returns the head from its greeting.
    ///
    /// The subscriber reads as fast as it can, but a loaded machine may starve its thread:
    /// the slow-consumer cut-off (not what this test is about) is set far beyond that.
    func start() throws -> UInt64 {
        child = try Child(
            executables.parleyd,
            [
                "--data", directory, "--socket", socketPath, "--demo", "--log-level", "warning",
                "--slow-consumer-timeout", "600",
            ],
            logPath: logPath, environment: environment
        )
        let deadline = Date().addingTimeInterval(TimeInterval(Patience.seconds))
        while Date() < deadline {
            if let child, !child.process.isRunning {
                throw CrashTestFailure(
                    "parleyd exited with status \(child.process.terminationStatus) at start; see \(logPath)")
            }
            if let client = try? ParleyConnection.open(socketPath) {
                client.closeBlocking()
                return client.greeting["head"]?.uint64 ?? 0
            }
            usleep(5_000)
        }
        throw CrashTestFailure("parleyd did not answer within \(Patience.seconds) s; see \(logPath)")
    }

    /// The running daemon's process id.
    var pid: Int32? { child?.pid }

    /// SIGKILL; true when it was running until the signal.
    func kill() -> Bool {
        defer { child = nil }
        return child?.kill() ?? false
    }

    /// A graceful stop (SIGTERM); returns the exit status.
    func stop() -> Int32 {
        defer { child = nil }
        return child?.terminate() ?? 0
    }
}

/// A failed check or an unusable setup.
struct CrashTestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
