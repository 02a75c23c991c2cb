import ArgumentParser
import Foundation
import ParleyClient

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Options every client subcommand shares: where the daemon listens and how long to wait.
struct ClientSocketOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "The daemon's Unix socket (default: $PARLEY_SOCKET, else ./data/parleyd.sock).", valueName: "path"
        )
    )
    var socket: String?

    @Option(name: .long, help: ArgumentHelp("Seconds to wait for each answer; 0 waits forever.", valueName: "seconds"))
    var timeout: Double = 30

    /// The socket path to use.
    var path: String {
        if let socket, !socket.isEmpty { return socket }
        if let env = ProcessInfo.processInfo.environment["PARLEY_SOCKET"], !env.isEmpty { return env }
        return "./data/parleyd.sock"
    }

    func validate() throws {
        guard timeout >= 0, timeout.isFinite else { throw ValidationError("--timeout must be a number of seconds, 0 or more.") }
    }

    /// Connects, runs `body`, and turns failures into the client's exit codes: a remote
    /// error prints `error: TYPE: message` and exits 1; a connection failure prints its
    /// reason and exits 2.
    func run(_ body: (ClientConnection) throws -> Void) throws {
        do {
            let connection = try ClientConnection(path: path, timeout: timeout > 0 ? timeout : nil)
            defer { connection.close() }
            try body(connection)
        } catch let error as ClientError {
            ClientOut.err("error: \(error)")
            if case .remote = error { throw ExitCode(1) }
            throw ExitCode(2)
        }
    }
}

/// The shared options plus `--json`.
struct ClientOptions: ParsableArguments {
    @OptionGroup var connection: ClientSocketOptions

    @Flag(name: .long, help: "Print the raw result as one compact JSON line instead of text.")
    var json = false

    /// Connects and runs `body` (see ``ClientSocketOptions/run(_:)``).
    func run(_ body: (ClientConnection) throws -> Void) throws { try connection.run(body) }

    /// Prints `result` as JSON with `--json`, else the lines `human` makes of it.
    func print(_ result: [String: Any], _ human: ([String: Any]) -> [String]) {
        if json {
            ClientOut.out(ClientJSON.compact(result))
        } else {
            for line in human(result) { ClientOut.out(line) }
        }
    }
}

/// Unbuffered output, so lines reach pipes at once and stdout and stderr never reorder.
enum ClientOut {
    /// Writes `line` and a newline to stdout.
    static func out(_ line: String) { ClientSys.write(line + "\n", to: 1) }
    /// Writes `line` and a newline to stderr.
    static func err(_ line: String) { ClientSys.write(line + "\n", to: 2) }
}

/// Formatting helpers for the human output.
enum ClientFormat {
    /// `HH:mm:ss` in UTC of a millisecond Unix timestamp.
    static func time(_ milliseconds: Int?) -> String {
        guard let milliseconds else { return "--:--:--" }
        let seconds = Int((Double(milliseconds) / 1000).rounded(.down))
        let day = ((seconds % 86_400) + 86_400) % 86_400
        return String(format: "%02d:%02d:%02d", day / 3600, day % 3600 / 60, day % 60)
    }

    /// `1 segment`, `2 segments`.
    static func count(_ n: Int, _ singular: String, _ plural: String? = nil) -> String {
        "\(n) \(n == 1 ? singular : plural ?? singular + "s")"
    }

    /// Seconds without a trailing `.0`.
    static func seconds(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(value)
    }

    /// ` (replayed …)` when a command's answer is an idempotent replay, ` (nothing changed)` when
    /// the command appended no event (a repeated login or accept, say).
    static func replayed(_ result: [String: Any]) -> String {
        if ClientJSON.bool(result["replayed"]) == true { return " (replayed: an earlier command with this key)" }
        if let events = result["events"] as? [Any], events.isEmpty { return " (nothing changed)" }
        return ""
    }

    /// One transcript line:
    /// `HH:mm:ss → FROM to TO [status] text [+N attachments: names]` (outbound) or
    /// `HH:mm:ss ← FROM to TO text …` (inbound), after `prefix`. Later lines of a multi-line text are
    /// indented to start under the arrow.
    static func message(_ m: [String: Any], prefix: String = "") -> String {
        let indent = String(repeating: " ", count: prefix.count + 9)
        let inbound = ClientJSON.string(m["direction"]) == "inbound"
        var line = time(ClientJSON.int(m["timestamp"])) + (inbound ? " ← " : " → ")
        line += (ClientJSON.string(m["from"]) ?? "?") + " to " + (ClientJSON.string(m["to"]) ?? "?")
        if !inbound {
            var status = ClientJSON.string(m["status"]) ?? "queued"
            if let detail = ClientJSON.string(m["statusDetail"]), !detail.isEmpty { status += ": " + detail }
            line += " [\(status)]"
        }
        let text = ClientJSON.string(m["text"]) ?? ""
        if !text.isEmpty {
            line += " " + text.split(separator: "\n", omittingEmptySubsequences: false)
                .joined(separator: "\n" + indent)
        }
        let attachments = ClientJSON.objects(m["attachments"])
        if !attachments.isEmpty {
            let names = attachments.map { ClientJSON.string($0["name"]) ?? "?" }.joined(separator: ", ")
            line += " [+\(count(attachments.count, "attachment")): \(names)]"
        }
        return prefix + line
    }
}
