#if canImport(Glibc)
import Glibc
#endif
import Foundation

#if PARLEY_FUZZ
import CLibFuzzer

/// The target of this run, from `PARLEY_FUZZ_TARGET` (tools/fuzz sets it).
let fuzzTarget: FuzzTarget = {
    let name = ProcessInfo.processInfo.environment["PARLEY_FUZZ_TARGET"] ?? ""
    guard let target = FuzzTarget(rawValue: name) else {
        FileHandle.standardError.write(Data(
            "parley-fuzz: set PARLEY_FUZZ_TARGET to one of \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", "))\n".utf8))
        exit(2)
    }
    return target
}()

/// libFuzzer's entry: one input.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    fuzzTarget.run(UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : size))
    return 0
}

/// The fuzz build (`-sanitize=fuzzer -DPARLEY_FUZZ`): SwiftPM gives an executable its own entry
/// point, so this `main` hands control to libFuzzer's driver with the command line.
@main
struct FuzzMain {
    static func main() {
        _ = fuzzTarget
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv) { fuzzOneInput($0, $1) })
    }
}
#else

/// The normal build: replays inputs (files, or every file in directories) through a target's
/// entry, e.g. the corpora in Tests/FuzzCorpus or a crash reproducer.
@main
struct CorpusReplayer {
    static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        if arguments.first == "--seeds", arguments.count == 2 {
            writeSeeds(into: arguments[1])
            return
        }
        guard let name = arguments.first, let target = FuzzTarget(rawValue: name), arguments.count > 1 else {
            print("usage: parley-fuzz TARGET FILE|DIR… (targets: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")); the fuzz build: tools/fuzz)")
            exit(2)
        }
        var count = 0
        for path in arguments.dropFirst() {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                print("parley-fuzz: no such file: \(path)")
                exit(2)
            }
            let files = isDirectory.boolValue
                ? ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted().map { path + "/" + $0 } : [path]
            for file in files {
                guard let data = FileManager.default.contents(atPath: file) else { continue }
                data.withUnsafeBytes { target.run($0) }
                count += 1
            }
        }
        print("parley-fuzz: \(target.rawValue): replayed \(count) inputs without a failure")
    }

    /// `--seeds DIR`: first inputs for the binary targets, from the small log the tail target
    /// builds: DIR/event (each stored event) and DIR/tail (each way of mutating the tail).
    static func writeSeeds(into directory: String) {
        for target in ["event", "tail"] {
            try? FileManager.default.createDirectory(atPath: directory + "/" + target, withIntermediateDirectories: true)
        }
        for (index, value) in TailFuzz.shared.events.enumerated() {
            FileManager.default.createFile(atPath: directory + "/event/\(index)", contents: Data(value))
            let control = UInt8(truncatingIfNeeded: index * 8 + index % 8)
            FileManager.default.createFile(atPath: directory + "/tail/\(index)", contents: Data([control] + value.prefix(64)))
        }
        print("parley-fuzz: seeds for event and tail in \(directory)")
    }
}
#endif
