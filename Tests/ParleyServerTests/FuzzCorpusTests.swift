import Foundation
import Testing

/// The fuzz corpora kept in the repository (Tests/FuzzCorpus/TARGET, minimised from tools/fuzz
/// runs) replayed through the same entries libFuzzer calls, by the normal build of `parley-fuzz`.
@Suite("Fuzz corpora")
struct FuzzCorpusTests {
    static let targets = ["framing", "json", "request", "event", "tail"]

    @Test("every kept input of each fuzz target replays without a failed invariant or a crash", arguments: targets)
    func replay(_ target: String) throws {
        let replayer = URL(fileURLWithPath: try DaemonProcess.executable()).deletingLastPathComponent().appendingPathComponent("parley-fuzz").path
        var root = URL(fileURLWithPath: #filePath)
        for _ in 0..<2 { root.deleteLastPathComponent() }
        let corpus = root.appendingPathComponent("FuzzCorpus/\(target)").path
        let inputs = try FileManager.default.contentsOfDirectory(atPath: corpus).count
        #expect(inputs > 0, "no kept inputs for \(target)")
        let run = try runTool(replayer, [target, corpus])
        #expect(run.status == 0, "\(run.output.suffix(2000))")
        #expect(run.output.contains("replayed \(inputs) inputs without a failure"), "\(run.output.suffix(500))")
    }
}
