import ArgumentParser
import Foundation
import ParleyClient
import ParleyProtocol

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

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Seconds to wait for the connection and each answer; 0 waits forever for answers (an hour for the connection).",
            valueName: "seconds"))
    var timeout: Double = 30

    /// The socket path to use.
    var path: String {
        if let socket, !socket.isEmpty { return socket }
        if let env = ProcessInfo.processInfo.environment["PARLEY_SOCKET"], !env.isEmpty { return env }
        return "./data/parleyd.sock"
    }

    func validate() throws {
        guard timeout >= 0, timeout.isFinite else {
            throw ValidationError("--timeout must be a number of seconds, 0 or more.")
        }
    }

    /// How long to wait for each answer; nil waits forever.
    var answerTimeout: Duration? { timeout > 0 ? .milliseconds(Int64((timeout * 1000).rounded(.up))) : nil }

    /// Connects with the client library, runs `body`, and turns failures into the client's exit
    /// codes: a refusal prints `error: TYPE: message` and exits 1; a connection failure prints its
    /// reason and exits 2.
    func run(_ body: (DaemonSession) async throws -> Void) async throws {
        do {
            // Connecting and the greeting take the answer timeout too; "forever" still gives up
            // on a daemon that accepts and never greets after an hour.
            let connection: ParleyConnection
            do {
                connection = try await ParleyConnection.connect(path: path, timeout: answerTimeout ?? .seconds(3600))
            } catch {
                // Refused at the door (TooManyConnections): not reached, so 2, as for no daemon.
                guard let refusal = error.remote else { throw error }
                ClientOut.err("error: \(refusal)")
                throw ExitCode(2)
            }
            do {
                try await body(DaemonSession(connection: connection, timeout: answerTimeout))
            } catch {
                await connection.close()
                throw error
            }
            await connection.close()
        } catch let error as ParleyError {
            switch error {
            case .remote:
                ClientOut.err("error: \(error)")
                throw ExitCode(1)
            case .connect:
                ClientOut.err("error: \(error) Choose another socket with --socket or PARLEY_SOCKET.")
            case .timeout:
                ClientOut.err("error: no answer from parleyd within \(ClientFormat.seconds(timeout)) s (see --timeout)")
            default:
                ClientOut.err("error: \(error)")
            }
            throw ExitCode(2)
        }
    }
}

/// One connection to the daemon as a subcommand uses it: every call waits at most `--timeout`.
struct DaemonSession {
    let connection: ParleyConnection
    let timeout: Duration?

    /// Calls `method` and returns its result.
    @discardableResult
    func call(_ method: String, _ params: [String: JSONValue] = [:]) async throws(ParleyError) -> JSONValue {
        try await connection.call(method, params, timeout: timeout)
    }
}

/// The shared options plus `--json`.
struct ClientOptions: ParsableArguments {
    @OptionGroup var connection: ClientSocketOptions

    @Flag(name: .long, help: "Print the raw result as one compact JSON line instead of text.")
    var json = false

    /// Connects and runs `body` (see ``ClientSocketOptions/run(_:)``).
    func run(_ body: (DaemonSession) async throws -> Void) async throws { try await connection.run(body) }

    /// Prints `result` as JSON with `--json`, else the lines `human` makes of it.
    func print(_ result: JSONValue, _ human: (JSONValue) -> [String]) {
        if json {
            ClientOut.out(result.jsonText)
        } else {
            for line in human(result) { ClientOut.out(line) }
        }
    }
}

/// Unbuffered output, so lines reach pipes at once and stdout and stderr never reorder.
enum ClientOut {
    /// Writes `line` and a newline to stdout.
    static func out(_ line: String) { write(line + "\n", to: 1) }
    /// Writes `line` and a newline to stderr.
    static func err(_ line: String) { write(line + "\n", to: 2) }

    /// Writes all of `text` with write(2). When the reader has gone (`parley tail | head`), the
    /// process ends as a pipeline expects, by SIGPIPE (the event loop ignores the signal, so it
    /// is restored first).
    private static func write(_ text: String, to fd: Int32) {
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeMutableBytes { raw in
                #if canImport(Glibc)
                    Glibc.write(fd, raw.baseAddress.map { $0 + offset }, raw.count - offset)
                #elseif canImport(Musl)
                    Musl.write(fd, raw.baseAddress.map { $0 + offset }, raw.count - offset)
                #else
                    Darwin.write(fd, raw.baseAddress.map { $0 + offset }, raw.count - offset)
                #endif
            }
            if n < 0 {
                if errno == EINTR { continue }
                if errno == EPIPE {
                    signal(SIGPIPE, SIG_DFL)
                    raise(SIGPIPE)
                }
                return
            }
            offset += n
        }
    }
}

/// Reading the fields of a result for the human output.
extension JSONValue {
    /// The member's text, or `fallback`.
    func text(_ key: String, _ fallback: String = "?") -> String { self[key]?.string ?? fallback }

    /// The member's elements (an empty list for anything else).
    func list(_ key: String) -> [JSONValue] { self[key]?.array ?? [] }
}

/// Formatting helpers for the human output.
enum ClientFormat {
    /// `HH:mm:ss` in UTC of a millisecond Unix timestamp.
    static func time(_ milliseconds: Int64?) -> String {
        guard let milliseconds else { return "--:--:--" }
        let seconds = Int((Double(milliseconds) / 1000).rounded(.down))
        let day = ((seconds % 86_400) + 86_400) % 86_400
        return String(format: "%02d:%02d:%02d", day / 3600, day % 3600 / 60, day % 60)
    }

    /// `1 segment`, `2 segments`.
    static func count(_ n: some BinaryInteger, _ singular: String, _ plural: String? = nil) -> String {
        "\(n) \(n == 1 ? singular : plural ?? singular + "s")"
    }

    /// Seconds without a trailing `.0`.
    static func seconds(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(value)
    }

    /// ` (replayed …)` when a command's answer is an idempotent replay, ` (nothing changed)` when
    /// the command appended no event (a repeated login or accept, say).
    static func replayed(_ result: JSONValue) -> String {
        if result["replayed"]?.bool == true { return " (replayed: an earlier command with this key)" }
        if let events = result["events"]?.array, events.isEmpty { return " (nothing changed)" }
        return ""
    }

    /// One transcript line:
    /// `HH:mm:ss → FROM to TO [status] text [+N attachments: names]` (outbound) or
    /// `HH:mm:ss ← FROM to TO text …` (inbound), after `prefix`. Later lines of a multi-line text are
    /// indented to start under the arrow.
    static func message(_ m: JSONValue, prefix: String = "") -> String {
        let indent = String(repeating: " ", count: prefix.count + 9)
        let inbound = m["direction"]?.string == "inbound"
        var line = time(m["timestamp"]?.int64) + (inbound ? " ← " : " → ")
        line += m.text("from") + " to " + m.text("to")
        if !inbound {
            var status = m.text("status", "queued")
            if let detail = m["statusDetail"]?.string, !detail.isEmpty { status += ": " + detail }
            line += " [\(status)]"
        }
        let text = m.text("text", "")
        if !text.isEmpty {
            line +=
                " "
                + text.split(separator: "\n", omittingEmptySubsequences: false)
                .joined(separator: "\n" + indent)
        }
        let attachments = m.list("attachments")
        if !attachments.isEmpty {
            let names = attachments.map { $0.text("name") }.joined(separator: ", ")
            line += " [+\(count(attachments.count, "attachment")): \(names)]"
        }
        return prefix + line
    }
}
