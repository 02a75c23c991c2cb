import ArgumentParser
import Foundation

/// The options every subcommand shares: the executables under test and the work directory.
struct RunOptions: ParsableArguments {
    @Option(help: "Work directory (default: a new one under /tmp, removed when every check passes).") var work: String?
    @Option(help: "The parleyd executable (default: beside this one).") var parleyd: String?
    @Option(help: "The parley executable (default: beside this one).") var parley: String?

    /// The executables under test.
    var executables: Executables { Executables.locate(parleyd: parleyd, parley: parley) }

    /// The work directory: the one given, or a new one.
    func workDirectory() throws -> String { try work ?? CrashTest.temporaryDirectory() }

    /// The end of a run: a passing run removes a work directory it made; a failing one keeps it
    /// (saying so, with `what` it holds) and exits 1.
    func finish(_ name: String, passed: Bool, work directory: String, holding what: String = "") throws {
        if passed {
            if work == nil { try? FileManager.default.removeItem(atPath: directory) }
        } else {
            print("\(name): the work directory \(directory) is kept\(what.isEmpty ? "" : " (\(what))")")
            throw ExitCode(1)
        }
    }
}
