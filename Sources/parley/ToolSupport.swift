import ArgumentParser
import Foundation
import ParleyStore

/// Options shared by the offline tools.
struct DataOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The data directory.", valueName: "dir"))
    var data = "./data"

    @Flag(name: .long, help: "Print one JSON object instead of text.")
    var json = false

    func validate() throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: DataDirectory(data).log, isDirectory: &isDirectory), !isDirectory.boolValue else {
            throw ValidationError("\(data) is not a Parley data directory (no \(Engine.logFile) in it)")
        }
    }
}

/// A usage or I/O failure of a tool: printed on stderr, exit status 2.
struct ToolFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Runs an offline tool's body in a child process (see ``Containment``): a damaged file met
/// (a store error saying so, or a crash of the reading process) is exit status 1 with a message,
/// any other store or I/O error exit status 2.
func runTool(_ body: () throws -> Void) throws {
    let tool = CommandLine.arguments.dropFirst().prefix { !$0.hasPrefix("-") }.joined(separator: " ")
    Containment.enter(tool)
    do {
        try body()
    } catch let exit as ExitCode {
        throw exit
    } catch let failure as ToolFailure {
        FileHandle.standardError.write(Data("parley: \(failure.description)\n".utf8))
        throw ExitCode(2)
    } catch where StoreError.isDamage(error) {
        FileHandle.standardError.write(Data("parley: \(tool): the data directory is damaged: \(error)\n".utf8))
        throw ExitCode(1)
    } catch {
        FileHandle.standardError.write(Data("parley: \(error)\n".utf8))
        throw ExitCode(2)
    }
}

/// A progress line on stderr, only when stderr is a terminal.
final class ProgressLine {
    private let label: String
    private let total: UInt64
    private let enabled = isatty(2) == 1
    private var last = ContinuousClock.now

    init(_ label: String, total: UInt64) {
        self.label = label
        self.total = total
    }

    func update(_ done: UInt64) {
        guard enabled, ContinuousClock.now - last > .milliseconds(100) else { return }
        last = .now
        let percent = total == 0 ? 100 : Int(done * 100 / total)
        let width = 30
        let filled = width * percent / 100
        let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
        FileHandle.standardError.write(Data("\r\(label) \(bar) \(percent)% (\(done)/\(total))".utf8))
    }

    func finish() {
        guard enabled else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }
}

/// Prints an encodable value as one compact JSON line.
func printJSON(_ value: some Encodable) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

extension Duration {
    /// The duration in seconds.
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }

    /// Events per second for `count` events in this duration.
    func rate(_ count: Int) -> Int { seconds > 0 ? Int(Double(count) / seconds) : 0 }
}
