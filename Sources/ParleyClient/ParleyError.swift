public import ParleyProtocol

/// An error answer from `parleyd`: the `error` member of the answer line, typed.
public struct RemoteError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The JSON-RPC code (-32001 for every domain rejection).
    public var code: Int64
    /// The stable machine code to switch on (`UnknownAgent`, `TooManyRequests`, …).
    public var type: String
    /// The sentence for a person.
    public var message: String
    /// Whether the same request may succeed later.
    public var retryable: Bool
    /// The parameter at fault, when there is one (`customerNumber`, `call.serviceId`).
    public var field: String?
    /// The whole `data` member as sent.
    public var data: JSONValue
    /// The whole `error` member as sent.
    public var object: JSONValue

    /// Reads an answer's `error` member; a malformed one still gives a readable error.
    public init(_ error: JSONValue) {
        object = error
        code = error["code"]?.int64 ?? 0
        message = error["message"]?.string ?? "(no message)"
        data = error["data"] ?? .object([:])
        type = data["type"]?.string ?? "Error"
        retryable = data["retryable"]?.bool ?? false
        field = data["field"]?.string
    }

    /// `Type: message`.
    public var description: String { "\(type): \(message)" }
}

/// Why a call on a ``ParleyConnection`` or a ``ParleyClient`` failed.
public enum ParleyError: Error, Sendable, CustomStringConvertible {
    /// The socket could not be reached; `reason` says why.
    case connect(path: String, reason: String)
    /// The server answered with an error (a refusal or a bad request).
    case remote(RemoteError)
    /// The connection ended before the answer came (the request may or may not have been
    /// applied: retry a command with the same idempotency key).
    case connectionLost(String)
    /// The server sent something that is not the protocol.
    case protocolViolation(String)
    /// No answer (or no greeting) within the timeout.
    case timeout(Duration)
    /// A request longer than the server's `limits.maxLineBytes`; nothing was sent.
    case requestTooLarge(bytes: Int, limit: Int)
    /// A subscription's reader fell further behind than its buffer; delivery stopped after
    /// `after`, the last position handed to the reader. Subscribe again with that `after`.
    case fellBehind(after: UInt64)
    /// The client was closed.
    case closed

    /// The server's refusal, if this is one.
    public var remote: RemoteError? {
        if case .remote(let error) = self { return error }
        return nil
    }

    public var description: String {
        switch self {
        case .connect(let path, let reason):
            "cannot connect to \(path): \(reason). Is parleyd running? Start it with `make run`, or `parleyd --socket \(path)`."
        case .remote(let error): error.description
        case .connectionLost(let detail): "the connection to parleyd was lost: \(detail)"
        case .protocolViolation(let detail): "parleyd sent something that is not the protocol: \(detail)"
        case .timeout(let duration): "no answer from parleyd within \(duration)"
        case .requestTooLarge(let bytes, let limit):
            "the request is \(bytes) bytes, longer than the server's limit of \(limit)"
        case .fellBehind(let after): "the subscriber fell behind; resume after position \(after)"
        case .closed: "the client is closed"
        }
    }
}
