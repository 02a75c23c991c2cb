import Logging
import NIOConcurrencyHelpers
import ParleyCore
import ParleyProtocol

/// A JSON-RPC client over an ``InProcessConnection``, for the daemon's built-in parts that
/// speak the protocol as any client would (the carrier simulator): requests with their own
/// ids, answers matched to them, and the params of `events.event` notifications as a stream.
final class InProcessRPC: Sendable {
    /// An answer to one request.
    enum Answer: Sendable {
        case result(JSONValue)
        /// A refusal: `error.data.type`, whether to retry, and its sentence.
        case error(type: String, retryable: Bool, message: String)
        /// The connection closed before an answer came.
        case closed
    }

    private struct State {
        var nextId: Int64 = 0
        var waiting: [Int64: CheckedContinuation<Answer, Never>] = [:]
        var closed = false
        var replies: UInt64 = 0
    }

    /// A subscription notification.
    enum Notification: Sendable {
        /// The params of an `events.event`.
        case event(JSONValue)
        /// An `events.end`: why, and where to resume.
        case end(reason: String, resumeAfter: UInt64)
    }

    /// Every `events.event` and `events.end`, in order; the stream ends with the connection.
    let events: AsyncStream<Notification>
    private let eventsContinuation: AsyncStream<Notification>.Continuation
    private let connection: InProcessConnection
    private let state = NIOLockedValueBox(State())
    private let encoder = CompactJSONEncoder()

    /// Creates a client; ``dispatch()`` must run for answers to arrive.
    init(_ connection: InProcessConnection) {
        self.connection = connection
        (events, eventsContinuation) = AsyncStream.makeStream(of: Notification.self)
    }

    /// Reads the server's lines until the connection closes, handing each answer to its caller.
    func dispatch() async {
        for await line in connection.output {
            guard let message = try? JSONParser.parse(Array(line.utf8)) else { continue }
            if let method = message["method"]?.string {
                if method == "events.event", let params = message["params"] { eventsContinuation.yield(.event(params)) }
                if method == "events.end" {
                    let params = message["params"]
                    eventsContinuation.yield(
                        .end(
                            reason: params?["reason"]?.string ?? "", resumeAfter: params?["resumeAfter"]?.uint64 ?? 0
                        ))
                }
                continue
            }
            guard case .integer(let id) = message["id"] else { continue }
            let answer: Answer
            if let error = message["error"] {
                answer = .error(
                    type: error["data"]?["type"]?.string ?? "Unknown",
                    retryable: error["data"]?["retryable"] == .bool(true), message: error["message"]?.string ?? ""
                )
            } else {
                answer = .result(message["result"] ?? .null)
            }
            state.withLockedValue { $0.waiting.removeValue(forKey: id) }?.resume(returning: answer)
        }
        eventsContinuation.finish()
        let waiting = state.withLockedValue { state in
            state.closed = true
            defer { state.waiting = [:] }
            return state.waiting.values
        }
        for continuation in waiting { continuation.resume(returning: .closed) }
    }

    /// Sends a request and waits for its answer.
    func call(_ method: String, _ params: [String: JSONValue]) async -> Answer {
        let request: JSONValue = .object([
            "jsonrpc": .string("2.0"), "method": .string(method), "params": .object(params),
        ])
        return await withCheckedContinuation { continuation in
            let id: Int64? = state.withLockedValue { state in
                guard !state.closed else { return nil }
                state.nextId += 1
                state.waiting[state.nextId] = continuation
                return state.nextId
            }
            guard let id, case .object(var fields) = request else { return continuation.resume(returning: .closed) }
            fields["id"] = .integer(id)
            guard let line = try? encoder.encode(JSONValue.object(fields)) else {
                state.withLockedValue { $0.waiting.removeValue(forKey: id) }?.resume(returning: .closed)
                return
            }
            connection.send(line)
        }
    }

    /// Sends a request, retrying a retryable refusal (the store is full, the writer busy) with
    /// backoff from 0.1 s to 5 s. Returns the result, or nil when refused for good (logged) or closed.
    func callRetrying(
        _ method: String, _ params: [String: JSONValue], logger: Logger, quiet: Set<String> = []
    ) async -> JSONValue? {
        var backoff = Duration.milliseconds(100)
        while true {
            switch await call(method, params) {
            case .result(let result): return result
            case .closed: return nil
            case .error(let type, let retryable, let message):
                guard retryable else {
                    if quiet.contains(type) { return nil }
                    logger.warning(
                        "carrier simulator request refused",
                        metadata: [
                            "method": "\(method)", "error.type": "\(type)", "error.message": "\(message)",
                        ])
                    return nil
                }
                logger.info("carrier simulator retrying", metadata: ["method": "\(method)", "error.type": "\(type)"])
                guard (try? await Task.sleep(for: backoff)) != nil else { return nil }
                backoff = min(backoff * 2, .seconds(5))
            }
        }
    }

    /// A counter for cycling through scripted replies.
    func nextReply() -> UInt64 {
        state.withLockedValue { state in
            defer { state.replies += 1 }
            return state.replies
        }
    }
}
