public import ParleyCore

/// An error answer: the JSON-RPC `code`, a stable machine `type` (in `error.data.type`),
/// a sentence for a person, and whether retrying the same request may succeed.
public struct ProtocolError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The JSON-RPC error code.
    public var code: Int
    /// The stable machine code, e.g. `UnknownParam` or a domain code like `AgentLoggedOut`.
    public var type: String
    /// What went wrong, for a person.
    public var message: String
    /// Whether the same request may succeed later.
    public var retryable: Bool
    /// The parameter at fault, when one is.
    public var field: String?
    /// Whether the server closes the connection after sending this error.
    public var closesConnection: Bool

    /// Creates an error.
    public init(code: Int, type: String, message: String, retryable: Bool = false, field: String? = nil, closesConnection: Bool = false) {
        self.code = code
        self.type = type
        self.message = message
        self.retryable = retryable
        self.field = field
        self.closesConnection = closesConnection
    }

    /// `type: message`.
    public var description: String { "\(type): \(message)" }

    // MARK: JSON-RPC's own errors

    /// The line is not valid JSON.
    public static func parseError(_ detail: String) -> ProtocolError {
        ProtocolError(code: -32700, type: "ParseError", message: "The line is not valid JSON: \(detail)")
    }

    /// The line is not valid UTF-8.
    public static let invalidUTF8 = ProtocolError(code: -32700, type: "InvalidUtf8", message: "The line is not valid UTF-8.")

    /// The JSON nests deeper than allowed.
    public static func nestingTooDeep(_ limit: Int) -> ProtocolError {
        ProtocolError(code: -32700, type: "NestingTooDeep", message: "The JSON nests deeper than \(limit) levels.")
    }

    /// The line is longer than allowed; the connection is closed.
    public static func lineTooLong(_ limit: Int) -> ProtocolError {
        ProtocolError(
            code: -32600, type: "LineTooLong", message: "The line is longer than \(limit) bytes; the connection will be closed.",
            closesConnection: true
        )
    }

    /// The JSON is not a request object.
    public static func invalidRequest(_ detail: String) -> ProtocolError {
        ProtocolError(code: -32600, type: "InvalidRequest", message: "Invalid request: \(detail).")
    }

    /// A JSON array: batches are not supported.
    public static let batchNotSupported = ProtocolError(
        code: -32600, type: "BatchNotSupported", message: "Batches are not supported; send one request object per line."
    )

    /// No such method.
    public static func methodNotFound(_ name: String) -> ProtocolError {
        ProtocolError(code: -32601, type: "MethodNotFound", message: "There is no method \"\(name)\"; rpc.discover lists them.")
    }

    /// A parameter is missing.
    public static func missingParam(_ field: String) -> ProtocolError {
        ProtocolError(code: -32602, type: "MissingParam", message: "The parameter \"\(field)\" is required.", field: field)
    }

    /// A parameter has the wrong JSON type.
    public static func wrongType(_ field: String, expected: String, found: String) -> ProtocolError {
        ProtocolError(
            code: -32602, type: "WrongType", message: "The parameter \"\(field)\" must be \(expected), not \(found).", field: field
        )
    }

    /// A parameter the method does not take.
    public static func unknownParam(_ field: String) -> ProtocolError {
        ProtocolError(code: -32602, type: "UnknownParam", message: "The parameter \"\(field)\" is not known to this method.", field: field)
    }

    /// A parameter of the right JSON type whose value the method does not accept (outside its
    /// enum, out of range, negative, a malformed id): `InvalidArgument` (-32001) naming the
    /// field, the same answer the domain gives for an empty, over-long or malformed value.
    /// -32602 is only for the shape of the params (missing, unknown, wrong JSON type).
    public static func invalidArgument(_ field: String, _ reason: String) -> ProtocolError {
        rejected(.invalidArgument(field: field, reason: reason))
    }

    /// Formerly `InvalidParam` (-32602); a value the method does not accept is now `InvalidArgument`.
    @available(*, deprecated, renamed: "invalidArgument")
    public static func invalidParam(_ field: String, _ reason: String) -> ProtocolError {
        invalidArgument(field, reason)
    }

    /// Something failed inside the server.
    public static func internalError(_ detail: String) -> ProtocolError {
        ProtocolError(code: -32603, type: "InternalError", message: "Internal error: \(detail).", retryable: true)
    }

    // MARK: Parley's errors

    /// The domain refused the command; nothing was appended. `field` names the parameter of
    /// an `InvalidArgument` or `InvalidNumber`.
    public static func rejected(_ rejection: Rejection) -> ProtocolError {
        let field: String?
        switch rejection {
        case .invalidArgument(let name, _), .invalidNumber(let name, _): field = name
        default: field = nil
        }
        return ProtocolError(code: -32001, type: rejection.code, message: rejection.message, field: field)
    }

    /// The caller's role may not call the method.
    public static func permissionDenied(method: String, roles: [Role]) -> ProtocolError {
        let held = roles.isEmpty ? "no role" : "roles " + roles.map(\.rawValue).joined(separator: ", ")
        return ProtocolError(code: -32003, type: "PermissionDenied", message: "You have \(held); \(method) is not allowed to you.")
    }

    /// The daemon is stopping.
    public static let shuttingDown = ProtocolError(
        code: -32004, type: "ShuttingDown", message: "The server is shutting down; retry against the restarted server.", retryable: true
    )

    /// Too many requests in flight on this connection.
    public static func tooManyRequests(_ limit: Int) -> ProtocolError {
        ProtocolError(
            code: -32005, type: "TooManyRequests", message: "More than \(limit) requests are in flight on this connection; wait for answers.",
            retryable: true
        )
    }

    /// A request line was started but not finished within the line timeout.
    public static func lineTimeout(milliseconds: Int) -> ProtocolError {
        let limit = milliseconds % 1000 == 0 ? "\(milliseconds / 1000) s" : "\(milliseconds) ms"
        return ProtocolError(
            code: -32600, type: "LineTimeout",
            message: "The line was not finished within \(limit) of its first byte; the connection will be closed.",
            closesConnection: true
        )
    }

    /// The store is full and may not grow.
    public static let storageFull = ProtocolError(
        code: -32006, type: "StorageFull", message: "The event store is full; nothing was written. Retry once space is freed.", retryable: true
    )

    /// Too many subscriptions on this connection.
    public static func tooManySubscriptions(_ limit: Int) -> ProtocolError {
        ProtocolError(code: -32007, type: "TooManySubscriptions", message: "A connection may hold at most \(limit) subscriptions.")
    }

    /// No such subscription on this connection.
    public static func unknownSubscription(_ id: String) -> ProtocolError {
        ProtocolError(code: -32008, type: "UnknownSubscription", message: "There is no subscription \"\(id)\" on this connection.", field: "subscription")
    }

    /// The protocol version asked for is not spoken.
    public static func unsupportedVersion(_ asked: [Int64]) -> ProtocolError {
        ProtocolError(
            code: -32009, type: "UnsupportedVersion",
            message: "None of the versions \(asked) is supported; this server speaks version \(ProtocolInfo.version).", field: "versions"
        )
    }
}

/// The protocol's name, version and server version.
public enum ProtocolInfo {
    /// Protocol name in the greeting.
    public static let name = "parley"
    /// The protocol version this build speaks.
    public static let version: Int64 = 1
    /// The server's version.
    public static let serverVersion = "0.1.0"
}
