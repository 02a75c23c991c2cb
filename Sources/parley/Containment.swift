import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Runs an offline tool's work in a child process, so that a damaged file cannot crash the tool.
///
/// LMDB trusts the structure of its files: a page pointer or a length an attacker (or a bad
/// disk) changed can make it read outside its map (SIGSEGV, SIGBUS). What can be checked cheaply
/// before LMDB reads is checked first (the meta pages' page size, a file shorter than its last
/// commit); the rest is contained. The `parley` the user started re-runs itself with the same
/// arguments as a child and waits: a normal exit passes its status through; a child that
/// crashed (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGABRT) becomes exit status 1 with a
/// sentence naming the files. The child dies with the parent: it watches a pipe only the
/// parent holds open.
enum Containment {
    /// In the child's environment: the descriptor of the pipe from the parent.
    private static let childVariable = "PARLEY_TOOL_PARENT_FD"
    /// The descriptor the pipe's read end gets in the child.
    private static let watchedDescriptor: Int32 = 3
    /// The signals that mean the reading process crashed, as opposed to being stopped.
    private static let crashes = [SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGABRT, SIGSYS]

    /// In the parent: runs the same command line as a child and exits with its outcome (never
    /// returns). In the child, or when no child can be started: returns at once.
    static func enter(_ tool: String) {
        if let variable = ProcessInfo.processInfo.environment[childVariable], let fd = Int32(variable) {
            watchParent(fd)
            return
        }
        guard let first = runChild([:]) else { return }  // cannot re-run: do the work here, uncontained
        guard case .crashed(let signal) = first else { exit(first.status) }
        // audit verify reads both files: run it again on the log alone to say which is damaged.
        if tool == "audit verify" {
            damaged(tool, signal, "projections.mdb (or log.mdb); checking the log without the projections:")
            guard let second = runChild([withoutProjectionsVariable: "1"]) else { exit(1) }
            guard case .crashed(let again) = second else {
                FileHandle.standardError.write(Data("parley: \(tool): projections.mdb is damaged; the log was read without it\n".utf8))
                exit(max(1, second.status))
            }
            damaged(tool, again, "log.mdb, read without the projections")
            exit(1)
        }
        damaged(tool, signal, "log.mdb or projections.mdb")
        exit(1)
    }

    /// Set in the environment of a second `audit verify` child: leave the projections out.
    static let withoutProjectionsVariable = "PARLEY_VERIFY_WITHOUT_PROJECTIONS"

    /// How a child ended.
    private enum End {
        case exited(Int32)
        case crashed(Int32)
        case stopped(Int32)

        /// The parent's exit status for it.
        var status: Int32 {
            switch self {
            case .exited(let status): status
            case .crashed: 1
            case .stopped(let signal): 128 + signal
            }
        }
    }

    /// Runs the child with `variables` added to its environment and waits for it; nil when it cannot start.
    private static func runChild(_ variables: [String: String]) -> End? {
        guard let pid = spawnChild(variables) else { return nil }
        // Passed on to the child, which then ends as it would have alone.
        let forwarded = [SIGTERM, SIGHUP, SIGINT].map { signal in
            let source = DispatchSource.makeSignalSource(signal: signal)
            source.setEventHandler { kill(pid, signal) }
            source.resume()
            return source
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        for source in forwarded { source.cancel() }
        let signal = status & 0x7F
        if signal == 0 { return .exited((status >> 8) & 0xFF) }
        return crashes.contains(signal) ? .crashed(signal) : .stopped(signal)
    }

    /// Says that reading `files` crashed the child with `signal`.
    private static func damaged(_ tool: String, _ signal: Int32, _ files: String) {
        let name = strsignal(signal).map { String(cString: $0) } ?? "signal \(signal)"
        FileHandle.standardError.write(Data("""
            parley: \(tool): the data directory is damaged: the process reading it crashed (\(name), signal \(signal)). \
            The damage is in the page structure of \(files), which LMDB does not check. \
            Keep a copy of the directory for inspection and restore from a backup.

            """.utf8))
    }

    /// Starts this executable again with the same arguments, the pipe's read end as descriptor 3.
    private static func spawnChild(_ variables: [String: String]) -> pid_t? {
        var pipeEnds: [Int32] = [0, 0]
        guard pipe(&pipeEnds) == 0 else { return nil }
        for end in pipeEnds { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        defer { close(pipeEnds[0]) }  // the write end stays open in this process until it ends
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, pipeEnds[0], watchedDescriptor)
        // Signals this process ignores (the shell's, or ours) are the defaults again in the child.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGTERM, SIGHUP, SIGINT] {
            sigaddset(&defaults, signal)
            Glibc.signal(signal, SIG_IGN)  // for the dispatch sources that pass them on
        }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF))
        let environment = ProcessInfo.processInfo.environment.merging(variables.merging([childVariable: String(watchedDescriptor)]) { $1 }) { $1 }
        let arguments = CommandLine.arguments.map { strdup($0) } + [nil]
        let variables = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in arguments { free(pointer) }
            for pointer in variables { free(pointer) }
        }
        var pid: pid_t = 0
        guard posix_spawn(&pid, "/proc/self/exe", &actions, &attributes, arguments, variables) == 0 else {
            for signal in [SIGTERM, SIGHUP, SIGINT] { Glibc.signal(signal, SIG_DFL) }
            return nil
        }
        return pid
    }

    /// In the child: ends the process when the parent's end of the pipe closes (the parent died).
    private static func watchParent(_ fd: Int32) {
        let thread = Thread {
            var byte: UInt8 = 0
            while read(fd, &byte, 1) < 0 && errno == EINTR {}
            _exit(137)
        }
        thread.start()
    }
}
