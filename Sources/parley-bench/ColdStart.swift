import Foundation

/// Cold start: launches `parleyd` on a data directory and times process start → first answered
/// request (`server.info`), then reads its RssAnon idle and stops it with SIGTERM.
struct ColdStart {
    var parleyd: String
    var data: String
    var socket: String

    func run() throws(BenchError) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: parleyd)
        process.arguments = ["--data", data, "--socket", socket, "--log-level", "error"]
        let start = monotonicNanos()
        do { try process.run() } catch { throw .unexpected("cannot start \(parleyd): \(error)") }
        defer {
            if process.isRunning {
                process.terminate()
                process.waitUntilExit()
            }
        }
        let deadline = start + 120_000_000_000
        var answered = false
        while !answered {
            guard process.isRunning else { throw .unexpected("parleyd exited with status \(process.terminationStatus)") }
            if monotonicNanos() > deadline { throw .timeout("parleyd did not answer") }
            let poller = try Poller()
            guard let c = try? poller.connect(path: socket) else {
                usleep(500)
                continue
            }
            c.onLine = { line in
                if case .answer(_, let ok) = Line.parse(line), ok { answered = true }
            }
            poller.send(c, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"server.info\"}")
            try poller.run(until: { answered || poller.closedCount > 0 }, deadline: deadline, what: "server.info")
        }
        let end = monotonicNanos()
        let rss = residentAnonymousKB(pid: process.processIdentifier) ?? 0
        printResult(kind: "coldstart", [("seconds", .double(seconds(from: start, to: end))), ("rssAnonKB", .int(rss))])
    }
}
