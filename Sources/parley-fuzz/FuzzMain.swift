#if canImport(Glibc)
import Glibc
#endif

#if PARLEY_FUZZ
import CLibFuzzer

/// libFuzzer's entry: one input.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    FuzzInput.run(UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : size))
    return 0
}

/// The fuzz build (`-sanitize=fuzzer -DPARLEY_FUZZ`): SwiftPM gives an executable its own entry
/// point, so this `main` hands control to libFuzzer's driver with the command line.
@main
struct FuzzMain {
    static func main() {
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv) { fuzzOneInput($0, $1) })
    }
}
#else
import Foundation

/// The normal build: replays inputs (files, or every file in directories) through the same
/// entry as the fuzzer, e.g. a seed corpus or a crash reproducer.
@main
struct CorpusReplayer {
    static func main() {
        let paths = CommandLine.arguments.dropFirst()
        guard !paths.isEmpty else {
            print("usage: parley-fuzz FILE|DIR… (the fuzz build: tools/fuzz)")
            exit(2)
        }
        var count = 0
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                print("parley-fuzz: no such file: \(path)")
                exit(2)
            }
            let files = isDirectory.boolValue
                ? ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted().map { path + "/" + $0 } : [path]
            for file in files {
                guard let data = FileManager.default.contents(atPath: file) else { continue }
                data.withUnsafeBytes { FuzzInput.run($0) }
                count += 1
            }
        }
        print("parley-fuzz: replayed \(count) inputs without a failure")
    }
}
#endif
